package expect

import (
	"strings"
	"testing"

	"github.com/muster-test/muster-test/internal/result"
	"github.com/muster-test/muster-test/scenario"
)

// expectation loads an `expected` block the way a scenario file states it, so the test
// covers what the loader makes of a written 0 as well as what Check does with it.
func expectation(t *testing.T, block string) *scenario.Expectation {
	t.Helper()
	src := "name: x\nsteps:\n  - id: s\n    tool: t\n    expected: " + block + "\n"
	s, diags := scenario.Loader{}.Parse("x.yaml", []byte(src))
	if s == nil {
		t.Fatalf("%s: %v", block, diags)
	}
	return s.Steps[0].Expected
}

// TestZeroIsAValue: an expected value of 0 is checked like any other (it once read as
// "not given", so every answer passed `status_code: 0`).
func TestZeroIsAValue(t *testing.T) {
	cases := []struct {
		name, block string
		res         *result.Result
		unmet       []string
	}{
		{"status_code 0 vs 200", "{success: true, status_code: 0}",
			result.Object(map[string]any{"status_code": 200}), []string{"status_code"}},
		{"status_code 0 vs no field", "{success: true, status_code: 0}",
			result.Object(map[string]any{"ok": true}), []string{"status_code"}},
		{"status_code 0 vs 0", "{success: true, status_code: 0}",
			result.Object(map[string]any{"status_code": 0}), nil},
		{"status_code 0 vs text 0", "{success: true, status_code: 0}",
			&result.Result{Texts: []string{`{"status_code": 0}`}}, nil},
		{"status_code absent is not checked", "{success: true}",
			result.Object(map[string]any{"status_code": 500}), nil},
		{"status_code null is not checked", "{success: true, status_code: null}",
			result.Object(map[string]any{"status_code": 500}), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var names []string
			for _, u := range Check(expectation(t, c.block), c.res) {
				names = append(names, u.Expectation)
			}
			if strings.Join(names, "|") != strings.Join(c.unmet, "|") {
				t.Fatalf("unmet = %q, want %q", names, c.unmet)
			}
		})
	}
}
