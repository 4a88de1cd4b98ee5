package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/expect"
	"github.com/muster-test/muster-test/internal/result"
	"github.com/muster-test/muster-test/scenario"
)

// Polling for wait_for_state starts fast, because most states settle within milliseconds
// on loopback, and backs off so a slow state does not flood the SUT.
const (
	pollStart = 10 * time.Millisecond
	pollMax   = 500 * time.Millisecond
)

const defaultStepTimeout = 30 * time.Second

// attempts calls the step until its expectations hold or its retries and its
// wait_for_state window are used up. It returns the last result and what it did not meet,
// or the error of a call that could not be made.
func (x *execution) attempts(ctx context.Context, st *scenario.Step, args map[string]any, sr *event.StepResult) (*result.Result, []expect.Unmet, error) {
	maxAttempts, delay, mult := 1, time.Duration(0), 1.0
	if st.Retry != nil {
		maxAttempts += st.Retry.Count
		delay = st.Retry.Delay.D()
		if st.Retry.BackoffMultiplier > 0 {
			mult = st.Retry.BackoffMultiplier
		}
	}
	var pollUntil time.Time
	if st.Expected != nil && st.Expected.WaitForState > 0 {
		pollUntil = time.Now().Add(st.Expected.WaitForState.D())
	}
	poll := pollStart
	for attempt := 1; ; attempt++ {
		sr.Attempts = attempt
		res, unmet, err := x.callChecked(ctx, st, args)
		if err == nil && len(unmet) == 0 {
			return res, nil, nil
		}
		if x.stopped(ctx) {
			return res, unmet, err
		}
		var wait time.Duration
		switch {
		case attempt < maxAttempts:
			wait = delay
			delay = nextDelay(delay, mult)
		case !pollUntil.IsZero() && time.Now().Before(pollUntil):
			wait = min(poll, time.Until(pollUntil))
			poll = min(poll*3/2, pollMax)
		default:
			if len(unmet) > 0 && !pollUntil.IsZero() {
				unmet[0].Expectation += fmt.Sprintf(" (still unmet after wait_for_state %s)", st.Expected.WaitForState)
			}
			return res, unmet, err
		}
		if err := sleepCtx(ctx, wait); err != nil {
			return res, unmet, context.Cause(ctx)
		}
	}
}

// nextDelay is the wait after d under a backoff multiplier, at most scenario.MaxRetryDelay:
// 1000 retries times 10 would overflow a Duration into a negative one, i.e. no wait.
func nextDelay(d time.Duration, mult float64) time.Duration {
	return time.Duration(min(float64(d)*mult, float64(scenario.MaxRetryDelay.D())))
}

// sleepCtx waits d, or until ctx ends. It is the pause between attempts that retry and
// wait_for_state define, not a wait for an event.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// callChecked makes the step's call (N concurrent copies with `parallel: N`) and checks
// every copy's result.
func (x *execution) callChecked(ctx context.Context, st *scenario.Step, args map[string]any) (*result.Result, []expect.Unmet, error) {
	n := max(1, st.Parallel)
	results := make([]*result.Result, n)
	errs := make([]error, n)
	took := make([]time.Duration, n)
	timed := func(i int) {
		start := time.Now()
		results[i], errs[i] = x.call(ctx, st, args)
		took[i] = time.Since(start)
	}
	if n == 1 {
		timed(0)
	} else {
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				// A panic in a copy (a test tool's bug) fails that copy instead of the
				// whole process with every running scenario's SUT and temp dir.
				defer func() {
					if p := recover(); p != nil {
						errs[i] = fmt.Errorf("%w: panic in %s: %v", ErrCannotRun, st.Tool, p)
					}
				}()
				timed(i)
			})
		}
		wg.Wait()
	}
	for i, err := range errs {
		if err != nil {
			if n > 1 {
				err = fmt.Errorf("copy %d of %d: %w", i+1, n, err)
			}
			return nil, nil, err
		}
	}
	for i, res := range results {
		if unmet := expect.Check(st.Expected, res); len(unmet) > 0 {
			if n > 1 {
				for j := range unmet {
					unmet[j].Expectation = fmt.Sprintf("copy %d of %d: %s", i+1, n, unmet[j].Expectation)
				}
			}
			return res, unmet, nil
		}
	}
	if unmet := expect.Durations(st.Expected, took); len(unmet) > 0 {
		return results[0], unmet, nil
	}
	return results[0], nil, nil
}

// call makes one call of the step's tool: a test tool from the registry, or a SUT tool on
// the current user's session.
func (x *execution) call(ctx context.Context, st *scenario.Step, args map[string]any) (*result.Result, error) {
	timeout := st.Timeout.D()
	if timeout <= 0 {
		timeout = x.e.StepTimeout
	}
	if timeout <= 0 {
		timeout = defaultStepTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	timedOut := func() bool {
		return errors.Is(cctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil
	}
	if strings.HasPrefix(st.Tool, "test_") {
		tool, ok := x.e.Tools[st.Tool]
		if !ok || tool.Run == nil {
			return nil, fmt.Errorf("%w: unknown test tool %q", ErrCannotRun, st.Tool)
		}
		if err := tool.CheckArgs(args); err != nil {
			return result.Failure(err.Error()), nil
		}
		m, err := tool.Run(cctx, x.run, args)
		switch {
		case timedOut():
			return nil, fmt.Errorf("%s %w after %s", st.Tool, ErrTimedOut, timeout)
		case errors.Is(err, ErrCannotRun):
			return nil, err
		case err != nil:
			return result.Failure(err.Error()), nil
		}
		return result.Object(m), nil
	}
	sess, err := x.run.Session("")
	if err != nil {
		return nil, err
	}
	res, err := sess.CallTool(cctx, st.Tool, args)
	if err != nil && timedOut() {
		return nil, fmt.Errorf("call %w after %s", ErrTimedOut, timeout)
	}
	return res, err
}
