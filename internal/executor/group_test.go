package executor

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/result"
	"github.com/muster-test/muster-test/scenario"
)

// barrier answers once n calls are in at the same time; calls made one after the other
// never get there and fail when their deadline passes.
func barrier(n int) func(string, map[string]any) (*result.Result, error) {
	var mu sync.Mutex
	arrived := 0
	all := make(chan struct{})
	return func(user string, _ map[string]any) (*result.Result, error) {
		mu.Lock()
		arrived++
		if arrived == n {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
			return result.Object(map[string]any{"user": user}), nil
		case <-time.After(time.Second):
			return result.Failure("alone at the barrier: the calls did not run at the same time"), nil
		}
	}
}

func TestGroupRunsItsStepsAtOnce(t *testing.T) {
	f := newFake()
	f.tools["meet"] = barrier(3)
	sc := &scenario.Scenario{Name: "g", Steps: []scenario.Step{
		{ID: "g", Concurrently: []scenario.Step{
			{ID: "a", Tool: "meet", Expected: yes()},
			{ID: "b", Tool: "meet", AsUser: "bob", Expected: yes()},
			{ID: "c", Tool: "meet", Expected: yes()},
		}},
		{ID: "after", Tool: "echo", Args: map[string]any{"from": "{{ b.user }}"}, Expected: yes()},
	}}
	e := &Executor{StepTimeout: 5 * time.Second}
	sess, _ := f.NewSession(context.Background(), "default", "")
	r := NewState(sc, f, sess)
	bob, _ := f.NewSession(context.Background(), "bob", "")
	if err := r.AddUser("bob", bob); err != nil {
		t.Fatal(err)
	}
	o := e.Execute(context.Background(), r)
	if o.Status != event.Passed {
		t.Fatalf("status %s: %s", o.Status, describe(o))
	}
	if got := statuses(o); got != "g:PASSED a:PASSED b:PASSED c:PASSED after:PASSED" {
		t.Errorf("results %s: the group first, then its steps in file order", got)
	}
	for _, s := range o.Steps[1:4] {
		if s.Group != "g" {
			t.Errorf("step %s: Group %q, want g", s.ID, s.Group)
		}
	}
	if o.Steps[2].User != "bob" || o.Steps[1].User != "default" || o.Steps[3].User != "default" {
		t.Errorf("users a=%s b=%s c=%s: as_user holds for b alone", o.Steps[1].User, o.Steps[2].User, o.Steps[3].User)
	}
	if r.CurrentUser() != "default" {
		t.Errorf("current user after the group is %s: a group's as_user must not switch it", r.CurrentUser())
	}
	if args := o.Steps[4].Args; args["from"] != "bob" {
		t.Errorf("a template after the group reads a step of it: %v", args)
	}
}

func TestGroupFailsWithItsFirstFailingStep(t *testing.T) {
	f := newFake()
	f.tools["meet"] = barrier(3)
	sc := &scenario.Scenario{Name: "g", Steps: []scenario.Step{
		{ID: "g", Concurrently: []scenario.Step{
			{ID: "ok", Tool: "meet", Expected: yes()},
			{ID: "tolerated", Tool: "meet", Expected: no(), ContinueOnFailure: true},
			{ID: "bad", Tool: "meet", Expected: no()},
		}},
		{ID: "never", Tool: "echo", Expected: yes()},
	}}
	o := run(t, f, sc, nil)
	if o.Status != event.Failed || statuses(o) != "g:FAILED ok:PASSED tolerated:FAILED bad:FAILED never:NOT_RUN" {
		t.Fatalf("status %s, results %s", o.Status, statuses(o))
	}
	if !o.Steps[2].ContinuedOnFailure || o.Steps[3].ContinuedOnFailure {
		t.Errorf("continue_on_failure marks: tolerated %v, bad %v", o.Steps[2].ContinuedOnFailure, o.Steps[3].ContinuedOnFailure)
	}
	if !strings.Contains(o.Steps[0].Message, `group "g": step "bad"`) {
		t.Errorf("group message %q should name the failing step", o.Steps[0].Message)
	}
}

func TestGroupNeverReachedIsListedWithItsSteps(t *testing.T) {
	f := newFake()
	sc := &scenario.Scenario{Name: "g", Steps: []scenario.Step{
		{ID: "first", Tool: "fail", Expected: yes()},
		{ID: "g", Concurrently: []scenario.Step{{ID: "a", Tool: "echo", Expected: yes()}, {ID: "b", Tool: "echo", Expected: yes()}}},
	}}
	o := run(t, f, sc, nil)
	if got := statuses(o); got != "first:FAILED g:NOT_RUN a:NOT_RUN b:NOT_RUN" {
		t.Fatalf("results %s", got)
	}
	if o.Steps[1].Tool != event.GroupTool || o.Steps[2].Group != "g" {
		t.Errorf("group not listed as one: %+v", o.Steps[1:])
	}
}

func TestGroupStepPanicIsItsError(t *testing.T) {
	f := newFake()
	tools := Registry{"test_boom": {TestTool: scenario.TestTool{Name: "test_boom"},
		Run: func(context.Context, *State, map[string]any) (map[string]any, error) { panic("bug") }}}
	sc := &scenario.Scenario{Name: "g", Steps: []scenario.Step{
		{ID: "g", Concurrently: []scenario.Step{{ID: "p", Tool: "test_boom", Expected: yes()}, {ID: "fine", Tool: "echo", Expected: yes()}}},
	}}
	o := run(t, f, sc, tools)
	if o.Status != event.Error || !strings.Contains(describe(o), "panic: bug") {
		t.Fatalf("status %s: %s", o.Status, describe(o))
	}
}

func TestDurationExpectations(t *testing.T) {
	f := newFake()
	f.tools["slow"] = func(string, map[string]any) (*result.Result, error) {
		<-time.After(60 * time.Millisecond) // the latency under test, not a wait for an event
		return result.Object(map[string]any{}), nil
	}
	within := func(max, p95 time.Duration) *scenario.Expectation {
		e := yes()
		e.MaxDuration, e.P95Duration = scenario.Duration(max), scenario.Duration(p95)
		return e
	}
	cases := []struct {
		name string
		st   scenario.Step
		want event.Status
		says string
	}{
		{"fast under max", scenario.Step{ID: "s", Tool: "echo", Expected: within(time.Second, 0)}, event.Passed, ""},
		{"slow over max", scenario.Step{ID: "s", Tool: "slow", Expected: within(10*time.Millisecond, 0)}, event.Failed, "max_duration: expected at most 10ms, got"},
		{"a copy over max", scenario.Step{ID: "s", Tool: "slow", Parallel: 4, Expected: within(10*time.Millisecond, 0)}, event.Failed, "of 4: max_duration"},
		{"p95 over", scenario.Step{ID: "s", Tool: "slow", Parallel: 4, Expected: within(0, 10*time.Millisecond)}, event.Failed, "p95_duration: expected at most 10ms"},
		{"p95 under", scenario.Step{ID: "s", Tool: "slow", Parallel: 4, Expected: within(0, 10*time.Second)}, event.Passed, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := run(t, f, &scenario.Scenario{Name: "d", Steps: []scenario.Step{c.st}}, nil)
			if o.Status != c.want || !strings.Contains(describe(o), c.says) {
				t.Errorf("status %s, want %s; %s", o.Status, c.want, describe(o))
			}
		})
	}
}

func describe(o Outcome) string {
	var b strings.Builder
	for _, s := range o.Steps {
		b.WriteString(s.ID + " " + string(s.Status) + " " + s.Message + "\n")
	}
	return b.String()
}
