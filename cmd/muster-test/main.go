// Command muster-test runs YAML BDD scenarios against OAuth-protected MCP aggregators.
//
// One binary carries every role the runner needs on a fresh machine: the scenario runner
// itself, the stdio mock MCP server that a SUT launches as a child, the standalone mock IdP
// and the reference SUT. main only dispatches; each role lives in its own package. The
// roles a scenario starts as child processes are also in the slim muster-test-child, which
// the runner prefers when it is installed beside this binary (see internal/child).
package main

import (
	"os"

	"github.com/muster-test/muster-test/internal/child"
)

func main() {
	os.Exit(dispatch(os.Args[1:]))
}

func dispatch(args []string) int {
	if code, ok := child.Main(args); ok {
		return code
	}
	if len(args) > 0 {
		switch args[0] {
		case "mock-idp":
			return runMockIDP(args[1:])
		case "client":
			return runClient(args[1:])
		case "reference-server":
			return runReferenceServer(args[1:])
		}
	}
	return runCLI(args)
}
