package report

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/muster-test/muster-test/internal/event"
)

type recorder struct {
	calls []string
	err   error
}

func (r *recorder) RunStarted(info event.RunInfo) { r.calls = append(r.calls, "run:"+info.Source) }
func (r *recorder) ScenarioStarted(n string)      { r.calls = append(r.calls, "start:"+n) }
func (r *recorder) ScenarioFinished(s event.ScenarioResult) {
	r.calls = append(r.calls, "done:"+s.Name)
}
func (r *recorder) RunFinished(run event.Run) {
	r.calls = append(r.calls, fmt.Sprintf("end:%d", len(run.Results)))
}
func (r *recorder) Err() error { return r.err }

func TestMultiFansOut(t *testing.T) {
	a, b := &recorder{}, &recorder{}
	m := Multi(a, nil, b)
	if len(m) != 2 {
		t.Fatalf("Multi kept %d listeners, want 2 (nil dropped)", len(m))
	}
	run := sampleRun()
	run.Results = run.Results[:1]
	replay(m, run)
	want := []string{"run:./scenarios", "start:oauth-login-works", "done:oauth-login-works", "end:1"}
	for name, r := range map[string]*recorder{"a": a, "b": b} {
		if !reflect.DeepEqual(r.calls, want) {
			t.Errorf("%s got %v, want %v", name, r.calls, want)
		}
	}
}

func TestMultiErrJoins(t *testing.T) {
	e1, e2 := errors.New("one"), errors.New("two")
	m := Multi(&recorder{err: e1}, &recorder{}, &recorder{err: e2})
	err := m.Err()
	if !errors.Is(err, e1) || !errors.Is(err, e2) {
		t.Errorf("Err = %v, want both errors", err)
	}
	if err := Multi(&recorder{}).Err(); err != nil {
		t.Errorf("Err = %v, want nil", err)
	}
	var _ ErrReporter = m
	var _ ErrReporter = NewConsole(nil, ConsoleOptions{})
	var _ ErrReporter = NewJSON("")
	var _ ErrReporter = NewJUnit("")
}
