package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/muster-test/muster-test/internal/env"
	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/executor"
	"github.com/muster-test/muster-test/internal/schedule"
	"github.com/muster-test/muster-test/internal/sut"
	"github.com/muster-test/muster-test/internal/testtools"
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
func MainWith(ctx context.Context, opts *Options, driver sut.Driver) int {
	w := &worker{opts: opts, driver: driver, tools: testtools.Registry()}
	return Run(ctx, opts, w.run, driver.Describe())
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
	builtin := &sut.Muster{Label: "builtin reference SUT", Command: []string{o.Self, "reference-sut"}, Args: o.Args}
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
		return &sut.Muster{Label: "muster", Command: []string{abs}, Args: o.Args, RestartStalled: true}, nil
	default: // auto
		if o.MusterBinary != "" {
			o.Kind = "muster"
			return ChooseDriver(o)
		}
		if p, err := exec.LookPath("muster"); err == nil {
			abs, _ := filepath.Abs(p)
			return &sut.Muster{Label: "muster (found on PATH)", Command: []string{abs}, Args: o.Args, RestartStalled: true}, nil
		}
		return builtin, nil
	}
}

// worker runs one scenario from environment to teardown.
type worker struct {
	opts   *Options
	driver sut.Driver
	tools  executor.Registry
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func (w *worker) run(ctx context.Context, sc *scenario.Scenario) (res event.ScenarioResult) {
	res = schedule.Skeleton(sc)
	res.Start = time.Now()
	defer func() {
		res.End = time.Now()
		res.Duration = res.End.Sub(res.Start)
	}()
	var cancel context.CancelFunc
	if sc.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, sc.Timeout.D())
		defer cancel()
	}
	stop := func(st event.Status, msg string) event.ScenarioResult {
		res.Status, res.Error = st, msg
		if errors.Is(ctx.Err(), context.Canceled) {
			res.Status, res.Error = event.Cancelled, "cancelled: "+context.Cause(ctx).Error()
		}
		return res
	}

	dir, err := os.MkdirTemp("", "muster-test-"+unsafeName.ReplaceAllString(sc.Name, "_")+"-")
	if err != nil {
		return stop(event.Error, "create temp dir: "+err.Error())
	}
	defer func() {
		if w.opts.KeepTempDirs {
			res.Notes = append(res.Notes, "temp dir kept: "+dir)
			return
		}
		os.RemoveAll(dir)
	}()

	t := time.Now()
	e, err := env.Start(ctx, sc, dir, w.opts.SUT.Self)
	res.Timings.Environment = time.Since(t)
	if err != nil {
		return stop(event.Error, "start mocks: "+err.Error())
	}
	defer e.Close()

	spec := e.SUTSpec()
	spec.Debug, spec.ReadyTimeout = w.opts.Debug, w.opts.ReadyTimeout
	var trace traceLog
	if w.opts.Debug {
		spec.Trace = trace.add
	}
	world := e.World()
	if b := directBlock(sc, w.opts.SUT); b != nil {
		if spec.Direct, err = directSpec(b, e, world); err != nil {
			return stop(event.Error, err.Error())
		}
		if len(spec.Direct.Command) == 0 {
			res.Notes = append(res.Notes, "SUT already running at "+spec.Direct.URL+": nothing was started, so isolation from other scenarios is up to you")
		}
	}
	inst, err := w.driver.Start(ctx, spec)
	if inst != nil {
		res.Timings.SUTStart, res.Timings.Ready = inst.StartDur, inst.ReadyDur
	}
	if err != nil {
		res.Trace = trace.lines()
		return stop(event.Error, "SUT did not start: "+err.Error())
	}
	defer func() {
		t := time.Now()
		inst.Stop()
		res.Timings.Teardown = time.Since(t)
		res.Timings.SUTListen = inst.ListenDur()
		res.Notes = append(res.Notes, inst.Notes()...)
		if w.opts.Debug || res.Status == event.Failed || res.Status == event.Error {
			res.SUTLog = inst.Log()
		}
		res.Trace = trace.lines()
	}()

	tw, err := testtools.NewWorld(e, inst, spec.Direct != nil)
	if err != nil {
		return stop(event.Error, err.Error())
	}
	defer tw.Close()
	first, err := tw.NewSession(ctx, "default", "")
	if err != nil {
		return stop(event.Error, "connect to the SUT: "+explain(err, inst))
	}
	ex := &executor.Executor{Tools: w.tools}
	t = time.Now()
	run := executor.NewRun(sc, tw, first)
	run.World = world
	out := ex.Execute(ctx, run)
	res.Timings.Steps = time.Since(t)
	res.Steps, res.Status, res.Error = out.Steps, out.Status, out.Error
	return res
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
