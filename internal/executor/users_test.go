package executor_test

import (
	"testing"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/executor"
	"github.com/muster-test/muster-test/internal/testtools"
	"github.com/muster-test/muster-test/scenario"
)

// TestUsersAndAsUser: the user tools open sessions, and as_user and test_switch_user decide
// whose session a SUT call goes through.
func TestUsersAndAsUser(t *testing.T) {
	sc := &scenario.Scenario{Name: "s", Steps: []scenario.Step{
		{ID: "mk", Tool: "test_create_user", Args: map[string]any{"name": "alice"}, Expected: executor.Yes()},
		{ID: "d", Tool: "echo", Expected: &scenario.Expectation{Success: executor.Yes().Success, JSONPath: map[string]any{"user": "default"}}},
		{ID: "a", Tool: "echo", AsUser: "alice", Expected: &scenario.Expectation{Success: executor.Yes().Success, JSONPath: map[string]any{"user": "alice"}}},
		{ID: "still", Tool: "echo", Expected: &scenario.Expectation{Success: executor.Yes().Success, JSONPath: map[string]any{"user": "alice"}}},
		{ID: "who", Tool: "test_get_current_user", Expected: &scenario.Expectation{Success: executor.Yes().Success, JSONPath: map[string]any{"current_user": "alice", "users": []any{"default", "alice"}}}},
		{ID: "back", Tool: "test_switch_user", Args: map[string]any{"name": "default"}, Expected: executor.Yes()},
		{ID: "dup", Tool: "test_create_user", Args: map[string]any{"name": "alice"}, Expected: &scenario.Expectation{Success: executor.No().Success, Contains: []string{"already exists"}}},
		{ID: "nobody", Tool: "test_switch_user", Args: map[string]any{"name": "bob"}, Expected: executor.No()},
	}}
	o := executor.RunWithFake(t, sc, testtools.Registry())
	if o.Status != event.Passed {
		for _, s := range o.Steps {
			t.Log(s.ID, s.Status, s.Message)
		}
		t.Fatalf("status %s", o.Status)
	}
}
