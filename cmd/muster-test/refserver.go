package main

import (
	"os"

	"github.com/muster-test/muster-test/refserver"
)

// runReferenceServer runs `muster-test reference-server serve ...`, the built-in OAuth
// protected MCP server that direct-mode scenarios test.
func runReferenceServer(args []string) int {
	return refserver.Main(args, os.Stdout, os.Stderr)
}
