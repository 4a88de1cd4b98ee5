package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/result"
	"github.com/muster-test/muster-test/scenario"
)

// fakeSUT is an in-memory SUT: tools are Go functions, every call is counted.
type fakeSUT struct {
	mu    sync.Mutex
	tools map[string]func(user string, args map[string]any) (*result.Result, error)
	calls map[string]int
	fault error
}

type fakeSession struct {
	sut  *fakeSUT
	user string
}

func (s *fakeSession) CallTool(ctx context.Context, name string, args map[string]any) (*result.Result, error) {
	s.sut.mu.Lock()
	s.sut.calls[name]++
	fn, ok := s.sut.tools[name]
	fault := s.sut.fault
	s.sut.mu.Unlock()
	if fault != nil {
		return nil, errors.New("connection refused")
	}
	if !ok {
		return result.Failure(fmt.Sprintf("tool '%s' not found: tool not found", name)), nil
	}
	return fn(s.user, args)
}

func (s *fakeSession) ListTools(context.Context) ([]string, error) {
	var out []string
	for n := range s.sut.tools {
		out = append(out, n)
	}
	return out, nil
}

func (f *fakeSUT) NewSession(_ context.Context, user, _ string) (Session, error) {
	return &fakeSession{sut: f, user: user}, nil
}

func (f *fakeSUT) Fault() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fault
}

func (f *fakeSUT) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[name]
}

func newFake() *fakeSUT {
	f := &fakeSUT{calls: map[string]int{}, tools: map[string]func(string, map[string]any) (*result.Result, error){}}
	f.tools["echo"] = func(user string, args map[string]any) (*result.Result, error) {
		return result.Object(map[string]any{"user": user, "args": args}), nil
	}
	f.tools["text"] = func(string, map[string]any) (*result.Result, error) {
		return &result.Result{Texts: []string{"hello world"}}, nil
	}
	f.tools["fail"] = func(string, map[string]any) (*result.Result, error) {
		return result.Failure("boom happened"), nil
	}
	return f
}

func yes() *scenario.Expectation { b := true; return &scenario.Expectation{Success: &b} }
func no() *scenario.Expectation  { b := false; return &scenario.Expectation{Success: &b} }

func run(t *testing.T, f *fakeSUT, sc *scenario.Scenario, tools Registry) Outcome {
	t.Helper()
	e := &Executor{Tools: tools, StepTimeout: 2 * time.Second}
	sess, _ := f.NewSession(context.Background(), "default", "")
	return e.Execute(context.Background(), NewState(sc, f, sess))
}

func statuses(o Outcome) string {
	var s []string
	for _, st := range o.Steps {
		s = append(s, fmt.Sprintf("%s:%s", st.ID, st.Status))
	}
	return strings.Join(s, " ")
}

func TestVerdicts(t *testing.T) {
	cases := []struct {
		name    string
		steps   []scenario.Step
		cleanup []scenario.Step
		status  event.Status
		order   string
	}{
		{"all pass", []scenario.Step{{ID: "a", Tool: "text", Expected: yes()}, {ID: "b", Tool: "fail", Expected: no()}}, nil,
			event.Passed, "a:PASSED b:PASSED"},
		{"first failure ends steps", []scenario.Step{{ID: "a", Tool: "fail", Expected: yes()}, {ID: "b", Tool: "text", Expected: yes()}}, nil,
			event.Failed, "a:FAILED b:NOT_RUN"},
		{"continue_on_failure goes on and passes", []scenario.Step{{ID: "a", Tool: "fail", Expected: yes(), ContinueOnFailure: true}, {ID: "b", Tool: "text", Expected: yes()}}, nil,
			event.Passed, "a:FAILED b:PASSED"},
		{"cleanup runs after failure", []scenario.Step{{ID: "a", Tool: "fail", Expected: yes()}}, []scenario.Step{{ID: "c", Tool: "text", Expected: yes()}},
			event.Failed, "a:FAILED c:PASSED"},
		{"failed scenario cleanup fails scenario", []scenario.Step{{ID: "a", Tool: "text", Expected: yes()}}, []scenario.Step{{ID: "c", Tool: "fail", Expected: yes()}},
			event.Failed, "a:PASSED c:FAILED"},
		{"cleanup continue_on_failure", []scenario.Step{{ID: "a", Tool: "text", Expected: yes()}}, []scenario.Step{{ID: "c", Tool: "fail", Expected: yes(), ContinueOnFailure: true}},
			event.Passed, "a:PASSED c:FAILED"},
		{"step-level cleanup reverse order, never the verdict",
			[]scenario.Step{
				{ID: "a", Tool: "text", Expected: yes(), Cleanup: []scenario.Step{{ID: "ca", Tool: "fail"}}},
				{ID: "b", Tool: "text", Expected: yes(), Cleanup: []scenario.Step{{ID: "cb", Tool: "text"}}},
				{ID: "x", Tool: "fail", Expected: yes(), Cleanup: []scenario.Step{{ID: "cx", Tool: "text"}}},
			}, []scenario.Step{{ID: "s", Tool: "text", Expected: yes()}},
			event.Failed, "a:PASSED b:PASSED x:FAILED s:PASSED cb:PASSED ca:FAILED"},
		{"unknown test tool is ERROR", []scenario.Step{{ID: "a", Tool: "test_nope", Expected: yes()}}, nil, event.Error, "a:ERROR"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := run(t, newFake(), &scenario.Scenario{Name: "s", Steps: c.steps, Cleanup: c.cleanup}, nil)
			if o.Status != c.status || statuses(o) != c.order {
				t.Fatalf("got %s [%s], want %s [%s]", o.Status, statuses(o), c.status, c.order)
			}
		})
	}
}

// TestFailureNamesStepExpectationAndItsLine: a failure names the step, the tool and the
// unmet expectation, and points at the expectation's own line in the file with an excerpt;
// the answer is reported once, in Response, not again in the message.
func TestFailureNamesStepExpectationAndItsLine(t *testing.T) {
	src := "name: s\nsteps:\n  - id: check\n    tool: text\n    expected:\n      success: true\n      contains:\n        - hello\n        - goodbye\n      not_contains: [world]\n"
	sc, diags := scenario.Loader{}.Parse("s.yaml", []byte(src))
	if sc == nil {
		t.Fatal(diags)
	}
	o := run(t, newFake(), sc, nil)
	if o.Status != event.Failed {
		t.Fatalf("status %s", o.Status)
	}
	s := o.Steps[0]
	if want := `step "check" (tool text): contains[1]: "goodbye" not in the answer; not_contains[0]: "world" is in the answer`; s.Message != want {
		t.Errorf("message %q\nwant    %q", s.Message, want)
	}
	if s.ExpectationLine != 9 || s.ExpectationCol != 11 {
		t.Errorf("expectation at %d:%d, want 9:11 (the contains item, not the step at line 3)", s.ExpectationLine, s.ExpectationCol)
	}
	if !strings.Contains(s.Excerpt, "   9 |         - goodbye\n     |           ^^^^^^^") {
		t.Errorf("excerpt:\n%s", s.Excerpt)
	}
	if !strings.Contains(s.Response, "hello world") || len(s.AlsoUnmet) != 1 {
		t.Errorf("response %q, also unmet %q", s.Response, s.AlsoUnmet)
	}
}

func TestTemplatesTypedAndInline(t *testing.T) {
	f := newFake()
	f.tools["make"] = func(string, map[string]any) (*result.Result, error) {
		return &result.Result{Texts: []string{`{"id": 3, "name": "w1", "list": [1, 2], "obj": {"q": "a&b<c>"}}`}}, nil
	}
	sc := &scenario.Scenario{Name: "s", Steps: []scenario.Step{
		{ID: "make", Tool: "make", Expected: yes()},
		{ID: "use", Tool: "echo", Expected: yes(), Args: map[string]any{
			"typed":    "{{ make.id }}",
			"dotted":   "{{ .make.name }}",
			"inline":   "id={{ make.id }} name={{make.name}}",
			"list":     "{{ make.list }}",
			"object":   "obj={{ make.obj }}",
			"nested":   []any{map[string]any{"x": "{{ make.list.1 }}"}},
			"workflow": `{{ eq .input.x "y" }}`,
			"foreign":  "{{ .port }}",
		}},
	}}
	o := run(t, f, sc, nil)
	if o.Status != event.Passed {
		t.Fatalf("status %s: %+v", o.Status, o.Steps)
	}
	got := o.Steps[1].Args
	want := map[string]any{"typed": 3.0, "dotted": "w1", "inline": "id=3 name=w1", "list": []any{1.0, 2.0},
		"object": `obj={"q":"a&b<c>"}`, "workflow": `{{ eq .input.x "y" }}`, "foreign": "{{ .port }}"}
	for k, v := range want {
		if fmt.Sprintf("%#v", got[k]) != fmt.Sprintf("%#v", v) {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	if n := got["nested"].([]any)[0].(map[string]any)["x"]; n != 2.0 {
		t.Errorf("nested = %#v", n)
	}
}

// TestExpectationsResolveStepResults: an earlier step's result in an expectation is its
// value, so a check that a secret does not leak can fail; a template in an expectation
// that names a step which did not pass is the step's error, as in args.
func TestExpectationsResolveStepResults(t *testing.T) {
	f := newFake()
	f.tools["mint"] = func(string, map[string]any) (*result.Result, error) {
		return &result.Result{Texts: []string{`{"secret": "s3cr3t", "n": 2}`}}, nil
	}
	f.tools["leak"] = func(string, map[string]any) (*result.Result, error) {
		return &result.Result{Texts: []string{`{"echo": "s3cr3t", "n": 2}`}}, nil
	}
	exp := func(e scenario.Expectation) *scenario.Expectation { e.Success = yes().Success; return &e }
	for _, c := range []struct {
		name   string
		expect scenario.Expectation
		status event.Status
		msg    string
	}{
		{"not_contains finds the leaked value", scenario.Expectation{NotContains: []string{"{{ mint.secret }}"}}, event.Failed,
			`not_contains[0]: "s3cr3t" is in the answer`},
		{"contains, inline", scenario.Expectation{Contains: []string{`"echo": "{{ mint.secret }}"`}}, event.Passed, ""},
		{"json_path keeps the type", scenario.Expectation{JSONPath: map[string]any{"n": "{{ mint.n }}", "echo": "{{ .mint.secret }}"}},
			event.Passed, ""},
		{"json_path differs", scenario.Expectation{JSONPath: map[string]any{"n": "{{ mint.secret }}"}}, event.Failed, `json_path "n"`},
		{"a step that did not pass", scenario.Expectation{Contains: []string{"{{ bad.x }}"}}, event.Error, `step "bad" did not pass`},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc := &scenario.Scenario{Name: "s", Steps: []scenario.Step{
				{ID: "bad", Tool: "fail", Expected: yes(), ContinueOnFailure: true},
				{ID: "mint", Tool: "mint", Expected: yes()},
				{ID: "check", Tool: "leak", Expected: exp(c.expect)},
			}}
			o := run(t, f, sc, nil)
			s := o.Steps[2]
			if s.Status != c.status || !strings.Contains(s.Message, c.msg) {
				t.Fatalf("got %s %q, want %s with %q", s.Status, s.Message, c.status, c.msg)
			}
		})
	}
}

func TestTemplateToFailedStepIsError(t *testing.T) {
	sc := &scenario.Scenario{Name: "s", Steps: []scenario.Step{
		{ID: "bad", Tool: "fail", Expected: yes(), ContinueOnFailure: true},
		{ID: "use", Tool: "echo", Expected: yes(), Args: map[string]any{"v": "{{ bad.x }}"}},
	}}
	o := run(t, newFake(), sc, nil)
	if o.Status != event.Error || !strings.Contains(o.Steps[1].Message, `step "bad" did not pass`) {
		t.Fatalf("got %s: %q", o.Status, o.Steps[1].Message)
	}
}

func TestFailedStepStoresErrorText(t *testing.T) {
	sc := &scenario.Scenario{Name: "s", Steps: []scenario.Step{
		{ID: "f", Tool: "fail", Expected: no()},
		{ID: "use", Tool: "echo", Expected: yes(), Args: map[string]any{"v": "got: {{ f }}"}},
	}}
	o := run(t, newFake(), sc, nil)
	if o.Status != event.Passed || o.Steps[1].Args["v"] != "got: boom happened" {
		t.Fatalf("got %s %v", o.Status, o.Steps[1].Args)
	}
}

func TestRetryUntilExpectationsHold(t *testing.T) {
	f := newFake()
	var n atomic.Int32
	f.tools["flaky"] = func(string, map[string]any) (*result.Result, error) {
		if n.Add(1) < 3 {
			return result.Failure("not yet"), nil
		}
		return &result.Result{Texts: []string{"ok"}}, nil
	}
	step := scenario.Step{ID: "r", Tool: "flaky", Expected: yes(),
		Retry: &scenario.Retry{Count: 3, Delay: scenario.Duration(time.Millisecond), BackoffMultiplier: 2}}
	o := run(t, f, &scenario.Scenario{Name: "s", Steps: []scenario.Step{step}}, nil)
	if o.Status != event.Passed || o.Steps[0].Attempts != 3 {
		t.Fatalf("got %s after %d attempts", o.Status, o.Steps[0].Attempts)
	}
	n.Store(-10)
	step.Retry.Count = 1
	o = run(t, f, &scenario.Scenario{Name: "s", Steps: []scenario.Step{step}}, nil)
	if o.Status != event.Failed || o.Steps[0].Attempts != 2 {
		t.Fatalf("exhausted retry: got %s after %d attempts", o.Status, o.Steps[0].Attempts)
	}
}

// TestBackoffStaysBounded: 1000 retries with multiplier 10 are allowed; the wait between
// attempts must stop growing at scenario.MaxRetryDelay instead of overflowing (a negative
// duration, i.e. no wait at all: a retry storm).
func TestBackoffStaysBounded(t *testing.T) {
	max := scenario.MaxRetryDelay.D()
	if got := nextDelay(max*9/10, 10); got != max {
		t.Errorf("nextDelay(9/10 of the bound, 10) = %s, want %s", got, max)
	}
	d := time.Millisecond
	for i := range scenario.MaxRetryCount {
		if d = nextDelay(d, scenario.MaxBackoffMultiplier); d <= 0 || d > max {
			t.Fatalf("after %d retries the delay is %s", i+1, d)
		}
	}
	if got := nextDelay(time.Second, 1.5); got != 1500*time.Millisecond {
		t.Errorf("nextDelay(1s, 1.5) = %s", got)
	}
}

func TestWaitForStatePollsUntilStateHolds(t *testing.T) {
	f := newFake()
	var n atomic.Int32
	f.tools["state"] = func(string, map[string]any) (*result.Result, error) {
		if n.Add(1) < 4 {
			return &result.Result{Texts: []string{`{"state":"starting"}`}}, nil
		}
		return &result.Result{Texts: []string{`{"state":"running"}`}}, nil
	}
	b := true
	exp := &scenario.Expectation{Success: &b, JSONPath: map[string]any{"state": "running"}, WaitForState: scenario.Duration(5 * time.Second)}
	o := run(t, f, &scenario.Scenario{Name: "s", Steps: []scenario.Step{{ID: "w", Tool: "state", Expected: exp}}}, nil)
	if o.Status != event.Passed || o.Steps[0].Attempts != 4 {
		t.Fatalf("got %s after %d attempts", o.Status, o.Steps[0].Attempts)
	}
	exp.JSONPath["state"] = "never"
	exp.WaitForState = scenario.Duration(50 * time.Millisecond)
	o = run(t, f, &scenario.Scenario{Name: "s", Steps: []scenario.Step{{ID: "w", Tool: "state", Expected: exp}}}, nil)
	if o.Status != event.Failed || !strings.Contains(o.Steps[0].Message, "wait_for_state") || o.Steps[0].Attempts < 2 {
		t.Fatalf("got %s after %d attempts: %s", o.Status, o.Steps[0].Attempts, o.Steps[0].Message)
	}
}

func TestParallelCopiesEachChecked(t *testing.T) {
	f := newFake()
	var inFlight, peak, n atomic.Int32
	release := make(chan struct{})
	f.tools["slow"] = func(string, map[string]any) (*result.Result, error) {
		cur := inFlight.Add(1)
		for {
			p := peak.Load()
			if cur <= p || peak.CompareAndSwap(p, cur) {
				break
			}
		}
		if cur == 5 {
			close(release)
		}
		<-release
		inFlight.Add(-1)
		if n.Add(1) == 5 {
			return result.Failure("copy broke"), nil
		}
		return &result.Result{Texts: []string{"ok"}}, nil
	}
	o := run(t, f, &scenario.Scenario{Name: "s", Steps: []scenario.Step{{ID: "p", Tool: "slow", Parallel: 5, Expected: yes()}}}, nil)
	if peak.Load() != 5 {
		t.Fatalf("copies did not run concurrently: peak %d", peak.Load())
	}
	if o.Status != event.Failed || !strings.Contains(o.Steps[0].Message, "of 5") {
		t.Fatalf("one failing copy must fail the step: %s %q", o.Status, o.Steps[0].Message)
	}
}

func TestSUTDeathIsErrorWithItsReason(t *testing.T) {
	f := newFake()
	f.tools["die"] = func(string, map[string]any) (*result.Result, error) {
		f.mu.Lock()
		f.fault = errors.New("SUT exited with code 2\n--- last lines ---\npanic: oops")
		f.mu.Unlock()
		return nil, errors.New("EOF")
	}
	sc := &scenario.Scenario{Name: "s", Steps: []scenario.Step{{ID: "d", Tool: "die", Expected: yes()}, {ID: "n", Tool: "text", Expected: yes()}},
		Cleanup: []scenario.Step{{ID: "c", Tool: "text", Expected: yes()}}}
	o := run(t, f, sc, nil)
	if o.Status != event.Error || !strings.Contains(o.Error, "SUT exited with code 2") || !strings.Contains(o.Steps[0].Message, "panic: oops") {
		t.Fatalf("got %s %q %q", o.Status, o.Error, o.Steps[0].Message)
	}
	// The step not reached and the cleanup are reported as not run, never dropped.
	if statuses(o) != "d:ERROR n:NOT_RUN c:SKIPPED" || f.count("text") != 0 || !strings.Contains(o.Steps[1].Message, "not run: the SUT is gone") ||
		!strings.Contains(o.Steps[2].Message, "not run: the SUT is gone") {
		t.Fatalf("nothing may run against a dead SUT, and the cleanup must say it did not run: %s, %d calls, %q",
			statuses(o), f.count("text"), o.Steps[len(o.Steps)-1].Message)
	}
}

// blockUntilDone is a test tool that returns only when its call is cut short.
func blockUntilDone(ctx context.Context, _ *State, _ map[string]any) (map[string]any, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestStepTimeoutIsError(t *testing.T) {
	sc := &scenario.Scenario{Name: "s", Steps: []scenario.Step{{ID: "b", Tool: "test_block", Timeout: scenario.Duration(20 * time.Millisecond), Expected: yes()}}}
	o := run(t, newFake(), sc, tools(map[string]ToolFunc{"test_block": blockUntilDone}))
	if o.Status != event.Error || !strings.Contains(o.Steps[0].Message, "timed out after 20ms") {
		t.Fatalf("got %s %q", o.Status, o.Steps[0].Message)
	}
}

func TestCancelledScenario(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	block := func(ctx context.Context, _ *State, _ map[string]any) (map[string]any, error) {
		cancel(errors.New("fail-fast"))
		<-ctx.Done()
		return nil, ctx.Err()
	}
	reg := tools(map[string]ToolFunc{"test_block": block})
	f := newFake()
	sess, _ := f.NewSession(ctx, "default", "")
	sc := &scenario.Scenario{Name: "s", Steps: []scenario.Step{{ID: "b", Tool: "test_block", Expected: yes()}},
		Cleanup: []scenario.Step{{ID: "c", Tool: "text", Expected: yes()}}}
	o := (&Executor{Tools: reg}).Execute(ctx, NewState(sc, f, sess))
	if o.Status != event.Cancelled || !strings.Contains(o.Error, "fail-fast") || f.count("text") != 0 {
		t.Fatalf("got %s %q, cleanup calls %d", o.Status, o.Error, f.count("text"))
	}
	if statuses(o) != "b:FAILED c:SKIPPED" || !strings.Contains(o.Steps[1].Message, "not run: cancelled: fail-fast") {
		t.Fatalf("the cleanup must be reported as not run: %s %q", statuses(o), o.Steps[len(o.Steps)-1].Message)
	}
}

// TestCleanupRunsAfterTheScenarioTimeout: when the scenario's deadline ends its steps, its
// cleanup and the step-level cleanup items still run, within the cleanup grace, and the
// verdict is the timeout.
func TestCleanupRunsAfterTheScenarioTimeout(t *testing.T) {
	f := newFake()
	sess, _ := f.NewSession(context.Background(), "default", "")
	sc := &scenario.Scenario{Name: "s", Timeout: scenario.Duration(50 * time.Millisecond),
		Steps: []scenario.Step{
			{ID: "a", Tool: "text", Expected: yes(), Cleanup: []scenario.Step{{ID: "undo-a", Tool: "echo", Expected: yes()}}},
			{ID: "b", Tool: "test_block", Expected: yes()},
		},
		Cleanup: []scenario.Step{{ID: "c", Tool: "text", Expected: yes()}, {ID: "c-fails", Tool: "fail", Expected: yes()}}}
	run := NewState(sc, f, sess)
	run.Deadline = time.Now().Add(sc.Timeout.D())
	o := (&Executor{Tools: tools(map[string]ToolFunc{"test_block": blockUntilDone})}).Execute(context.Background(), run)
	if got := statuses(o); got != "a:PASSED b:FAILED c:PASSED c-fails:FAILED undo-a:PASSED" {
		t.Fatalf("steps %s: the cleanup must run after the timeout", got)
	}
	if o.Status != event.Error || o.Error != "scenario timed out after 50ms" {
		t.Fatalf("got %s %q, want the timeout as the verdict", o.Status, o.Error)
	}
}

// TestCleanupThatOutlivesItsGraceIsReportedNotRun: a cleanup step that hangs past the grace
// is cut, and the ones after it are reported as not run, with the reason.
func TestCleanupThatOutlivesItsGraceIsReportedNotRun(t *testing.T) {
	f := newFake()
	sess, _ := f.NewSession(context.Background(), "default", "")
	sc := &scenario.Scenario{Name: "s", Timeout: scenario.Duration(20 * time.Millisecond),
		Steps: []scenario.Step{{ID: "b", Tool: "test_block", Expected: yes()}},
		Cleanup: []scenario.Step{{ID: "hangs", Tool: "test_block", Expected: yes(), ContinueOnFailure: true},
			{ID: "after", Tool: "text", Expected: yes()}}}
	run := NewState(sc, f, sess)
	run.Deadline = time.Now().Add(sc.Timeout.D())
	start := time.Now()
	o := (&Executor{Tools: tools(map[string]ToolFunc{"test_block": blockUntilDone}), CleanupGrace: 100 * time.Millisecond}).Execute(context.Background(), run)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Execute took %s with a 20ms timeout and 100ms of cleanup grace", took)
	}
	if got := statuses(o); got != "b:FAILED hangs:FAILED after:SKIPPED" || f.count("text") != 0 {
		t.Fatalf("steps %s, %d calls of the last cleanup", got, f.count("text"))
	}
	if msg := o.Steps[2].Message; !strings.Contains(msg, "not run: the scenario's time and the 100ms of cleanup after it ran out") {
		t.Errorf("not-run message %q", msg)
	}
}

func TestTestToolErrorIsFailedCallAndExpectationsApply(t *testing.T) {
	tool := func(context.Context, *State, map[string]any) (map[string]any, error) {
		return nil, errors.New("server gamma is not OAuth-protected")
	}
	b := false
	sc := &scenario.Scenario{Name: "s", Steps: []scenario.Step{{ID: "t", Tool: "test_x",
		Expected: &scenario.Expectation{Success: &b, Contains: []string{"not oauth-protected"}, NotContains: []string{"gamma"}}}}}
	o := run(t, newFake(), sc, tools(map[string]ToolFunc{"test_x": tool}))
	if o.Status != event.Failed || o.Steps[0].Expectation != "not_contains[0]" {
		t.Fatalf("not_contains must be enforced on test tools: %s %q", o.Status, o.Steps[0].Expectation)
	}
}

func TestFailureBeforeCancellationStaysFailed(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	block := func(ctx context.Context, _ *State, _ map[string]any) (map[string]any, error) {
		cancel(errors.New("interrupted by SIGINT"))
		<-ctx.Done()
		return nil, ctx.Err()
	}
	f := newFake()
	sess, _ := f.NewSession(ctx, "default", "")
	sc := &scenario.Scenario{Name: "s", Steps: []scenario.Step{{ID: "f", Tool: "fail", Expected: yes()}},
		Cleanup: []scenario.Step{{ID: "c", Tool: "test_block", Expected: yes()}}}
	o := (&Executor{Tools: tools(map[string]ToolFunc{"test_block": block})}).Execute(ctx, NewState(sc, f, sess))
	if o.Status != event.Failed || !strings.Contains(o.Error, "then cancelled: interrupted by SIGINT") {
		t.Fatalf("got %s %q, want FAILED that says it was then cancelled", o.Status, o.Error)
	}
}

// tools declares test tools that take any arguments.
func tools(m map[string]ToolFunc) Registry {
	r := Registry{}
	for name, fn := range m {
		r[name] = Tool{TestTool: scenario.TestTool{Name: name}, Run: fn}
	}
	return r
}

func TestTestToolArgumentsCheckedAgainstDeclaration(t *testing.T) {
	called := false
	reg := Registry{"test_x": Tool{
		TestTool: scenario.TestTool{Name: "test_x", Args: []scenario.ToolArg{{Name: "name", Required: true}}},
		Run: func(context.Context, *State, map[string]any) (map[string]any, error) {
			called = true
			return map[string]any{}, nil
		}}}
	sc := &scenario.Scenario{Name: "s", Steps: []scenario.Step{{ID: "t", Tool: "test_x", Args: map[string]any{"name": 3},
		Expected: &scenario.Expectation{Success: no().Success, Contains: []string{`argument "name" must be a string`}}}}}
	if o := run(t, newFake(), sc, reg); o.Status != event.Passed || called {
		t.Fatalf("a wrongly typed argument must fail the call before the tool runs: %s %+v called=%v", o.Status, o.Steps, called)
	}
}

// The steps after the one that decided the verdict are reported NOT_RUN, each saying which
// step stopped the scenario, in the order of the file.
func TestStepsNotReachedAreReported(t *testing.T) {
	f := newFake()
	sc := &scenario.Scenario{Name: "s", Steps: []scenario.Step{{ID: "a", Tool: "fail", Expected: yes()},
		{ID: "b", Tool: "text", Expected: yes(), Pos: scenario.Pos{Line: 9}}, {Tool: "text", Expected: yes(), Pos: scenario.Pos{Line: 12}}}}
	o := run(t, f, sc, nil)
	if statuses(o) != "a:FAILED b:NOT_RUN :NOT_RUN" || f.count("text") != 0 {
		t.Fatalf("got %s, %d calls", statuses(o), f.count("text"))
	}
	for _, s := range o.Steps[1:] {
		if s.Message != `not run: step "a" FAILED` || s.Tool != "text" || s.Line == 0 || s.Phase != event.PhaseStep {
			t.Errorf("not-run step = %+v", s)
		}
	}
}
