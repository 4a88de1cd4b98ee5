package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// runMockMCPServer is the stdio mock MCP server a SUT launches as a child:
// `muster-test [test] --mock-mcp-server --mock-config FILE`. It ends when the SUT closes
// its stdin or sends SIGINT/SIGTERM.
func runMockMCPServer(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return mcpserver.RunCommand(ctx, args, os.Stdin, os.Stdout, os.Stderr)
}
