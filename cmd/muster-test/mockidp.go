package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/mocks/idp/idpcmd"
	"github.com/muster-test/muster-test/scenario"
)

// runMockIDP is `muster-test mock-idp --port N [--config FILE]`: one mock IdP on 127.0.0.1
// until SIGINT/SIGTERM (exit 0); 2 for bad usage or config, 1 if it cannot start.
func runMockIDP(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return idpcmd.RunWith(ctx, args, stdout, stderr, func(file string, data []byte) (idp.Config, error) {
		return decodeMockIdP(file, data, stderr)
	})
}

// decodeMockIdP reads a mock-idp --config file as the loader reads a scenario's
// mock_oauth_servers entry: every problem with its file:line:col, an excerpt and a
// did-you-mean. Warnings are printed too but do not stop the IdP.
func decodeMockIdP(file string, data []byte, stderr io.Writer) (idp.Config, error) {
	cfg, diags := scenario.Loader{}.ParseMockIdP(file, data)
	var lines []string
	failed := false
	for _, d := range diags {
		lines = append(lines, d.Detail())
		failed = failed || !d.Warning
	}
	if failed {
		return cfg, errors.New("config errors:\n" + strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		fmt.Fprintln(stderr, l)
	}
	return cfg, nil
}
