package main

import "github.com/muster-test/muster-test/refsut"

// runReferenceSUT runs `muster-test reference-sut serve --config-path DIR [--debug] [--fault NAME]...`,
// the built-in stand-in for `muster serve`.
func runReferenceSUT(args []string) int {
	return refsut.Main(args)
}
