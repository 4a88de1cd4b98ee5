package mcpserver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// RunCommand is the stdio mock's command line:
//
//	muster-test [test] --mock-mcp-server --mock-config FILE [--debug]
//
// (muster puts `test` in front; `--mock-config=FILE` works too). It serves FILE's tools on
// stdin/stdout until stdin ends or ctx is cancelled, logging to stderr only with --debug,
// and returns the process exit code: 0 when the client went away, 2 for a usage or
// configuration error, 1 for a failure while serving.
func RunCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	file, debug, err := parseCommandArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "muster-test --mock-mcp-server: %v\nusage: muster-test --mock-mcp-server --mock-config FILE [--debug]\n", err)
		return 2
	}
	cfg, err := LoadConfigFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "muster-test --mock-mcp-server: %v\n", err)
		return 2
	}
	if debug {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if err := ServeStdio(ctx, cfg, stdin, stdout); err != nil {
		fmt.Fprintf(stderr, "muster-test --mock-mcp-server: %v\n", err)
		return 1
	}
	return 0
}

func parseCommandArgs(args []string) (file string, debug bool, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--mock-mcp-server":
		case a == "test" && i == 0:
		case a == "--debug":
			debug = true
		case a == "--mock-config":
			if i+1 >= len(args) {
				return "", false, fmt.Errorf("--mock-config needs a file")
			}
			i++
			file = args[i]
		case strings.HasPrefix(a, "--mock-config="):
			file = strings.TrimPrefix(a, "--mock-config=")
		default:
			return "", false, fmt.Errorf("unexpected argument %q", a)
		}
	}
	if file == "" {
		return "", false, fmt.Errorf("--mock-config FILE is required")
	}
	return file, debug, nil
}
