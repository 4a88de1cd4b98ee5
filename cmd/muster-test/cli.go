package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/muster-test/muster-test/internal/child"
	"github.com/muster-test/muster-test/internal/runner"
	"github.com/muster-test/muster-test/internal/schedule"
	"github.com/muster-test/muster-test/scenario"
)

const usageHead = `muster-test runs YAML BDD scenarios against OAuth-protected MCP aggregators.

Usage:
  muster-test [flags]                  run the scenarios
  muster-test validate [flags] PATH... load and validate scenario files only
  muster-test list [flags]             list the scenarios (name, tags, steps)
  muster-test schema                   print the JSON Schema of scenario files (for editors)
  muster-test init [--schema URL] NAME write ./NAME.yaml, a commented starter scenario
  muster-test help [COMMAND]           this text, or one command's
  muster-test --version                the module version and VCS commit of this binary
  muster-test mock-idp --port N [--config FILE]
                                       run one mock OAuth identity provider
  muster-test reference-sut serve --config-path DIR [--debug] [--fault NAME]...
                                       run the reference SUT (a muster-compatible aggregator)
  muster-test client URL [flags]       log in to an OAuth-protected MCP server as its client
                                       and list (or --call) its tools (see help client)
  muster-test conform (--sut-url URL | --config FILE | --gateway builtin|muster) [flags]
                                       grade an MCP server against cited MCP authorization
                                       checks (see conform --help; --list shows them)
  muster-test load --workload FILE|NAME [flags]
                                       many logged-in users running workflows (see help load)
  muster-test reference-server serve (--issuer URL | --with-as) [--port N] [--fault NAME]...
                                       run the reference OAuth-protected MCP server

Exit codes: 0 all passed or skipped, 1 a scenario failed, errored or was cancelled,
2 usage or load error, 130 interrupted by SIGINT, 143 by SIGTERM.

Flags:
`

// subcommandHeads are the usage texts of the commands that share the run's flags.
var subcommandHeads = map[string]string{
	"run": usageHead,
	"validate": `Usage: muster-test validate [flags] PATH...

Loads the scenario files (PATH... and --config; a directory is searched for *.yaml and
*.yml) and reports every problem as file:line:col without starting anything: exit 0 when
they load, 2 otherwise.

Flags (with --sut-command or --sut-url it does not check the tool names of a muster-shaped
SUT):
`,
	"list": `Usage: muster-test list [flags]

Lists the scenarios the flags select (name, steps, tags, file) and where they came from.

Flags:
`,
}

// subcommandFlags are the run flags validate and list read. They take no others, so that a
// run flag given to them (say --junit in a CI line) is a usage error, not silently ignored.
var subcommandFlags = map[string][]string{
	"validate": {"config", "sut-command", "sut-url"},
	"list":     {"config", "scenario", "tag", "category", "concept", "shard"},
}

// only is a flag set of fs's name holding only the named flags of fs, bound to the same
// values.
func only(fs *flag.FlagSet, names []string) *flag.FlagSet {
	out := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	out.SetOutput(io.Discard)
	for _, n := range names {
		f := fs.Lookup(n)
		out.Var(f.Value, f.Name, f.Usage)
	}
	return out
}

// rerunFlags are the flags the summary's re-run command repeats: where the scenarios are and
// what they run against. Filters are replaced by --scenario; output and speed flags are the
// user's choice for the next run.
var rerunFlags = []string{"sut", "muster-binary", "sut-args", "sut-command", "sut-url", "ready-timeout"}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// cliFlags binds every run flag to opts; validate and list share the loading ones.
func cliFlags(name string, opts *runner.Options) (*flag.FlagSet, func() error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse errors and help are printed by parseArgs
	var configs, names, tags multiFlag
	var shard, sutArgs string
	fs.Var(&configs, "config", "scenario file or directory walked for *.yaml/*.yml (repeatable; default ./scenarios, else the embedded suite)")
	fs.Var(&names, "scenario", "run only the scenario with this exact name (repeatable)")
	fs.Var(&tags, "tag", "run only scenarios carrying this tag (repeatable: every given tag is required)")
	fs.StringVar(&opts.Filter.Category, "category", "", "run only scenarios of this category (e.g. behavioral, integration)")
	fs.StringVar(&opts.Filter.Concept, "concept", "", "run only scenarios of this concept (e.g. mcpserver, workflow)")
	fs.StringVar(&shard, "shard", "", "run only part K of N of the selected scenarios, as K/N (stable across machines)")
	fs.IntVar(&opts.Parallel, "parallel", 0, "scenarios run at once (default: number of CPUs)")
	fs.BoolVar(&opts.FailFast, "fail-fast", false, "stop at the first failed scenario; the rest are reported CANCELLED")
	fs.DurationVar(&opts.Timeout, "timeout", 0, "time limit for the whole run, e.g. 10m (default none)")
	fs.DurationVar(&opts.ReadyTimeout, "ready-timeout", 30*time.Second, "how long a SUT may take to start and show every configured server")
	fs.BoolVar(&opts.Verbose, "verbose", false, "print every step")
	fs.BoolVar(&opts.Debug, "debug", false, "print every step, the MCP traffic and the SUT's log")
	fs.BoolVar(&opts.NoColor, "no-color", false, "plain output (also when NO_COLOR is set or stdout is not a terminal)")
	fs.StringVar(&opts.ReportDir, "report", "", "write the JSON report into this directory (muster-test-report-YYYYMMDD-HHMMSS.json)")
	fs.StringVar(&opts.JUnitFile, "junit", "", "write a JUnit XML report to this file")
	fs.StringVar(&opts.HTMLFile, "html", "", "write a self-contained HTML report (steps, SUT log, a sequence diagram per scenario) to this file")
	fs.StringVar(&opts.SUT.Kind, "sut", "auto", "system under test: auto (muster on PATH, else builtin), builtin (the reference SUT) or muster")
	fs.StringVar(&opts.SUT.MusterBinary, "muster-binary", "", "path of the muster binary for --sut muster")
	var sutCommand string
	fs.StringVar(&sutArgs, "sut-args", "", `extra arguments for the SUT's command line, split as a POSIX shell would (e.g. "--fault skip-pkce")`)
	fs.StringVar(&sutCommand, "sut-command", "", `direct mode: start this command (split as a POSIX shell would, nothing expanded; templates such as {{ .sut.port }} allowed) as every scenario's SUT, in place of its sut block`)
	fs.StringVar(&opts.SUT.URL, "sut-url", "", "direct mode: test the MCP server already running at this URL (nothing is started), in place of every scenario's sut block")
	fs.StringVar(&opts.SUT.Protocol, "protocol", "", "pin the MCP protocol revision of every session to the SUT ("+strings.Join(scenario.ProtocolVersions, ", ")+"), in place of a sut block's protocol; default: negotiate")
	fs.BoolVar(&opts.KeepTempDirs, "keep-temp-config", false, "keep each scenario's temp dir (SUT config and logs) for inspection")
	fs.Bool("version", false, "print the module version and VCS commit of this binary and exit")
	finish := func() error {
		opts.ConfigPaths, opts.Filter.Names, opts.Filter.Tags = configs, names, tags
		opts.Rerun = rerunArgs(fs, configs)
		if shard != "" {
			s, err := schedule.ParseShard(shard)
			if err != nil {
				return err
			}
			opts.Filter.Shard = s
		}
		if err := scenario.CheckProtocol(opts.SUT.Protocol); err != nil {
			return fmt.Errorf("--protocol: %w", err)
		}
		if opts.Parallel < 0 {
			return errors.New("--parallel must be >= 1")
		}
		switch opts.SUT.Kind {
		case "auto", "builtin", "muster":
		default:
			return fmt.Errorf("--sut %q: want auto, builtin or muster", opts.SUT.Kind)
		}
		words, err := runner.SplitWords(sutArgs)
		if err != nil {
			return fmt.Errorf("--sut-args: %w", err)
		}
		opts.SUT.Args = words
		if opts.SUT.Command, err = runner.SplitWords(sutCommand); err != nil {
			return fmt.Errorf("--sut-command: %w", err)
		}
		if len(opts.SUT.Command) > 0 && opts.SUT.URL != "" {
			return errors.New("--sut-command and --sut-url exclude each other: the first starts a server, the second names a running one")
		}
		return nil
	}
	return fs, finish
}

// rerunArgs are the given --config paths and rerunFlags, as a re-run must repeat them.
func rerunArgs(fs *flag.FlagSet, configs []string) []string {
	var out []string
	for _, c := range configs {
		out = append(out, "--config", c)
	}
	fs.Visit(func(f *flag.Flag) {
		if slices.Contains(rerunFlags, f.Name) {
			out = append(out, "--"+f.Name, f.Value.String())
		}
	})
	return out
}

// parseArgs parses args into fs. --help (-h) prints usage on stdout and exits 0, so that
// it can be piped; a bad flag is one line on stderr and exit 2. done says to exit with code.
func parseArgs(fs *flag.FlagSet, args []string, usage func(io.Writer), stdout, stderr io.Writer) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case err == nil:
		return 0, false
	case errors.Is(err, flag.ErrHelp):
		usage(stdout)
		return runner.ExitOK, true
	default:
		fmt.Fprintf(stderr, "%s: %v (see %s --help)\n", fs.Name(), err, fs.Name())
		return runner.ExitUsage, true
	}
}

// printUsage writes head and fs's flags to w.
func printUsage(w io.Writer, head string, fs *flag.FlagSet) {
	fmt.Fprint(w, head)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

func runCLI(args []string, stdout, stderr io.Writer) int {
	out := stoppable(stdout)
	opts := &runner.Options{Stdout: out, Stderr: stderr, Embedded: embeddedSuite()}
	cmd := "run"
	if len(args) > 0 {
		switch args[0] {
		case "validate", "list":
			cmd, args = args[0], args[1:]
		case "help":
			return help(args[1:], stdout, stderr)
		case "schema":
			return runSchema(args[1:], stdout, stderr)
		case "init":
			return runInit(args[1:], stdout, stderr)
		case "version":
			fmt.Fprintln(stdout, versionText())
			return runner.ExitOK
		}
	}
	name := "muster-test"
	if cmd != "run" {
		name += " " + cmd
	}
	fs, finish := cliFlags(name, opts)
	if cmd != "run" {
		fs = only(fs, subcommandFlags[cmd])
	}
	usage := func(w io.Writer) { printUsage(w, subcommandHeads[cmd], fs) }
	if code, done := parseArgs(fs, args, usage, stdout, stderr); done {
		return code
	}
	if v := fs.Lookup("version"); v != nil && v.Value.String() == "true" {
		fmt.Fprintln(stdout, versionText())
		return runner.ExitOK
	}
	if err := finish(); err != nil {
		fmt.Fprintln(stderr, "muster-test:", err)
		return runner.ExitUsage
	}
	switch cmd {
	case "validate":
		opts.ConfigPaths = append(opts.ConfigPaths, fs.Args()...)
		return runner.Validate(opts)
	case "list":
		return runner.List(opts)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "muster-test: unexpected argument %q (see muster-test --help)\n", fs.Arg(0))
		return runner.ExitUsage
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "muster-test: cannot find my own binary:", err)
		return runner.ExitUsage
	}
	opts.SUT.Self, opts.SUT.Child, opts.SUT.Relay = self, child.Binary(self), child.Relay(self)
	ctx, stop := interruptible(out)
	defer stop()
	return runner.Main(ctx, opts)
}

// signalWindow is how close together signals count as one. GNU `timeout -s INT` signals
// its child and then the child's whole process group, so the runner gets two SIGINTs
// within milliseconds; a user's second Ctrl-C comes much later.
const signalWindow = 500 * time.Millisecond

// interruptible returns a context cancelled, with a *runner.Interrupt cause, by the first
// SIGINT or SIGTERM, so the run tears everything down, prints its summary and exits 130 or
// 143. Further signals within signalWindow of the first count as the same one. A signal
// after that exits at once, with the first signal's code: runner.Abandon kills the SUTs
// and what they started and removes the temp dirs, but nothing is reported: out is
// stopped first, as the run's own teardown may end (its SUT killed) and print the summary
// before os.Exit.
func interruptible(out *stoppableOutput) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		var first *runner.Interrupt
		var firstAt time.Time
		for {
			select {
			case s := <-sigs:
				intr := &runner.Interrupt{Signal: "SIGINT", Code: runner.ExitInterrupt}
				if s == syscall.SIGTERM {
					intr = &runner.Interrupt{Signal: "SIGTERM", Code: runner.ExitTerm}
				}
				switch {
				case first == nil:
					first, firstAt = intr, time.Now()
					fmt.Fprintf(os.Stderr, "muster-test: %s: stopping (tearing down; %s again to exit at once)\n", intr.Signal, intr.Signal)
					cancel(intr)
				case time.Since(firstAt) < signalWindow:
					// The same interrupt delivered twice (to the process and to its group).
				default:
					fmt.Fprintf(os.Stderr, "muster-test: %s again: exiting at once (killing the SUTs, removing temp dirs; no summary)\n", intr.Signal)
					out.Stop()
					runner.Abandon()
					os.Exit(first.Code)
				}
			case <-done:
				return
			}
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// stoppableOutput is the run's stdout until Stop; every later write is dropped.
type stoppableOutput struct {
	mu      sync.Mutex
	w       io.Writer
	stopped bool
}

func stoppable(w io.Writer) *stoppableOutput { return &stoppableOutput{w: w} }

func (o *stoppableOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.stopped {
		return len(p), nil
	}
	return o.w.Write(p)
}

// Stop returns once no write is in progress, so nothing reaches stdout after it.
func (o *stoppableOutput) Stop() {
	o.mu.Lock()
	o.stopped = true
	o.mu.Unlock()
}

// Fd lets colour detection see the terminal behind the wrapper; a writer without a
// descriptor gets one that is no terminal.
func (o *stoppableOutput) Fd() uintptr {
	if f, ok := o.w.(interface{ Fd() uintptr }); ok {
		return f.Fd()
	}
	return ^uintptr(0)
}
