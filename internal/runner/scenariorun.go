package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/muster-test/muster-test/internal/env"
	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/executor"
	"github.com/muster-test/muster-test/internal/reaper"
	"github.com/muster-test/muster-test/internal/schedule"
	"github.com/muster-test/muster-test/internal/sut"
	"github.com/muster-test/muster-test/internal/tempdir"
	"github.com/muster-test/muster-test/internal/testtools"
	"github.com/muster-test/muster-test/internal/traffic"
	"github.com/muster-test/muster-test/scenario"
)

// Main runs the scenarios the options select against the SUT they choose.
func Main(ctx context.Context, opts *Options) int {
	driver, err := ChooseDriver(opts.SUT)
	if err != nil {
		fmt.Fprintln(opts.Stderr, "muster-test:", err)
		return ExitUsage
	}
	return MainWith(ctx, opts, driver)
}

// MainWith runs the scenarios against the given SUT driver.
//
// It makes this process a child subreaper, so it must be the only code of the process that
// starts children while it runs (see package reaper); at its end it kills what the run's
// processes left behind that no scenario's teardown could attribute.
func MainWith(ctx context.Context, opts *Options, driver sut.Driver) int {
	defer prepare(opts)()
	w := newScenarioRunner(opts, driver)
	defer w.spares.Close()
	early := w.expectEarly()
	return Run(ctx, opts, w.run, driver.Describe(), func(scs []*scenario.Scenario) { w.expect(scs, early) })
}

// RunLoaded runs scenarios loaded elsewhere (muster-test conform builds its own) against
// the SUT the options choose and hands their events to l alone: the caller reports. The
// run's process rules are those of MainWith.
func RunLoaded(ctx context.Context, opts *Options, scs []*scenario.Scenario, l event.Listener) (event.Run, error) {
	driver, err := ChooseDriver(opts.SUT)
	if err != nil {
		return event.Run{}, err
	}
	defer prepare(opts)()
	w := newScenarioRunner(opts, driver)
	defer w.spares.Close()
	w.expect(scs, "")
	return schedule.Run(ctx, scs, schedule.Options{Parallel: opts.Parallel,
		Timeout: opts.Timeout, Info: event.RunInfo{SUT: driver.Describe()}}, w.run, l), nil
}

// prepare makes this process a child subreaper and sweeps the temp dirs of runners that
// are gone; the function it returns kills what the run's processes left behind.
func prepare(opts *Options) func() {
	if err := reaper.Enable(); err != nil {
		fmt.Fprintln(opts.Stderr, "muster-test: warning: cannot become a child subreaper; orphans of a SUT go to init:", err)
	}
	removed, err := tempdir.Sweep()
	if len(removed) > 0 {
		fmt.Fprintf(opts.Stderr, "muster-test: removed %d temp dir(s) of runners that no longer run: %s\n",
			len(removed), strings.Join(removed, ", "))
	}
	if err != nil {
		fmt.Fprintln(opts.Stderr, "muster-test: warning: removing temp dirs of runners that no longer run:", err)
	}
	return func() { reaper.KillAdopted(time.Now().Add(TeardownBudget)) }
}

// Abandon is the exit at once, for a second signal: it kills the process group of every
// SUT the run started and every process those started, and removes the run's temp dirs,
// without waiting for the scenarios' teardown. The process must exit right after it.
func Abandon() {
	reaper.KillAll(time.Now().Add(TeardownBudget))
	if err := tempdir.RemoveAll(); err != nil {
		fmt.Fprintln(os.Stderr, "muster-test: removing the temp dirs:", err)
	}
}

// ChooseDriver picks the SUT: muster from --muster-binary or PATH, or the reference SUT
// built into this binary.
func ChooseDriver(o SUTOptions) (sut.Driver, error) {
	switch {
	case o.URL != "":
		return sut.Direct{Label: "the server at " + o.URL + " (--sut-url; already running: nothing is started, so isolation between scenarios is up to you)"}, nil
	case len(o.Command) > 0:
		return sut.Direct{Label: "the command " + strings.Join(o.Command, " ") + " (--sut-command), started per scenario"}, nil
	}
	builtin := &sut.ServeDriver{Label: "builtin reference SUT", Command: []string{o.childBinary(), "reference-sut"}, Args: o.Args}
	switch o.Kind {
	case "builtin":
		return builtin, nil
	case "muster":
		bin := o.MusterBinary
		if bin == "" {
			p, err := exec.LookPath("muster")
			if err != nil {
				return nil, errors.New("--sut muster: no muster on PATH; give --muster-binary PATH")
			}
			bin = p
		}
		abs, err := filepath.Abs(bin)
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(abs); err != nil {
			return nil, fmt.Errorf("--muster-binary: %w", err)
		}
		return &sut.ServeDriver{Label: "muster", Command: []string{abs}, Args: o.Args, RestartStalled: true}, nil
	default: // auto
		if o.MusterBinary != "" {
			o.Kind = "muster"
			return ChooseDriver(o)
		}
		if p, err := exec.LookPath("muster"); err == nil {
			abs, _ := filepath.Abs(p)
			return &sut.ServeDriver{Label: "muster (found on PATH)", Command: []string{abs}, Args: o.Args, RestartStalled: true}, nil
		}
		return builtin, nil
	}
}

// directStarts is how often a direct-mode SUT is started before a lost port race is an error.
const directStarts = 3

// scenarioRunner runs each scenario it is handed (by the scheduler's workers) from
// environment to teardown; it holds what every scenario of the run shares.
type scenarioRunner struct {
	opts   *Options
	driver sut.Driver
	tools  executor.Registry
	// spares are processes started ahead of the scenarios' SUT starts (nil when
	// --sut-url or --sut-command names the SUT; see spares.go).
	spares *sut.Spares
	// oneProc runs a SUT of muster-test's own binaries with GOMAXPROCS=1 (see sutEnv).
	oneProc bool
}

// scenarioRun is one scenario on its way through the phases: set up (temp dir, mocks, SUT,
// first session), steps, teardown. It holds what the set-up started, for the teardown.
type scenarioRun struct {
	w     *scenarioRunner
	sc    *scenario.Scenario
	res   event.ScenarioResult
	dir   string
	env   *env.Env
	inst  *sut.Instance
	world *testtools.World
	// values are the world templates' values (env.World), for the executor.
	values map[string]any
	trace  traceLog
	// traffic keeps the scenario's HTTP requests for the result's Exchanges (nil when
	// unrecorded).
	traffic    *traffic.Log
	unrecorded bool
}

func (w *scenarioRunner) run(ctx context.Context, sc *scenario.Scenario) (res event.ScenarioResult) {
	r := &scenarioRun{w: w, sc: sc, res: schedule.Skeleton(sc)}
	r.res.Start = time.Now()
	// Deferred, so that a panic in a phase still tears down what was started.
	defer func() {
		r.teardown()
		r.res.End = time.Now()
		r.res.Duration = r.res.End.Sub(r.res.Start)
		res = r.res
	}()
	setUpCtx := ctx
	var deadline time.Time
	if sc.Timeout > 0 {
		deadline = r.res.Start.Add(sc.Timeout.D())
		var cancel context.CancelFunc
		setUpCtx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	first, err := r.setUp(setUpCtx)
	if err != nil {
		r.res.Status, r.res.Error = event.Error, err.Error()
		if errors.Is(setUpCtx.Err(), context.Canceled) {
			r.res.Status, r.res.Error = event.Cancelled, "cancelled: "+context.Cause(setUpCtx).Error()
		}
		return
	}
	ex := &executor.Executor{Tools: w.tools}
	run := executor.NewState(sc, r.world, first)
	run.World = r.values
	// The executor applies the deadline itself: cleanup may run a little past it.
	run.Deadline = deadline
	t := time.Now()
	out := ex.Execute(ctx, run)
	r.res.Timings.Steps = time.Since(t)
	r.res.Steps, r.res.Status, r.res.Error = out.Steps, out.Status, out.Error
	if out.TimedOut && r.inst != nil {
		// Before the teardown stops it: a hung server's stacks say where it hangs.
		r.res.AfterSignal = r.inst.SignalOnTimeout()
	}
	return
}

// setUp makes the scenario's temp dir, starts its mocks and its SUT, and opens the default
// user's session. Its error is the scenario's.
func (r *scenarioRun) setUp(ctx context.Context) (executor.Session, error) {
	var err error
	if r.dir, err = tempdir.Create(r.sc.Name, r.w.opts.KeepTempDirs); err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	t := time.Now()
	r.env, err = env.Start(ctx, r.sc, r.dir, env.Binaries{Self: r.w.opts.SUT.Self,
		Child: r.w.opts.SUT.childBinary(), Relay: r.w.opts.SUT.Relay})
	r.res.Timings.Environment = time.Since(t)
	if err != nil {
		return nil, fmt.Errorf("start mocks: %w", err)
	}
	if !r.unrecorded {
		r.traffic = traffic.New()
		r.env.Record(r.traffic)
	}
	spec := r.env.SUTSpec()
	spec.Debug, spec.ReadyTimeout = r.w.opts.Debug, r.w.opts.ReadyTimeout
	if r.w.opts.Debug {
		spec.Trace = r.trace.add
	}
	r.values = r.env.World()
	spec.Protocol = r.w.opts.SUT.Protocol
	spec.Spares = r.w.spares
	b := directBlock(r.sc.SUT, r.w.opts.SUT)
	if b != nil {
		if spec.Direct, err = directSpec(b, r.env, r.values); err != nil {
			return nil, err
		}
		if spec.Protocol == "" {
			spec.Protocol = b.Protocol
		}
		if len(spec.Direct.Command) == 0 {
			r.res.Notes = append(r.res.Notes, "SUT already running at "+spec.Direct.URL+": nothing was started, so isolation from other scenarios is up to you")
		}
	}
	spec.Env = r.w.sutEnv(spec)
	if spec.Gateway != nil && spec.Direct == nil {
		if spec.Gateway.Login, err = testtools.GatewayLogin(r.env); err != nil {
			return nil, err
		}
	} else {
		spec.Gateway = nil // a sut block's SUT says itself how it is protected
	}
	inst, err := r.w.driver.Start(ctx, spec)
	// A started server's ports are in its command: after a lost race for one, resolve the
	// block again on new ports and start it again, as the muster-shaped driver does.
	for attempt := 1; b != nil && attempt < directStarts && errors.Is(err, sut.ErrPortTaken) && ctx.Err() == nil; attempt++ {
		r.res.Notes = append(r.res.Notes, fmt.Sprintf("SUT start %d failed and was retried on new ports: %s",
			attempt, strings.SplitN(err.Error(), "\n", 2)[0]))
		if spec.Direct, err = directSpec(b, r.env, r.values); err != nil {
			return nil, err
		}
		spec.Env = r.w.sutEnv(spec)
		inst, err = r.w.driver.Start(ctx, spec)
	}
	if inst != nil {
		r.res.Timings.SUTStart, r.res.Timings.Ready = inst.StartDur, inst.ReadyDur
	}
	if err != nil {
		return nil, fmt.Errorf("SUT did not start: %w", err)
	}
	r.inst = inst
	r.traffic.Name(inst.Endpoint, event.PartySUT)
	if r.world, err = testtools.NewWorld(r.env, inst, spec.Direct != nil); err != nil {
		return nil, err
	}
	first, err := r.world.NewSession(ctx, "default", "")
	if err != nil {
		return nil, errors.New("connect to the SUT: " + explain(err, inst))
	}
	return first, nil
}

func explain(err error, inst *sut.Instance) string {
	if f := inst.Fault(); f != nil {
		return f.Error()
	}
	return err.Error()
}

// traceLog collects the MCP traffic of a scenario for --debug.
type traceLog struct {
	mu sync.Mutex
	l  []string
}

func (t *traceLog) add(line string) {
	t.mu.Lock()
	t.l = append(t.l, strings.TrimRight(line, "\n"))
	t.mu.Unlock()
}

func (t *traceLog) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.l...)
}
