package refsut

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

const serveUsage = "usage: muster-test reference-sut serve --config-path DIR [--debug] [--fault NAME]..."

// Main runs the command line `serve --config-path DIR [--debug] [--silent] [--fault NAME]...`
// (the arguments after `muster-test reference-sut`) until SIGTERM or SIGINT, and returns the
// exit code: 0 after a signal, 1 when it cannot start, 2 for a usage error or unknown fault.
func Main(args []string) int {
	if len(args) == 0 || args[0] != "serve" {
		fmt.Fprintln(os.Stderr, serveUsage)
		return 2
	}
	fs := flag.NewFlagSet("reference-sut serve", flag.ContinueOnError)
	configPath := fs.String("config-path", "", "muster configuration directory (default ~/.config/muster)")
	debug := fs.Bool("debug", false, "log debug detail")
	silent := fs.Bool("silent", false, "no log output at all")
	yolo := fs.Bool("yolo", false, "allow upstream tools muster considers destructive (kubectl_delete, cleanup, ...)")
	faults := Faults{}
	fs.Func("fault", "TEST ONLY: misbehave in one named way (repeatable): "+faultNames(), func(v string) error {
		f, err := ParseFault(v)
		if err == nil {
			faults[f] = true
		}
		return err
	})
	fs.SetOutput(io.Discard) // help and errors are printed below, each to its stream
	if err := fs.Parse(args[1:]); err != nil {
		w, code := io.Writer(os.Stderr), 2
		if errors.Is(err, flag.ErrHelp) {
			w, code = os.Stdout, 0
		} else {
			fmt.Fprintln(os.Stderr, "reference-sut:", err)
		}
		fmt.Fprintln(w, serveUsage)
		fs.SetOutput(w)
		fs.PrintDefaults()
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		return 2
	}
	if *configPath == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			fmt.Fprintln(os.Stderr, "Error: --config-path is required when HOME is unset")
			return 1
		}
		*configPath = home + "/.config/muster"
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	var out io.Writer = os.Stderr
	if *silent {
		out = io.Discard
	}
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level}))
	for f := range faults {
		log.Warn("TEST-ONLY fault injected", "fault", string(f))
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	agg, err := New(Options{ConfigDir: *configPath, Faults: faults, Logger: log, Yolo: *yolo})
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: failed to initialize application: %v\n", err)
		return 1
	}
	if err := agg.Serve(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		return 1
	}
	return 0
}

func faultNames() string {
	names := make([]string, len(AllFaults))
	for i, f := range AllFaults {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}
