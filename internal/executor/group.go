package executor

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/scenario"
)

// group runs the steps of a concurrently group at the same time and waits for all of them.
// Each step runs in an execution of its own that shares the scenario's users and results
// but not the current user: a step's as_user holds for that step alone, and a step
// without one runs as the user current when the group started. The group's own result
// comes first, then its steps' in the order of the file; it fails with the first of them
// that failed without continue_on_failure.
func (x *execution) group(ctx context.Context, g *scenario.Step) event.StepResult {
	start := time.Now()
	user := x.run.CurrentUser()
	members := make([]*execution, len(g.Concurrently))
	var wg sync.WaitGroup
	for i := range g.Concurrently {
		m := &execution{e: x.e, run: x.run.forStep(user), store: x.store}
		members[i] = m
		st := &g.Concurrently[i]
		wg.Go(func() {
			// A panic in one step (a test tool's bug) is that step's error, not the end
			// of the process and every running scenario.
			defer func() {
				if p := recover(); p != nil {
					m.steps = append(m.steps, event.StepResult{ID: st.ID, Tool: st.Tool, Phase: event.PhaseStep, Line: st.Pos.Line,
						Start: start, Duration: time.Since(start), Status: event.Error,
						Message: fmt.Sprintf("step %s (tool %s): %v: panic: %v", stepName(st), st.Tool, ErrCannotRun, p)})
				}
			}()
			m.step(ctx, st, event.PhaseStep)
		})
	}
	wg.Wait()

	sr := event.StepResult{ID: g.ID, Tool: event.GroupTool, Description: g.Description, Phase: event.PhaseStep,
		Line: g.Pos.Line, Start: start, Status: event.Passed, Attempts: 1}
	var done []event.StepResult
	for i, m := range members {
		for _, r := range m.steps {
			r.Group = g.ID
			switch {
			case r.Status == event.Passed:
			case g.Concurrently[i].ContinueOnFailure && !x.stopped(ctx):
				r.ContinuedOnFailure = true
			case sr.Status == event.Passed:
				sr.Status, sr.Expectation, sr.Expected, sr.Got, sr.TimedOut = r.Status, r.Expectation, r.Expected, r.Got, r.TimedOut
				sr.ExpectationLine, sr.ExpectationCol, sr.Excerpt, sr.AlsoUnmet = r.ExpectationLine, r.ExpectationCol, r.Excerpt, r.AlsoUnmet
				sr.Message = fmt.Sprintf("group %s: %s", stepName(g), r.Message)
			}
			done = append(done, r)
		}
	}
	sr.Duration = time.Since(start)
	if sr.Status != event.Passed && g.ID != "" {
		x.store.fail(g.ID)
	}
	x.emit(sr)
	x.steps = append(x.steps, done...)
	return sr
}
