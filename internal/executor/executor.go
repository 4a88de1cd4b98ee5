// Package executor runs one scenario's steps against a started environment: SUT tools and
// runner test tools through one interface, every expectation checked on every result,
// retries, polling, parallel copies, templates, users, cleanup, as scenarios/README.md says.
//
// It knows nothing of processes or mocks: the environment arrives as an Env, and test tools
// that need the mocks reach them through the Env they are handed.
package executor

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/expect"
	"github.com/muster-test/muster-test/internal/result"
	"github.com/muster-test/muster-test/scenario"
)

// Session is one user's MCP session with the SUT.
type Session interface {
	// CallTool calls a SUT tool. A JSON-RPC error or an isError result is a *Result with
	// Failed set; a returned error means the call could not be made at all (step ERROR).
	CallTool(ctx context.Context, name string, args map[string]any) (*result.Result, error)
	// ListTools lists the tool names this session sees.
	ListTools(ctx context.Context) ([]string, error)
}

// Harness is what the executor runs a scenario in: user sessions and the SUT's health.
// testtools.World implements it over the started mocks (env.Env) and the SUT.
type Harness interface {
	// NewSession opens another MCP session for a user. subject, when not empty, is the IdP
	// subject that user logs in as.
	NewSession(ctx context.Context, user, subject string) (Session, error)
	// Fault says why the SUT can no longer answer (it exited), nil while it is healthy.
	// A call that could not be made is reported with this reason when there is one.
	Fault() error
}

// ToolFunc implements a test tool. It returns the tool's JSON object, or an error whose
// text is the failed call's error text. An error wrapping ErrCannotRun makes the step ERROR
// instead of a failed call.
type ToolFunc func(ctx context.Context, run *State, args map[string]any) (map[string]any, error)

// ErrCannotRun marks a test tool error that means the step could not run at all.
var ErrCannotRun = errors.New("cannot run")

// ErrTimedOut marks a call that its step's timeout cut off.
var ErrTimedOut = errors.New("timed out")

// Tool is one test tool: its declaration in the scenario format (arguments are checked
// against it before Run is called, once templates are resolved) and its implementation.
type Tool struct {
	scenario.TestTool
	Run ToolFunc
}

// Registry maps test tool names to their tools.
type Registry map[string]Tool

// Executor runs scenarios. Its zero value is not usable; set Tools.
type Executor struct {
	Tools Registry
	// StepTimeout bounds each call of a step without its own `timeout` (default 30s).
	StepTimeout time.Duration
	// CleanupGrace is how long cleanup may run past the scenario's deadline (default
	// DefaultCleanupGrace).
	CleanupGrace time.Duration
}

// Outcome is what running a scenario's steps decided.
type Outcome struct {
	Status event.Status
	Error  string // why an ERROR or CANCELLED scenario stopped
	Steps  []event.StepResult
	// TimedOut: the scenario ran out of time, or the step that decided it did (the SUT may
	// be hung: a runner can ask it for its stacks then).
	TimedOut bool
}

// State is one scenario's state while it runs: its users and their sessions, its world
// values and deadline. Test tools receive it.
type State struct {
	Scenario *scenario.Scenario
	Harness  Harness
	// World holds the values of world templates (scenario.WorldRoots), resolved in args
	// and expectations; nil when the scenario's world offers none.
	World map[string]any
	// Deadline is the scenario's (its `timeout`); zero for none. See Execute.
	Deadline time.Time

	users *userTable
	// as is set on the view of a step of a concurrently group: that step's user, which
	// is current for the step alone (see forStep).
	as string
}

// userTable is the scenario's users, shared by a State and its views.
type userTable struct {
	mu      sync.Mutex
	byName  map[string]Session
	order   []string
	current string
}

// NewState prepares a scenario run whose `default` user has the given session.
func NewState(sc *scenario.Scenario, env Harness, defaultSession Session) *State {
	return &State{Scenario: sc, Harness: env, users: &userTable{byName: map[string]Session{"default": defaultSession},
		order: []string{"default"}, current: "default"}}
}

// forStep is the State a step of a concurrently group sees: the same scenario and users,
// with user (the step's as_user, else the current user when the group started) current
// for that step only, so steps running at once never switch each other's user.
func (r *State) forStep(user string) *State {
	v := *r
	v.as = user
	return &v
}

// CurrentUser is the user whose session SUT calls go to.
func (r *State) CurrentUser() string {
	if r.as != "" {
		return r.as
	}
	r.users.mu.Lock()
	defer r.users.mu.Unlock()
	return r.users.current
}

// Session returns a user's session (the current user's for "").
func (r *State) Session(user string) (Session, error) {
	if user == "" {
		user = r.CurrentUser()
	}
	t := r.users
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.byName[user]
	if !ok {
		return nil, fmt.Errorf("unknown user %q (known: %s)", user, strings.Join(t.order, ", "))
	}
	return s, nil
}

// AddUser registers a user's session; it does not switch to it.
func (r *State) AddUser(name string, s Session) error {
	t := r.users
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, dup := t.byName[name]; dup {
		return fmt.Errorf("user %q already exists", name)
	}
	t.byName[name] = s
	t.order = append(t.order, name)
	return nil
}

// SetUser gives a user a new session (a login replaces the session it had), adding the
// user when it is new. The old session is the caller's to close.
func (r *State) SetUser(name string, s Session) {
	t := r.users
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, known := t.byName[name]; !known {
		t.order = append(t.order, name)
	}
	t.byName[name] = s
}

// SwitchUser makes name the current user; on the view of a group's step, for that step.
func (r *State) SwitchUser(name string) error {
	t := r.users
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.byName[name]; !ok {
		return fmt.Errorf("unknown user %q (known: %s)", name, strings.Join(t.order, ", "))
	}
	if r.as != "" {
		r.as = name
		return nil
	}
	t.current = name
	return nil
}

// Users lists the users in creation order.
func (r *State) Users() []string {
	r.users.mu.Lock()
	defer r.users.mu.Unlock()
	return append([]string(nil), r.users.order...)
}

// Execute runs the scenario's steps, its cleanup, and the step-level cleanup items.
// Cancelling ctx stops them all. run.Deadline, when set, is the scenario's: no step starts
// after it, and cleanup may run until CleanupGrace after it, since a cleanup may have to
// undo what the steps did outside the SUT. (Without run.Deadline, a deadline of ctx ends
// steps and cleanup alike.) Cleanup that cannot run is reported SKIPPED with the reason.
func (e *Executor) Execute(ctx context.Context, run *State) Outcome {
	sc := run.Scenario
	var ids []string
	for _, st := range sc.Steps {
		ids = append(ids, st.ID)
		for _, m := range st.Concurrently {
			ids = append(ids, m.ID)
		}
	}
	for _, st := range sc.Cleanup {
		ids = append(ids, st.ID)
	}
	x := &execution{e: e, run: run, store: newStore(ids, run.World)}
	stepsCtx, cleanupCtx := ctx, ctx
	if !run.Deadline.IsZero() {
		var cancel, cancelCleanup context.CancelFunc
		stepsCtx, cancel = context.WithDeadline(ctx, run.Deadline)
		defer cancel()
		cleanupCtx, cancelCleanup = context.WithDeadline(ctx, run.Deadline.Add(e.cleanupGrace()))
		defer cancelCleanup()
	}

	var stepCleanups []scenario.Step
	for i := range sc.Steps {
		st := &sc.Steps[i]
		var sr event.StepResult
		if st.IsGroup() {
			sr = x.group(stepsCtx, st)
		} else {
			sr, _ = x.step(stepsCtx, st, event.PhaseStep)
		}
		if sr.Status == event.Passed {
			stepCleanups = append(stepCleanups, st.Cleanup...)
			continue
		}
		if st.ContinueOnFailure && !x.stopped(stepsCtx) {
			x.steps[len(x.steps)-1].ContinuedOnFailure = true
			continue
		}
		x.decide(stepsCtx, sr)
		x.notReached(stepsCtx, sc.Steps[i+1:], &sr)
		break
	}
	x.cleanup(cleanupCtx, stepsCtx, stepCleanups)
	return x.outcome(stepsCtx)
}

// execution is the mutable part of one Execute call.
type execution struct {
	e       *Executor
	run     *State
	store   *store
	steps   []event.StepResult
	verdict *event.StepResult
}

// decide records the first step that decides a non-passing verdict. A step that failed
// because the scenario was being stopped (cancelled, or out of time) decides nothing: the
// stop is the verdict then.
func (x *execution) decide(ctx context.Context, sr event.StepResult) {
	if x.verdict == nil && ctx.Err() == nil {
		x.verdict = &sr
	}
}

// stopped is true once the scenario cannot go on: its context ended or the SUT died.
func (x *execution) stopped(ctx context.Context) bool {
	return ctx.Err() != nil || x.run.Harness.Fault() != nil
}

func (x *execution) outcome(ctx context.Context) Outcome {
	o := Outcome{Status: event.Passed, Steps: x.steps,
		TimedOut: errors.Is(ctx.Err(), context.DeadlineExceeded) || (x.verdict != nil && x.verdict.TimedOut)}
	cancelled := "cancelled"
	if cause := context.Cause(ctx); cause != nil && cause != context.Canceled {
		cancelled = "cancelled: " + cause.Error()
	}
	// A verdict reached before a stop stands: a scenario that had failed is reported
	// FAILED even when --fail-fast or an interrupt then cut its cleanup short.
	if x.verdict != nil {
		o.Status = x.verdict.Status
		if o.Status == event.Error {
			o.Error = x.verdict.Message
		}
		if errors.Is(ctx.Err(), context.Canceled) {
			o.Error = strings.TrimPrefix(o.Error+"; then "+cancelled, "; ")
		}
		return o
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		o.Status, o.Error = event.Cancelled, cancelled
		return o
	}
	if fault := x.run.Harness.Fault(); fault != nil {
		o.Status, o.Error = event.Error, fault.Error()
		return o
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		o.Status, o.Error = event.Error, "scenario timed out"
		if x.run.Scenario.Timeout > 0 {
			o.Error = fmt.Sprintf("scenario timed out after %s", x.run.Scenario.Timeout)
		}
		return o
	}
	return o
}

// emit records a finished step.
func (x *execution) emit(sr event.StepResult) event.StepResult {
	x.steps = append(x.steps, sr)
	return sr
}

// step runs one step with its retries, polling and parallel copies, checks it, stores its
// value for templates and reports it.
func (x *execution) step(ctx context.Context, st *scenario.Step, phase event.Phase) (event.StepResult, *result.Result) {
	sr := event.StepResult{ID: st.ID, Tool: st.Tool, Description: st.Description, Phase: phase,
		Line: st.Pos.Line, Start: time.Now()}
	finish := func(status event.Status, msg string) event.StepResult {
		sr.Status, sr.Duration = status, time.Since(sr.Start)
		if msg != "" {
			sr.Message = fmt.Sprintf("step %s (tool %s): %s", stepName(st), st.Tool, msg)
		}
		if st.ID != "" && status != event.Passed {
			x.store.fail(st.ID)
		}
		return x.emit(sr)
	}
	if st.AsUser != "" {
		if err := x.run.SwitchUser(st.AsUser); err != nil {
			return finish(event.Error, err.Error()), nil
		}
	}
	sr.User = x.run.CurrentUser()
	args, err := x.store.resolve(argsOf(st))
	if err != nil {
		return finish(event.Error, err.Error()), nil
	}
	argMap, _ := args.(map[string]any)
	sr.Args = argMap
	exp, err := x.store.expectation(st.Expected)
	if err != nil {
		return finish(event.Error, err.Error()), nil
	}
	if exp != st.Expected {
		resolved := *st
		resolved.Expected = exp
		st = &resolved
	}

	res, unmet, err := x.attempts(ctx, st, argMap, &sr)
	if err != nil {
		sr.TimedOut = errors.Is(err, ErrTimedOut)
		return finish(event.Error, x.explain(err)), nil
	}
	if res != nil {
		sr.Response = trimResponse(res)
	}
	if len(unmet) > 0 {
		x.unmet(&sr, st, unmet)
		return finish(event.Failed, strings.Join(append([]string{unmet[0].String()}, sr.AlsoUnmet...), "; ")), res
	}
	if st.ID != "" {
		x.store.pass(st.ID, res.Stored())
	}
	return finish(event.Passed, ""), res
}

// unmet records a failed step's first unmet expectation: what it wanted, the value it got
// when it read one, and where it stands in the file; the others one line each.
func (x *execution) unmet(sr *event.StepResult, st *scenario.Step, unmet []expect.Unmet) {
	u := unmet[0]
	sr.Expectation, sr.Expected = u.Expectation, u.Expected
	if u.Latency || u.Value {
		sr.Got = u.Got
	}
	if st.Expected != nil {
		at := st.Expected.At(u.Key)
		sr.ExpectationLine, sr.ExpectationCol = at.Line, at.Col
		sr.Excerpt = scenario.Excerpt(x.run.Scenario.Source, at.Line, at.Col)
	}
	for _, o := range unmet[1:] {
		sr.AlsoUnmet = append(sr.AlsoUnmet, o.String())
	}
}

// explain turns a call that could not be made into a message, preferring the SUT's own
// reason (it exited) over the transport's symptom.
func (x *execution) explain(err error) string {
	if fault := x.run.Harness.Fault(); fault != nil {
		return fault.Error()
	}
	return err.Error()
}

func stepName(st *scenario.Step) string {
	if st.ID != "" {
		return fmt.Sprintf("%q", st.ID)
	}
	return fmt.Sprintf("at line %d", st.Pos.Line)
}

func argsOf(st *scenario.Step) map[string]any {
	if st.Args == nil {
		return map[string]any{}
	}
	return maps.Clone(st.Args)
}

func trimResponse(r *result.Result) string {
	s := r.Text()
	const max = 4000
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}
