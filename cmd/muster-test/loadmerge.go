package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/muster-test/muster-test/internal/load"
	"github.com/muster-test/muster-test/internal/runner"
	"github.com/muster-test/muster-test/scenario"
)

// loadRun runs the load and decides the exit code: the interrupt's, else the set-up's or
// the figures'.
func loadRun(ctx context.Context, lo *load.Options, f *loadFlags, out, stderr io.Writer) int {
	fmt.Fprintf(out, "muster-test load: %s: %d users (shard %d/%d), %s after a %s warm-up\n", lo.Workload.Name, lo.Users,
		lo.ShardK, lo.ShardN, lo.Duration, lo.Warmup)
	r, notes, err := load.Run(ctx, lo)
	for _, n := range notes {
		fmt.Fprintln(stderr, "muster-test load: note:", n)
	}
	var intr *runner.Interrupt
	interrupted := errors.As(context.Cause(ctx), &intr)
	if err != nil {
		fmt.Fprintln(stderr, "muster-test load: set-up failed:", err)
		if interrupted {
			return intr.Code
		}
		return runner.ExitFailed
	}
	code := finishReport(out, stderr, r, lo.Workload.Parsed, f)
	if interrupted {
		return intr.Code
	}
	return code
}

// runLoadMerge adds the shards' --out files up into one and checks the workload's
// thresholds (given with --workload) on the total.
func runLoadMerge(args []string, stdout, stderr io.Writer) int {
	var f loadFlags
	fs := flag.NewFlagSet("muster-test load merge", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse errors and help are printed by parseArgs
	fs.StringVar(&f.out, "out", "", "write the merged figures to this JSON file")
	fs.StringVar(&f.workload, "workload", "", "check this workload's thresholds on the merged figures")
	fs.StringVar(&f.html, "html", "", "write a self-contained HTML report of the merged figures to this file")
	fs.StringVar(&f.compare, "compare", "", "print the change of every figure against this earlier --out file")
	fs.Float64Var(&f.maxRegression, "max-regression", 0, "with --compare: fail (exit 1) when a latency, error rate or rps got worse by more than this percentage")
	// Flags may follow the files, as in `load merge a.json b.json --out total.json`.
	var files []string
	for rest := args; ; {
		if code, done := parseArgs(fs, rest, func(w io.Writer) { printUsage(w, loadUsage, fs) }, stdout, stderr); done {
			return code
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	if len(files) == 0 {
		fmt.Fprintln(stderr, "muster-test load merge: give the shards' --out files")
		return runner.ExitUsage
	}
	if f.maxRegression < 0 || (f.set["max-regression"] && f.compare == "") {
		fmt.Fprintln(stderr, "muster-test load merge: --max-regression needs --compare and a percentage >= 0")
		return runner.ExitUsage
	}
	if err := f.checkOutputs(); err != nil {
		fmt.Fprintln(stderr, "muster-test load merge:", err)
		return runner.ExitUsage
	}
	var parts []*load.Report
	var cut []string // the shards that were interrupted
	for _, p := range files {
		r, err := load.ReadReport(p)
		if err != nil {
			fmt.Fprintln(stderr, "muster-test load merge:", err)
			return runner.ExitUsage
		}
		parts = append(parts, r)
		if r.Interrupted {
			cut = append(cut, fmt.Sprintf("%s (%s)", strings.Join(r.Shards, ", "), p))
		}
	}
	total, err := load.Merge(parts...)
	if err != nil {
		fmt.Fprintln(stderr, "muster-test load merge:", err)
		return runner.ExitUsage
	}
	var ts []scenario.Threshold
	if f.workload != "" {
		w, ok := readWorkload(f.workload, stderr)
		if !ok {
			return runner.ExitUsage
		}
		ts = w.Parsed
	}
	code := finishReport(stdout, stderr, total, ts, &f)
	if len(cut) > 0 {
		// The total then holds less load than the run was asked for: its figures are not
		// the run's, whatever the thresholds say of them.
		fmt.Fprintf(stderr, "muster-test load merge: interrupted shard %s: its figures end where it stopped\n", strings.Join(cut, "; "))
		code = max(code, runner.ExitFailed)
	}
	return code
}
