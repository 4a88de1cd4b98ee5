package scenarios_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/muster-test/muster-test/internal/testtools"
	"github.com/muster-test/muster-test/scenario"
)

// answersDocumented holds the test tools' documented answers (TestTool.Answer, which the
// guide shows and the loader checks json_path against) to what they answered in a real run
// of the suite: every field of an answer, and of each object in it the table describes
// field by field, must be documented. An answer cut short in the report is skipped.
func answersDocumented(t *testing.T, results []scenarioResult) {
	t.Helper()
	answers := map[string][]string{}
	for _, tool := range testtools.Catalogue() {
		answers[tool.Name] = tool.Answer
	}
	checked := map[string]bool{}
	for _, r := range results {
		for _, s := range r.StepResults {
			answer, ok := answers[s.Step.Tool]
			var obj map[string]any
			if !ok || json.Unmarshal([]byte(s.Response), &obj) != nil {
				continue
			}
			checked[s.Step.Tool] = true
			for _, path := range undocumented(answer, obj, nil) {
				t.Errorf("%s (scenario %s, step %s) answered %s, which its entry in internal/testtools/table.go does not list",
					s.Step.Tool, r.Scenario.Name, s.Step.ID, path)
			}
		}
	}
	if len(checked) == 0 {
		t.Error("no test tool answer in the report was checked")
	}
}

// undocumented lists the paths of obj (below prefix) that answer does not have, going into
// an object only where answer lists its fields.
func undocumented(answer []string, obj map[string]any, prefix []string) []string {
	var out []string
	for k, v := range obj {
		segs := append(slices.Clone(prefix), k)
		if !scenario.AnswerHas(answer, segs) {
			out = append(out, strings.Join(segs, "."))
			continue
		}
		if m, ok := v.(map[string]any); ok && describesFields(answer, segs) {
			out = append(out, undocumented(answer, m, segs)...)
		}
	}
	return out
}

// describesFields reports whether answer lists fields below the object at segs.
func describesFields(answer []string, segs []string) bool {
	for _, a := range answer {
		fields := strings.Split(a, ".")
		if len(fields) > len(segs) && scenario.AnswerHas([]string{strings.Join(fields[:len(segs)], ".")}, segs) {
			return true
		}
	}
	return false
}

func TestUndocumented(t *testing.T) {
	answer := []string{"success", "requests.token", "requests.refresh", "subjects.*", "claims"}
	obj := map[string]any{"success": true, "requests": map[string]any{"token": 1, "refreshes": 2},
		"subjects": map[string]any{"alice": map[string]any{"anything": 1}}, "claims": map[string]any{"sub": "a"}, "extra": 1}
	got := undocumented(answer, obj, nil)
	slices.Sort(got)
	if strings.Join(got, " ") != "extra requests.refreshes" {
		t.Errorf("undocumented = %v, want extra and requests.refreshes", got)
	}
}
