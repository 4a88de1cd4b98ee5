// Package schedule runs many scenarios on a pool of workers, each scenario isolated, and
// turns every way a run can stop early (--fail-fast, --timeout, an interrupt) into
// CANCELLED results rather than silently dropped scenarios.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/scenario"
)

// ScenarioFunc runs one scenario from start to teardown. It must return promptly once ctx
// is cancelled, reporting CANCELLED.
type ScenarioFunc func(ctx context.Context, sc *scenario.Scenario) event.ScenarioResult

// Options shape a run.
type Options struct {
	Parallel int           // workers; <= 0 means the number of CPUs
	FailFast bool          // the first FAILED or ERROR scenario cancels the rest
	Timeout  time.Duration // the whole run; 0 means none
	Info     event.RunInfo // passed to the listener's RunStarted
}

// ErrRunTimeout is the cause of cancellations by Options.Timeout.
var ErrRunTimeout = errors.New("the run's --timeout was reached")

// Run runs scs and reports to l. Results come back in the order of scs, whatever order
// they finished in. Cancelling ctx (with a cause, e.g. the signal) stops the run; the
// scenarios not yet finished are reported CANCELLED with that cause.
func Run(ctx context.Context, scs []*scenario.Scenario, opts Options, runOne ScenarioFunc, l event.Listener) event.Run {
	workers := opts.Parallel
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	workers = min(workers, max(1, len(scs)))
	parent := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if opts.Timeout > 0 {
		// A cancellation, not a deadline: scenarios stopped by the run's timeout are
		// CANCELLED, while a scenario's own `timeout` (a deadline) makes it ERROR.
		t := time.AfterFunc(opts.Timeout, func() { cancel(fmt.Errorf("%w (%s)", ErrRunTimeout, opts.Timeout)) })
		defer t.Stop()
	}

	info := opts.Info
	info.Parallel, info.Scenarios = workers, len(scs)
	l.RunStarted(info)
	run := event.Run{Info: info, Start: time.Now(), Results: make([]event.ScenarioResult, len(scs))}

	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				res := runGuarded(ctx, scs[i], runOne, l)
				run.Results[i] = res
				if opts.FailFast && (res.Status == event.Failed || res.Status == event.Error) {
					cancel(fmt.Errorf("--fail-fast: scenario %q %s", res.Name, res.Status))
				}
				l.ScenarioFinished(res)
			}
		})
	}
	for i, sc := range scs {
		if sc.Skip {
			res := skeleton(sc)
			res.Status, res.Error = event.Skipped, "skip: true"
			listNotRun(sc, &res)
			run.Results[i] = res
			l.ScenarioFinished(res)
			continue
		}
		select {
		case jobs <- i:
			continue
		case <-ctx.Done():
		}
		// Stopped before this scenario could start: report it, never drop it.
		res := skeleton(sc)
		res.Status, res.Error = event.Cancelled, "not started: "+context.Cause(ctx).Error()
		listNotRun(sc, &res)
		run.Results[i] = res
		l.ScenarioFinished(res)
	}
	close(jobs)
	wg.Wait()

	run.End = time.Now()
	run.Duration = run.End.Sub(run.Start)
	for _, r := range run.Results {
		run.Summary.Add(r.Status)
	}
	if parent.Err() != nil {
		run.Info.Interrupted = context.Cause(parent).Error()
	} else if cause := context.Cause(ctx); errors.Is(cause, ErrRunTimeout) {
		run.Info.Interrupted = cause.Error()
	}
	l.RunFinished(run)
	return run
}

// runGuarded runs one scenario and turns a panic in the runner into an ERROR result, so
// one broken scenario cannot take the whole run down with it.
func runGuarded(ctx context.Context, sc *scenario.Scenario, runOne ScenarioFunc, l event.Listener) (res event.ScenarioResult) {
	l.ScenarioStarted(sc.Name)
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			res = skeleton(sc)
			res.Status, res.Error = event.Error, fmt.Sprintf("runner panic: %v", p)
			res.Start, res.End, res.Duration = start, time.Now(), time.Since(start)
		}
		listNotRun(sc, &res)
	}()
	return runOne(ctx, sc)
}

// listNotRun lists every step and cleanup step as NOT_RUN when none has a result: the
// scenario was skipped, stopped before it started, or its SUT never became ready. (When
// some steps ran, the executor lists the ones it did not reach.)
func listNotRun(sc *scenario.Scenario, res *event.ScenarioResult) {
	if len(res.Steps) > 0 || res.Status == event.Passed {
		return
	}
	why := "not run"
	if first, _, _ := strings.Cut(res.Error, "\n"); first != "" {
		why += ": " + first
	}
	for _, list := range []struct {
		phase event.Phase
		steps []scenario.Step
	}{{event.PhaseStep, sc.Steps}, {event.PhaseCleanup, sc.Cleanup}} {
		for i := range list.steps {
			st := &list.steps[i]
			res.Steps = append(res.Steps, event.StepResult{ID: st.ID, Tool: st.Tool, Description: st.Description,
				Phase: list.phase, Line: st.Pos.Line, Status: event.NotRun, Message: why})
		}
	}
}

// skeleton is a result that carries a scenario's identity and no outcome yet.
func skeleton(sc *scenario.Scenario) event.ScenarioResult {
	now := time.Now()
	return event.ScenarioResult{Name: sc.Name, File: sc.Pos.File, Category: sc.Category, Concept: sc.Concept,
		Description: sc.Description, Tags: sc.Tags, Start: now, End: now}
}

// Skeleton is exported for ScenarioFuncs that build their result from a scenario.
func Skeleton(sc *scenario.Scenario) event.ScenarioResult { return skeleton(sc) }
