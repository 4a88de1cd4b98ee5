// Command muster-test runs YAML BDD scenarios against OAuth-protected MCP aggregators.
//
// One binary carries every role the runner needs on a fresh machine: the scenario runner
// itself, the stdio mock MCP server that a SUT launches as a child, the standalone mock IdP
// and the reference SUT. main only dispatches; each role lives in its own package.
package main

import (
	"os"
	"slices"
)

func main() {
	os.Exit(dispatch(os.Args[1:]))
}

func dispatch(args []string) int {
	// A SUT launches stdio mocks as `<binary> --mock-mcp-server --mock-config FILE`; muster's
	// own runner puts `test` in front, so the flag is recognised anywhere in the arguments.
	if slices.Contains(args, "--mock-mcp-server") {
		return runMockMCPServer(args)
	}
	if len(args) > 0 {
		switch args[0] {
		case "mock-idp":
			return runMockIDP(args[1:])
		case "reference-sut":
			return runReferenceSUT(args[1:])
		case "client":
			return runClient(args[1:])
		case "reference-server":
			return runReferenceServer(args[1:])
		}
	}
	return runCLI(args)
}
