package conform

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	catalogue "github.com/muster-test/muster-test/conform"
	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/report"
	"github.com/muster-test/muster-test/internal/runner"
	"github.com/muster-test/muster-test/scenario"
)

// Verdict is what a check says about the server.
type Verdict string

// Verdicts. A SHOULD not met is a WARN and a MAY not met is N/A: neither fails the run.
const (
	Pass  Verdict = "PASS"
	Fail  Verdict = "FAIL"
	Warn  Verdict = "WARN"
	NA    Verdict = "N/A"
	XFail Verdict = "XFAIL" // a FAIL the baseline expects
)

// Outcome is one check's verdict and the scenario result it came from.
type Outcome struct {
	Check   *Check
	Verdict Verdict
	Reason  string // why N/A, or what failed
	// Stale: the baseline lists the check but it passed; the entry must go.
	Stale bool
	// Baselined: the baseline lists the check (whatever its verdict).
	Baselined bool
	Result    *event.ScenarioResult // nil when the check did not run
}

// Options are a conform run's flags.
type Options struct {
	URL, ConfigFile string
	// Gateway runs the gateway checks against a muster-shaped SUT: builtin (the reference
	// SUT) or muster (MusterBinary, else muster on PATH).
	Gateway, MusterBinary string
	// GatewayAuth: the gateway authenticates its clients (protected mode): each gateway
	// check's gateway-idp becomes the IdP the gateway trusts.
	GatewayAuth    bool
	Checks         []string // --check: only these
	Baseline       string
	WriteBaseline  string
	ReportDir      string
	JUnitFile      string
	HTMLFile       string
	NoColor, Debug bool
	Parallel       int
	CheckTimeout   time.Duration // each check's limit
	ReadyTimeout   time.Duration
	SUTArgs        []string // appended to the config's sut command (tests inject faults)
	Protocol       string   // pins the MCP revision of the runner's sessions ("": negotiate)
	Self, Child    string   // this binary and the slim child binary, as for a run
	Relay          string   // the stdio relay beside this binary ("": none), as for a run
	Stdout, Stderr io.Writer
}

// Result is a finished conform run.
type Result struct {
	Target   string
	Outcomes []Outcome
	Start    time.Time
	Duration time.Duration
	// Interrupted names the signal that stopped the run; its checks that did not finish
	// are N/A, and the grade says so instead of grading.
	Interrupted string
}

// Main runs the catalogue as the options say, prints the summary, writes the files and
// returns the exit code: 0, 1 (a MUST failed or a baseline entry is stale), 2 (bad input,
// before any check ran), 130/143 (interrupted).
func Main(ctx context.Context, opts Options) int {
	res, code := Run(ctx, opts)
	if res == nil {
		return code
	}
	writeSummary(opts.Stdout, res, report.UseColor(opts.Stdout, opts.NoColor))
	if err := writeFiles(opts, res); err != nil {
		fmt.Fprintln(opts.Stderr, "muster-test conform:", err)
		return runner.ExitUsage
	}
	var intr *runner.Interrupt
	if errors.As(context.Cause(ctx), &intr) {
		return intr.Code
	}
	return code
}

// Run checks the input, probes the server and runs the checks. A nil result comes with
// exit code 2 and the reason already printed.
func Run(ctx context.Context, opts Options) (*Result, int) {
	bad := func(err error) (*Result, int) {
		fmt.Fprintln(opts.Stderr, "muster-test conform:", err)
		return nil, runner.ExitUsage
	}
	cat, err := Load(catalogue.FS)
	if err != nil {
		return bad(fmt.Errorf("the built-in catalogue: %w", err))
	}
	checks, err := cat.selected(opts.Checks)
	if err != nil {
		return bad(err)
	}
	baseline, err := readBaseline(opts.Baseline, cat)
	if err != nil {
		return bad(err)
	}
	if err := opts.checkOutputs(); err != nil {
		return bad(err)
	}
	t, err := opts.target()
	if err != nil {
		return bad(err)
	}
	t.protocol = opts.Protocol
	ropts := opts.runnerOptions(t)
	start := time.Now()
	probe, err := t.probe()
	if err != nil {
		return bad(err)
	}
	run, err := runner.RunLoaded(ctx, ropts, []*scenario.Scenario{probe}, report.Multi())
	if err != nil {
		return bad(err)
	}
	if ctx.Err() != nil {
		return bad(errors.New("interrupted before the checks ran"))
	}
	if err := judgeProbe(t.describe(), run.Results[0]); err != nil {
		return bad(err)
	}
	out := &Result{Target: t.describe(), Start: start}
	var scs []*scenario.Scenario
	for _, c := range checks {
		if why := t.notApplicable(c); why != "" {
			out.Outcomes = append(out.Outcomes, Outcome{Check: c, Verdict: NA, Reason: why})
			continue
		}
		sc := t.scenarioFor(c)
		if opts.CheckTimeout > 0 {
			sc.Timeout = scenario.Duration(opts.CheckTimeout)
		}
		scs = append(scs, sc)
		out.Outcomes = append(out.Outcomes, Outcome{Check: c})
	}
	if len(scs) > 0 {
		if run, err = runner.RunLoaded(ctx, ropts, scs, report.Multi()); err != nil {
			return bad(err)
		}
	}
	byName := map[string]*event.ScenarioResult{}
	for i := range run.Results {
		byName[run.Results[i].Name] = &run.Results[i]
	}
	code := runner.ExitOK
	for i := range out.Outcomes {
		o := &out.Outcomes[i]
		if o.Verdict == "" {
			o.Result = byName[o.Check.ID]
			o.Verdict, o.Reason = judge(o.Check, o.Result)
		}
		baseline.apply(o)
		if o.Verdict == Fail || o.Stale {
			code = runner.ExitFailed
		}
	}
	out.Duration = time.Since(start)
	var intr *runner.Interrupt
	if errors.As(context.Cause(ctx), &intr) {
		out.Interrupted = intr.Signal
	}
	return out, code
}

// selected is the checks --check names, in the catalogue's order; all without it.
func (cat *Catalogue) selected(ids []string) ([]*Check, error) {
	if len(ids) == 0 {
		return cat.Checks, nil
	}
	want := map[string]bool{}
	for _, id := range ids {
		if cat.Find(id) == nil {
			return nil, cat.unknown(id)
		}
		want[id] = true
	}
	var out []*Check
	for _, c := range cat.Checks {
		if want[c.ID] {
			out = append(out, c)
		}
	}
	return out, nil
}

func (opts *Options) target() (*target, error) {
	given := 0
	for _, v := range []string{opts.URL, opts.ConfigFile, opts.Gateway} {
		if v != "" {
			given++
		}
	}
	switch {
	case given != 1:
		return nil, errors.New("give exactly one of --sut-url URL (a running server), --config FILE (a sut block and mocks: the server is started for each check) and --gateway builtin|muster (a muster-shaped gateway)")
	case opts.Gateway != "":
		if opts.Gateway != "builtin" && opts.Gateway != "muster" {
			return nil, fmt.Errorf("--gateway %q: want builtin (the reference SUT) or muster", opts.Gateway)
		}
		return &target{gateway: opts.Gateway, gatewayAuth: opts.GatewayAuth}, nil
	case opts.GatewayAuth:
		return nil, errors.New("--gateway-auth goes with --gateway: it says how the gateway is configured")
	case opts.URL != "":
		if !strings.HasPrefix(opts.URL, "http://") && !strings.HasPrefix(opts.URL, "https://") {
			return nil, fmt.Errorf("--sut-url %q: want the http(s) URL of the MCP endpoint", opts.URL)
		}
		return &target{url: opts.URL}, nil
	}
	t, diags, err := loadConfig(opts.ConfigFile)
	for _, d := range diags {
		fmt.Fprintln(opts.Stderr, d.String())
	}
	return t, err
}

func (opts *Options) runnerOptions(t *target) *runner.Options {
	kind := "builtin"
	if t.gateway != "" {
		kind = t.gateway
	}
	return &runner.Options{Parallel: opts.Parallel, ReadyTimeout: opts.ReadyTimeout, Debug: opts.Debug,
		Stdout: opts.Stdout, Stderr: opts.Stderr,
		SUT: runner.SUTOptions{Kind: kind, URL: t.url, Args: opts.SUTArgs, Self: opts.Self, Child: opts.Child, Relay: opts.Relay,
			MusterBinary: opts.MusterBinary, Protocol: opts.Protocol}}
}

// judge turns a check's scenario result into its verdict. A failing setup- step means
// the check could not be brought to the point it tests: N/A, with the step's message.
func judge(c *Check, res *event.ScenarioResult) (Verdict, string) {
	if res == nil {
		return Fail, "the check did not run"
	}
	switch res.Status {
	case event.Passed:
		return Pass, ""
	case event.Cancelled, event.Skipped:
		return NA, "not run: " + res.Error
	}
	why := res.Error
	timedOut := strings.Contains(res.Error, "timed out")
	if st := res.FailedStep(); st != nil {
		why = firstLine(st.Message)
		if timedOut {
			// A hang is a defect whichever step it stopped; say so before the symptom.
			why = res.Error + ": " + why
		} else if strings.HasPrefix(st.ID, setupPrefix) {
			return NA, "could not set up the check: " + why
		}
	}
	switch c.Level {
	case Must:
		return Fail, why
	case Should:
		return Warn, why
	}
	return NA, "optional (MAY), not offered: " + why
}
