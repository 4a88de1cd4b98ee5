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
	// muster's own runner puts `test` in front, so the flag is recognised anywhere.
	if slices.Contains(args, "--mock-mcp-server") {
		return runMockMCPServer(args), true
	}
	if len(args) > 0 && args[0] == "reference-sut" {
		return refsut.Main(args[1:]), true
	}
	if len(args) > 0 && args[0] == refServer {
		return refserver.Main(args[1:], os.Stdout, os.Stderr, nil), true
	}
	return 0, false
}

const refServer = "reference-server"

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
