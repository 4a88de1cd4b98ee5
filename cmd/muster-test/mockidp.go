package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/muster-test/muster-test/mocks/idp/idpcmd"
)

// runMockIDP is `muster-test mock-idp --port N [--config FILE]`: one mock IdP on 127.0.0.1
// until SIGINT/SIGTERM (exit 0); 2 for bad usage or config, 1 if it cannot start.
func runMockIDP(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return idpcmd.Run(ctx, args, stdout, stderr)
}
