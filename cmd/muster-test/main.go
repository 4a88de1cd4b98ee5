// Command muster-test runs YAML BDD scenarios against OAuth-protected MCP aggregators.
//
// One binary carries every role the runner needs on a fresh machine: the scenario runner
// itself, the stdio mock MCP server that a SUT launches as a child, the standalone mock IdP
// and the reference SUT. main only dispatches; each role lives in its own package. The
// roles a scenario starts as child processes are also in the slim muster-test-child, which
// the runner prefers when it is installed beside this binary (see internal/child).
package main

import (
	"io"
	"os"

	"github.com/muster-test/muster-test/internal/child"
	"github.com/muster-test/muster-test/internal/spare"
	"github.com/muster-test/muster-test/refserver/mountidp"
)

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

// dispatch runs the command args name. The child roles (reference-sut, the stdio mock)
// write to the process's own streams: they are processes of their own. The reference
// server is not left to child.Main, which cannot mount an IdP (--with-as).
func dispatch(args []string, stdout, stderr io.Writer) int {
	// A spare of this binary (when no muster-test-child lies beside it) plays every role
	// this binary has, not only child.Main's.
	if spare.IsSpare(args) {
		return spare.Await(func(args []string) (int, bool) { return dispatch(args, stdout, stderr), true })
	}
	if len(args) > 0 && args[0] == "reference-server" {
		return mountidp.Main(args[1:], stdout, stderr)
	}
	if code, ok := child.Main(args); ok {
		return code
	}
	if len(args) > 0 {
		switch args[0] {
		case "mock-idp":
			return runMockIDP(args[1:], stdout, stderr)
		case "client":
			return runClient(args[1:], stdout, stderr)
		case "conform":
			return runConform(args[1:], stdout, stderr)
		case "load":
			return runLoad(args[1:], stdout, stderr)
		}
	}
	return runCLI(args, stdout, stderr)
}
