package executor

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/scenario"
)

// DefaultCleanupGrace is how long cleanup may run past the scenario's deadline: enough for
// a few calls to a SUT that answers, short enough that a hung one costs little.
const DefaultCleanupGrace = 2 * time.Second

func (e *Executor) cleanupGrace() time.Duration {
	if e.CleanupGrace > 0 {
		return e.CleanupGrace
	}
	return DefaultCleanupGrace
}

// cleanup runs the scenario's cleanup list in ctx, then the step-level cleanup items of
// passed steps in reverse order (best effort, never the verdict). A failed cleanup step
// decides the verdict only while stepsCtx, which carries the scenario's deadline, lasts:
// after it, the timeout is the verdict. What cannot run any more is reported SKIPPED.
func (x *execution) cleanup(ctx, stepsCtx context.Context, stepCleanups []scenario.Step) {
	sc := x.run.Scenario
	for i := range sc.Cleanup {
		st := &sc.Cleanup[i]
		if x.stopped(ctx) {
			x.notRun(ctx, st, event.PhaseCleanup)
			continue
		}
		sr, _ := x.step(ctx, st, event.PhaseCleanup)
		if sr.Status == event.Passed {
			continue
		}
		if st.ContinueOnFailure {
			x.steps[len(x.steps)-1].ContinuedOnFailure = true
			continue
		}
		x.decide(stepsCtx, sr)
	}
	for i := len(stepCleanups) - 1; i >= 0; i-- {
		if x.stopped(ctx) {
			x.notRun(ctx, &stepCleanups[i], event.PhaseStepCleanup)
			continue
		}
		x.step(ctx, &stepCleanups[i], event.PhaseStepCleanup)
	}
}

// notRun reports a cleanup step that was not run, and why.
func (x *execution) notRun(ctx context.Context, st *scenario.Step, phase event.Phase) {
	x.emit(event.StepResult{ID: st.ID, Tool: st.Tool, Description: st.Description, Phase: phase,
		Line: st.Pos.Line, Start: time.Now(), Status: event.Skipped,
		Message: fmt.Sprintf("step %s (tool %s): not run: %s", stepName(st), st.Tool, x.whyStopped(ctx))})
}

// notReached reports the steps after the one that stopped the scenario (last) as NOT_RUN,
// so a report shows what the scenario never checked.
func (x *execution) notReached(ctx context.Context, steps []scenario.Step, last *event.StepResult) {
	why := fmt.Sprintf("step %s %s", stepRef(last), last.Status)
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		why = "the scenario timed out"
	case x.stopped(ctx):
		why = x.whyStopped(ctx)
	}
	for i := range steps {
		st := &steps[i]
		tool := st.Tool
		if st.IsGroup() {
			tool = event.GroupTool
		}
		x.emit(event.StepResult{ID: st.ID, Tool: tool, Description: st.Description, Phase: event.PhaseStep,
			Line: st.Pos.Line, Status: event.NotRun, Message: "not run: " + why})
		for _, m := range st.Concurrently {
			x.emit(event.StepResult{ID: m.ID, Tool: m.Tool, Description: m.Description, Phase: event.PhaseStep,
				Line: m.Pos.Line, Status: event.NotRun, Message: "not run: " + why, Group: st.ID})
		}
	}
}

// stepRef names a step result by its id, or its line when it has none.
func stepRef(sr *event.StepResult) string {
	if sr.ID != "" {
		return fmt.Sprintf("%q", sr.ID)
	}
	return fmt.Sprintf("at line %d", sr.Line)
}

// whyStopped says why the scenario cannot go on (see stopped).
func (x *execution) whyStopped(ctx context.Context) string {
	switch {
	case x.run.Harness.Fault() != nil:
		return "the SUT is gone"
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Sprintf("the scenario's time and the %s of cleanup after it ran out", x.e.cleanupGrace())
	case context.Cause(ctx) != nil && context.Cause(ctx) != context.Canceled:
		return "cancelled: " + context.Cause(ctx).Error()
	default:
		return "cancelled"
	}
}
