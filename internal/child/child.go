// Package child runs the roles in which muster-test is started as a child process of a
// scenario: the reference SUT, which the runner starts, the stdio mock MCP server, which
// the SUT starts, and the reference server of direct-mode scenarios that trust an IdP by
// URL. muster-test and the slim muster-test-child binary both dispatch to Main, so a
// child behaves the same whichever of the two runs it.
//
// The slim binary exists for its start cost. Every scenario starts one SUT process and one
// process per stdio mock, and a Go process runs the package init of everything linked into
// it: muster-test links the runner, fosite and its telemetry stack, muster-test-child only
// this package. It must therefore import nothing but its roles (see deps_test.go).
package child

import (
	"context"
	"os"
	"os/signal"
	"slices"
	"syscall"

	// Both binaries that run a child start with a resident heap (see the package).
	_ "github.com/muster-test/muster-test/internal/prefault"
	"github.com/muster-test/muster-test/internal/spare"
	"github.com/muster-test/muster-test/mocks/mcpserver"
	"github.com/muster-test/muster-test/refserver"
	"github.com/muster-test/muster-test/refsut"
)

// Main runs args if they name a child role and reports whether they did:
//
//	[test] --mock-mcp-server --mock-config FILE [--debug]   the stdio mock MCP server
//	reference-sut serve --config-path DIR [flags]            the reference SUT
//	reference-server serve --issuer URL [flags]              the reference server
//	spare                                                    one of these, named later (package spare)
//
// The reference server's --with-as needs the mock IdP, which this package does not link:
// muster-test runs that command itself before it asks Main (see Serves).
func Main(args []string) (code int, ok bool) {
	if spare.IsSpare(args) {
		return spare.Await(Main), true
	}
	var run func() int
	switch {
	// muster's own runner puts `test` in front, so the flag is recognised anywhere.
	case slices.Contains(args, "--mock-mcp-server"):
		run = func() int { return runMockMCPServer(args) }
	case len(args) > 0 && args[0] == "reference-sut":
		run = func() int { return refsut.Main(args[1:]) }
	case len(args) > 0 && args[0] == refServer:
		run = func() int { return refserver.Main(args[1:], os.Stdout, os.Stderr, nil) }
	default:
		return 0, false
	}
	dropOwnProcs()
	return run(), true
}

const refServer = "reference-server"

// OwnProcsVar, set beside GOMAXPROCS in a child's environment, says that the runner set
// that GOMAXPROCS for the child alone (one P for a scenario's SUT, see the runner's
// sutEnv). Main drops both once the runtime has read them, so that the programs the child
// starts (the reference SUT's stdio servers, a user's among them) get the runner's
// environment as it was. The reference server that muster-test runs itself (--with-as)
// starts no programs.
const OwnProcsVar = "MUSTER_TEST_OWN_GOMAXPROCS"

// dropOwnProcs removes a GOMAXPROCS the runner set for this process alone from its
// environment (see OwnProcsVar); one set for the runner itself stays.
func dropOwnProcs() {
	if os.Getenv(OwnProcsVar) == "" {
		return
	}
	_ = os.Unsetenv("GOMAXPROCS")
	_ = os.Unsetenv(OwnProcsVar)
}

// Serves reports whether the slim binary runs the command line args (after the binary) as
// muster-test does: every role of Main, the reference server unless it mounts an IdP
// (--with-as, read with the server's own flag parser).
func Serves(args []string) bool {
	switch {
	case slices.Contains(args, "--mock-mcp-server"), len(args) > 0 && args[0] == "reference-sut":
		return true
	case len(args) > 0 && args[0] == refServer:
		return !refserver.MountsAS(args[1:])
	}
	return false
}

// runMockMCPServer ends when the SUT closes its stdin or sends SIGINT/SIGTERM.
func runMockMCPServer(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return mcpserver.RunCommand(ctx, args, os.Stdin, os.Stdout, os.Stderr)
}
