// Package runner ties the pieces of a muster-test run together: load and validate the
// scenario files, select, schedule, execute against the SUT, report, and decide the exit
// code. The CLI in cmd/muster-test only parses flags into Options.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/htmlreport"
	"github.com/muster-test/muster-test/internal/report"
	"github.com/muster-test/muster-test/internal/schedule"
	"github.com/muster-test/muster-test/internal/testtools"
	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/scenario"
)

// Exit codes of muster-test.
const (
	ExitOK        = 0   // every scenario passed or was skipped
	ExitFailed    = 1   // a scenario failed, errored or was cancelled
	ExitUsage     = 2   // bad flags, or scenario files that do not load
	ExitInterrupt = 130 // SIGINT
	ExitTerm      = 143 // SIGTERM
)

// Options is everything a run is told on the command line.
type Options struct {
	// ConfigPaths are files or directories of scenario files. Empty: ./scenarios when it
	// exists, else the suite embedded in the binary (Embedded).
	ConfigPaths []string
	Embedded    fs.FS

	Filter   schedule.Filter
	Parallel int
	FailFast bool
	Timeout  time.Duration
	// ReadyTimeout bounds a SUT's start until every configured server settled.
	ReadyTimeout time.Duration

	Verbose, Debug, NoColor bool
	ReportDir, JUnitFile    string
	HTMLFile                string

	// Rerun are the command-line arguments a re-run of the failed scenarios must repeat
	// (--config and the SUT flags); the summary's re-run command adds --scenario NAME.
	Rerun []string

	SUT          SUTOptions
	Stdout       io.Writer
	Stderr       io.Writer
	KeepTempDirs bool
}

// SUTOptions choose and shape the system under test.
type SUTOptions struct {
	Kind         string   // auto | builtin | muster
	MusterBinary string   // --muster-binary
	Args         []string // --sut-args, already split
	Self         string   // absolute path of this binary ({{ .self }} in scenarios)
	// Child is the absolute path of the binary that plays the reference SUT and the stdio
	// mocks: the slim muster-test-child beside this binary (see internal/child), or Self
	// when empty.
	Child string
	// Relay is the absolute path of muster-test-relay beside this binary, which the SUT
	// starts for each stdio mock while the runner serves the mock (see internal/relay); ""
	// has the SUT start Child as the stdio mock.
	Relay string
	// Command (--sut-command, split) and URL (--sut-url) replace every scenario's sut block
	// and make every scenario a direct-mode one.
	Command []string
	URL     string
	// Protocol (--protocol) pins the MCP protocol revision of every session to the SUT, in
	// place of a sut block's protocol; "" leaves it to the scenario (default: negotiate).
	Protocol string
}

func (o SUTOptions) childBinary() string {
	if o.Child != "" {
		return o.Child
	}
	return o.Self
}

// Load reads the scenario files the options name and prints every diagnostic. ok is false
// when any file had errors: the run must then exit 2 before starting anything.
func Load(opts *Options) (set *scenario.Set, source string, ok bool) {
	roots, embedded := configRoots(opts)
	loader := testtools.Loader()
	loader.Direct = len(opts.SUT.Command) > 0 || opts.SUT.URL != ""
	switch {
	case !embedded && len(opts.ConfigPaths) == 0:
		abs, _ := filepath.Abs(roots[0])
		set, source = loader.LoadPaths(roots...), abs
	case !embedded:
		set, source = loader.LoadPaths(roots...), strings.Join(roots, ", ")
	case opts.Embedded != nil:
		set, source = loader.LoadFS(opts.Embedded, roots[0]), "embedded suite (built into this binary)"
	default:
		set = &scenario.Set{Errors: []scenario.Diagnostic{{Msg: "no scenarios: give --config PATH"}}}
	}
	for _, d := range set.Diagnostics() {
		fmt.Fprintln(opts.Stderr, d.Detail())
	}
	if len(set.Errors) > 0 {
		fmt.Fprintf(opts.Stderr, "muster-test: %d error(s) in scenario files; nothing was run\n", scenario.Count(set.Errors))
		return set, source, false
	}
	if len(set.Scenarios) == 0 {
		fmt.Fprintf(opts.Stderr, "muster-test: no scenario files in %s (a directory is searched for *.yaml and *.yml)\n", source)
		return set, source, false
	}
	return set, source, true
}

// configRoots are the files and directories the scenarios are loaded from: the --config
// paths, else ./scenarios when it exists, else the root of the embedded suite (embedded).
// Reports name files relative to them.
func configRoots(opts *Options) (roots []string, embedded bool) {
	switch {
	case len(opts.ConfigPaths) > 0:
		return opts.ConfigPaths, false
	case dirExists("scenarios"):
		return []string{"scenarios"}, false
	}
	return []string{"."}, true
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// Run runs the selected scenarios and returns the exit code. Cancelling ctx with a cause
// that wraps an Interrupt stops the run and yields that signal's exit code.
// planned (nil: none) learns the selected scenarios before they run.
func Run(ctx context.Context, opts *Options, runOne schedule.ScenarioFunc, sutInfo string, planned func([]*scenario.Scenario)) int {
	// The first mock IdP's RSA key (tens of milliseconds of CPU) is made while the files
	// load: a run of one scenario otherwise waits for it in its environment's start.
	idp.WarmUp()
	selected, source, ok := loadSelected(opts)
	if !ok {
		return ExitUsage
	}
	if opts.SUT.URL == "" && len(opts.SUT.Command) == 0 {
		sutInfo = ownSUTs(sutInfo, selected)
	}
	if err := checkOutputs(opts); err != nil {
		fmt.Fprintln(opts.Stderr, "muster-test:", err)
		return ExitUsage
	}
	if planned != nil {
		planned(selected)
	}
	listeners := report.Multi(reporters(opts)...)
	run := schedule.Run(ctx, selected, schedule.Options{Parallel: opts.Parallel, FailFast: opts.FailFast,
		Timeout: opts.Timeout, Info: event.RunInfo{SUT: sutInfo, Source: source}}, runOne, listeners)
	code := ExitOK
	if !run.Summary.OK() {
		code = ExitFailed
	}
	announceReports(opts.Stdout, listeners)
	if err := listeners.Err(); err != nil {
		fmt.Fprintln(opts.Stderr, "muster-test: writing a report:", err)
		code = max(code, ExitUsage)
	}
	var intr *Interrupt
	if errors.As(context.Cause(ctx), &intr) {
		return intr.Code
	}
	return code
}

// ownSUTs is the run's first-line description of the SUT when no --sut-url or
// --sut-command overrides the scenarios' own sut blocks: a scenario with one runs against
// the server it starts, not the driver's SUT.
func ownSUTs(driver string, scs []*scenario.Scenario) string {
	own := 0
	for _, sc := range scs {
		if sc.SUT != nil {
			own++
		}
	}
	switch {
	case own == 0:
		return driver
	case own == len(scs):
		return "each scenario's own SUT (its sut block)"
	}
	return fmt.Sprintf("%s; %d of the %d scenarios against their own SUT (their sut block)", driver, own, len(scs))
}

// Interrupt is the cancellation cause a signal produces.
type Interrupt struct {
	Signal string
	Code   int
}

func (i *Interrupt) Error() string { return "interrupted by " + i.Signal }

// reporters builds the console reporter and the file reporters the options ask for.
func reporters(opts *Options) []event.Listener {
	ls := []event.Listener{report.NewConsole(opts.Stdout, report.ConsoleOptions{
		Color:   report.UseColor(opts.Stdout, opts.NoColor),
		Verbose: opts.Verbose || opts.Debug,
		Debug:   opts.Debug,
		Width:   report.TermWidth(opts.Stdout),
		Rerun:   opts.Rerun,
	})}
	if opts.ReportDir != "" {
		ls = append(ls, report.NewJSON(opts.ReportDir))
	}
	if opts.JUnitFile != "" {
		roots, _ := configRoots(opts)
		ls = append(ls, report.NewJUnit(opts.JUnitFile, roots...))
	}
	if opts.HTMLFile != "" {
		ls = append(ls, report.NewFileWriter("HTML report", opts.HTMLFile, htmlreport.WriteRun))
	}
	return ls
}

// announceReports says where the report files went, after the summary, where a user (or a
// CI log) looks last.
func announceReports(w io.Writer, ls report.MultiListener) {
	for _, l := range ls {
		var f *report.FileWriter
		switch r := l.(type) {
		case *report.JSON:
			f = r.FileWriter
		case *report.JUnit:
			f = r.FileWriter
		case *report.FileWriter:
			f = r
		default:
			continue
		}
		if f.Err() == nil && f.Path() != "" {
			fmt.Fprintf(w, "%s: %s\n", f.Name, f.Path())
		}
	}
}

// checkOutputs makes sure the report files can be written before anything starts: a typo
// in --junit should not cost a whole run.
func checkOutputs(opts *Options) error {
	if opts.ReportDir != "" {
		if err := report.CheckDir(opts.ReportDir); err != nil {
			return fmt.Errorf("--report %s: %w", opts.ReportDir, err)
		}
	}
	if opts.JUnitFile != "" {
		if err := report.CheckFile(opts.JUnitFile); err != nil {
			return fmt.Errorf("--junit %s: %w", opts.JUnitFile, err)
		}
	}
	if opts.HTMLFile != "" {
		if err := report.CheckFile(opts.HTMLFile); err != nil {
			return fmt.Errorf("--html %s: %w", opts.HTMLFile, err)
		}
	}
	return nil
}

// loadSelected loads the scenario files and applies the filters; problems are printed.
func loadSelected(opts *Options) ([]*scenario.Scenario, string, bool) {
	set, source, ok := Load(opts)
	if !ok {
		return nil, "", false
	}
	selected, err := schedule.Select(set.Scenarios, opts.Filter)
	var unknown *schedule.UnknownNamesError
	switch {
	case errors.As(err, &unknown):
		fmt.Fprintf(opts.Stderr, "muster-test: %s\n  searched: %s%s\n%s\n", unknown.Misses(), source, ownFilesHint(opts), unknown.Available())
		return nil, "", false
	case err != nil:
		fmt.Fprintln(opts.Stderr, "muster-test:", err)
		return nil, "", false
	case len(selected) == 0:
		fmt.Fprintf(opts.Stderr, "muster-test: no scenario in %s matches the filters%s\n", source, schedule.Explain(set.Scenarios, opts.Filter))
		return nil, "", false
	}
	return selected, source, true
}

// ownFilesHint tells a user who gave no --config that the built-in suite was searched, the
// usual reason a scenario of their own is not found.
func ownFilesHint(opts *Options) string {
	if len(opts.ConfigPaths) > 0 {
		return ""
	}
	return "; no --config given: add --config PATH to search your own files"
}

// Validate loads the files and reports problems only: exit 0 when they load, 2 otherwise.
func Validate(opts *Options) int {
	set, source, ok := Load(opts)
	if !ok {
		return ExitUsage
	}
	fmt.Fprintf(opts.Stdout, "%d scenario(s) valid (%s)\n", len(set.Scenarios), source)
	return ExitOK
}

// List prints the selected scenarios: name, tags and step count, and where they came from.
func List(opts *Options) int {
	selected, source, ok := loadSelected(opts)
	if !ok {
		return ExitUsage
	}
	fmt.Fprintf(opts.Stdout, "scenarios from %s\n", source)
	tw := tabwriter.NewWriter(opts.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTEPS\tTAGS\tFILE")
	for _, sc := range selected {
		skip := ""
		if sc.Skip {
			skip = " (skip)"
		}
		fmt.Fprintf(tw, "%s%s\t%d\t%s\t%s\n", sc.Name, skip, len(sc.Steps), strings.Join(sc.Tags, ","), sc.Pos.File)
	}
	tw.Flush()
	fmt.Fprintf(opts.Stdout, "%d scenario(s)\n", len(selected))
	return ExitOK
}
