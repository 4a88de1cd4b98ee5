package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/muster-test/muster-test/internal/child"
	"github.com/muster-test/muster-test/internal/htmlreport"
	"github.com/muster-test/muster-test/internal/load"
	"github.com/muster-test/muster-test/internal/report"
	"github.com/muster-test/muster-test/internal/runner"
	"github.com/muster-test/muster-test/internal/schedule"
	"github.com/muster-test/muster-test/internal/testtools"
	"github.com/muster-test/muster-test/scenario"
	"github.com/muster-test/muster-test/workloads"
)

const loadUsage = `muster-test load: many users logged in through the real OAuth flow, running workflows.

Usage:
  muster-test load --workload FILE|NAME [flags]
  muster-test load merge SHARD.json... --out TOTAL.json [--workload FILE|NAME] [--compare PREV.json]

Sets the workload's world up once (mocks and SUT), logs its virtual users in concurrently,
runs its workflows for --duration after --warmup, prints per-workflow, per-step and per-user
figures and checks the workload's thresholds. NAME is a built-in workload (see docs/load.md).
Flags override the workload's own settings.

merge takes every shard of one --shard K/N split exactly once.

Exit codes: 0 thresholds held, 1 a threshold or the comparison broke, the set-up failed or
a merged shard was interrupted, 2 usage or workload errors (for merge also a shard missing
or given twice), 130/143 interrupted (the figures so far are printed).

Flags:
`

type loadFlags struct {
	workload, out, compare, shard string
	html                          string
	users                         int
	duration, rampUp, warmup      time.Duration
	rate, maxRegression           float64
	seed                          int64
	noColor                       bool
	set                           map[string]bool
}

func runLoad(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "merge" {
		return runLoadMerge(args[1:], stdout, stderr)
	}
	out := stoppable(stdout)
	opts := &runner.Options{Stdout: out, Stderr: stderr}
	var f loadFlags
	fs := flag.NewFlagSet("muster-test load", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse errors and help are printed by parseArgs
	fs.StringVar(&f.workload, "workload", "", "the workload file, or the name of a built-in workload")
	fs.IntVar(&f.users, "users", 0, "virtual users (default: the workload's virtual_users.count, else 10)")
	fs.DurationVar(&f.duration, "duration", 0, "measured time after the warm-up (default: the workload's, else 30s)")
	fs.DurationVar(&f.rampUp, "ramp-up", 0, "spread the users' starts (closed model) or raise the rate linearly (open model) over this time")
	fs.DurationVar(&f.warmup, "warmup", 0, "run this long before the measured time; its calls are left out of the figures")
	fs.Float64Var(&f.rate, "rate", 0, "open model: workflow starts per second, latency from each intended start (default: closed model, each user loops)")
	fs.StringVar(&f.out, "out", "", "write the figures with their histograms to this JSON file")
	fs.StringVar(&f.html, "html", "", "write a self-contained HTML report (tables, throughput and p95 over time, latency histogram) to this file")
	fs.StringVar(&f.compare, "compare", "", "print the change of every figure against this earlier --out file")
	fs.Float64Var(&f.maxRegression, "max-regression", 0, "with --compare: fail (exit 1) when a latency, error rate or rps got worse by more than this percentage")
	fs.StringVar(&f.shard, "shard", "", "run share K of N of the users and the rate, as K/N (merge the shards' --out files with muster-test load merge)")
	fs.Int64Var(&f.seed, "seed", 1, "seed of the workflow and user choices")
	fs.BoolVar(&f.noColor, "no-color", false, "plain output: no live progress line")
	fs.DurationVar(&opts.ReadyTimeout, "ready-timeout", 30*time.Second, "how long the SUT may take to start")
	fs.StringVar(&opts.SUT.Kind, "sut", "builtin", "muster-shaped SUT: builtin (the reference SUT) or muster")
	fs.StringVar(&opts.SUT.MusterBinary, "muster-binary", "", "path of the muster binary for --sut muster")
	var sutArgs string
	fs.StringVar(&sutArgs, "sut-args", "", `extra arguments for the SUT's command line (the sut block's command, or muster's), split as a POSIX shell would (e.g. "--fault sharing-not-enforced")`)
	if code, done := parseArgs(fs, args, func(w io.Writer) { printUsage(w, loadUsage, fs) }, stdout, stderr); done {
		return code
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	lo, code := f.options(fs, stderr)
	if lo == nil {
		return code
	}
	words, err := runner.SplitWords(sutArgs)
	if err != nil {
		fmt.Fprintln(stderr, "muster-test load: --sut-args:", err)
		return runner.ExitUsage
	}
	opts.SUT.Args = words
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "muster-test load: cannot find my own binary:", err)
		return runner.ExitUsage
	}
	opts.SUT.Self, opts.SUT.Child, opts.SUT.Relay = self, child.Binary(self), child.Relay(self)
	lo.Runner = opts
	lo.Progress, lo.Live = stderr, !f.noColor && report.UseColor(stderr, false)
	ctx, stop := interruptible(out)
	defer stop()
	return runner.WithReaper(opts, func() int { return loadRun(ctx, lo, &f, out, stderr) })
}

// options applies the flags over the workload; nil and an exit code on a usage error.
func (f *loadFlags) options(fs *flag.FlagSet, stderr io.Writer) (*load.Options, int) {
	usage := func(format string, args ...any) (*load.Options, int) {
		fmt.Fprintf(stderr, "muster-test load: "+format+"\n", args...)
		return nil, runner.ExitUsage
	}
	if fs.NArg() > 0 {
		return usage("unexpected argument %q (see --help)", fs.Arg(0))
	}
	if f.workload == "" {
		return usage("give --workload FILE or the name of a built-in workload (%s)", strings.Join(builtinWorkloads(), ", "))
	}
	w, ok := readWorkload(f.workload, stderr)
	if !ok {
		return nil, runner.ExitUsage
	}
	o := &load.Options{Workload: w, Users: 10, Duration: 30 * time.Second, RampUp: w.RampUp.D(), Warmup: w.Warmup.D(),
		Rate: w.Rate, Seed: f.seed}
	if w.VirtualUsers != nil && w.VirtualUsers.Count > 0 {
		o.Users = w.VirtualUsers.Count
	}
	if w.Duration > 0 {
		o.Duration = w.Duration.D()
	}
	for name, apply := range map[string]func(){"users": func() { o.Users = f.users }, "duration": func() { o.Duration = f.duration },
		"ramp-up": func() { o.RampUp = f.rampUp }, "warmup": func() { o.Warmup = f.warmup }, "rate": func() { o.Rate = f.rate }} {
		if f.set[name] {
			apply()
		}
	}
	switch {
	case o.Users < 1 || o.Users > scenario.MaxVirtualUsers:
		return usage("--users %d: want 1 to %d", o.Users, scenario.MaxVirtualUsers)
	case o.Duration <= 0, o.RampUp < 0, o.Warmup < 0, o.Rate < 0:
		return usage("--duration must be positive; --ramp-up, --warmup and --rate must not be negative")
	case f.maxRegression < 0 || (f.set["max-regression"] && f.compare == ""):
		return usage("--max-regression needs --compare and a percentage >= 0")
	}
	if err := f.checkOutputs(); err != nil {
		return usage("%v", err)
	}
	o.ShardK, o.ShardN = 1, 1
	if f.shard != "" {
		s, err := schedule.ParseShard(f.shard)
		if err != nil {
			return usage("%v", err)
		}
		o.ShardK, o.ShardN = s.K, s.N
	}
	need := 1
	for i := range w.Workflows {
		need = max(need, len(w.Workflows[i].RoleNames()))
	}
	if mine := (o.Users - o.ShardK + o.ShardN) / o.ShardN; mine < need {
		return usage("%d user(s) in shard %d/%d cannot fill a workflow of %d roles", mine, o.ShardK, o.ShardN, need)
	}
	return o, 0
}

// readWorkload loads a workload file, or a built-in one by name; it prints the
// diagnostics.
func readWorkload(arg string, stderr io.Writer) (*scenario.Workload, bool) {
	loader := testtools.Loader()
	var w *scenario.Workload
	var diags []scenario.Diagnostic
	if _, err := os.Stat(arg); err != nil && !strings.ContainsAny(arg, "/.") {
		data, rerr := fs.ReadFile(workloads.FS, arg+".yaml")
		if rerr != nil {
			fmt.Fprintf(stderr, "muster-test load: %s: no such file, nor a built-in workload (%s)\n", arg, strings.Join(builtinWorkloads(), ", "))
			return nil, false
		}
		w, diags = loader.ParseWorkload(arg+".yaml", data)
	} else {
		w, diags = loader.LoadWorkload(arg)
	}
	for _, d := range diags {
		fmt.Fprintln(stderr, d.Detail())
	}
	if w == nil {
		fmt.Fprintf(stderr, "muster-test load: %d error(s) in the workload; nothing was started\n", scenario.Count(diags))
	}
	return w, w != nil
}

func builtinWorkloads() []string {
	names, _ := fs.Glob(workloads.FS, "*.yaml")
	for i, n := range names {
		names[i] = strings.TrimSuffix(n, ".yaml")
	}
	return names
}

// finishReport checks the thresholds and the comparison, prints the summary and writes
// --out; it returns the exit code they decide.
func finishReport(out, stderr io.Writer, r *load.Report, ts []scenario.Threshold, f *loadFlags) int {
	code := runner.ExitOK
	broken := r.Check(ts)
	load.Summary(out, r)
	for _, b := range broken {
		fmt.Fprintf(out, "muster-test load: threshold broken: %s %s (measured %.4g)\n", b.Key, b.Rule, b.Value)
		code = runner.ExitFailed
	}
	if f.compare != "" {
		prev, err := load.ReadReport(f.compare)
		if err != nil {
			fmt.Fprintln(stderr, "muster-test load: --compare:", err)
			return runner.ExitUsage
		}
		changes := load.Compare(prev, r)
		load.PrintComparison(out, f.compare, changes)
		if f.set["max-regression"] {
			for _, c := range load.Regressions(changes, f.maxRegression) {
				fmt.Fprintf(out, "muster-test load: regression beyond %g%%: %s %.4g -> %.4g\n", f.maxRegression, c.Figure, c.Before, c.Now)
				code = runner.ExitFailed
			}
		}
	}
	if f.out != "" {
		if err := load.WriteReport(f.out, r); err != nil {
			fmt.Fprintln(stderr, "muster-test load: --out:", err)
			return runner.ExitUsage
		}
		fmt.Fprintln(out, "figures written to", f.out)
	}
	if f.html != "" {
		if err := htmlreport.WriteLoad(f.html, r.HTML()); err != nil {
			fmt.Fprintln(stderr, "muster-test load: --html:", err)
			return runner.ExitUsage
		}
		fmt.Fprintln(out, "HTML report:", f.html)
	}
	return code
}

// checkOutputs makes sure the files the run ends with can be written before it starts.
func (f *loadFlags) checkOutputs() error {
	for _, o := range []struct{ flag, path string }{{"--out", f.out}, {"--html", f.html}} {
		if o.path == "" {
			continue
		}
		if err := report.CheckFile(o.path); err != nil {
			return fmt.Errorf("%s %s: %w", o.flag, o.path, err)
		}
	}
	return nil
}
