package main

import (
	"fmt"
	"os"
)

func runReferenceSUT(args []string) int {
	fmt.Fprintln(os.Stderr, "muster-test: not implemented yet")
	return 2
}
