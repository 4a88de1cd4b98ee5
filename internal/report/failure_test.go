package report

import (
	"strings"
	"testing"

	"github.com/muster-test/muster-test/internal/event"
)

// TestFailureShowsTypes: a json_path failure shows the expected and the actual value each
// with its type, the answer once, and the other unmet expectations, but not the one-line
// message that says it all again.
func TestFailureShowsTypes(t *testing.T) {
	r := &event.ScenarioResult{Name: "s", File: "s.yaml", Status: event.Failed, Steps: []event.StepResult{{
		ID: "count", Tool: "test_get_mock_calls", Line: 4, Status: event.Failed, Attempts: 1,
		Expectation: `json_path "count"`, Expected: "1", Got: "2 (number)", ExpectationLine: 7, ExpectationCol: 27,
		Response:  `{"count":2,"success":true}`,
		AlsoUnmet: []string{`contains[0]: "x" not in the answer`},
		Message:   `step "count" (tool test_get_mock_calls): json_path "count": expected "1" (string), got 2 (number); contains[0]: "x" not in the answer`,
	}}}
	var b strings.Builder
	renderFields(&b, failureFields(r), "", func(s string) string { return s })
	want := "step:        count (line 4), tool test_get_mock_calls\n" +
		"at:          s.yaml:7:27\n" +
		"expectation: json_path \"count\"\n" +
		"expected:    \"1\" (string)\n" +
		"got:         2 (number)\n" +
		"answer:      {\"count\":2,\"success\":true}\n" +
		"also unmet:  contains[0]: \"x\" not in the answer\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
