package scenario_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/scenario"
)

// stepsDoc is a scenario whose steps are n copies of step, one per line.
func stepsDoc(n int, step string) []byte {
	var b strings.Builder
	b.WriteString("name: big\nsteps:\n")
	for range n {
		b.WriteString("  - " + step + "\n")
	}
	return []byte(b.String())
}

// positioned requires file:line:col on every diagnostic.
func positioned(t *testing.T, diags []scenario.Diagnostic) {
	t.Helper()
	for _, d := range diags {
		if d.Pos.File != "in.yaml" || d.Pos.Line < 1 || d.Pos.Col < 1 {
			t.Errorf("diagnostic without file:line:col: %q", d)
		}
	}
}

// TestHugeStepListStopsAtTheBudget: 850,000 steps once took 45 s and 1.2 GB and printed
// 2.5 million lines, most without a file or position. The budget stops it with one error.
func TestHugeStepListStopsAtTheBudget(t *testing.T) {
	doc := []byte("name: big\nsteps:\n" + strings.Repeat("-\n", 850_000)) // the cheapest steps to parse
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, diags := loader.Parse("in.yaml", doc)
	runtime.ReadMemStats(&after)
	if s != nil || len(diags) != 1 || !strings.Contains(diags[0].Msg, fmt.Sprintf("more than %d values", scenario.MaxValues)) {
		t.Fatalf("want one budget error, got %d diagnostics, first %v", len(diags), diags[:min(3, len(diags))])
	}
	positioned(t, diags)
	if diags[0].Pos.Line != 3 || diags[0].Pos.Col != 1 {
		t.Errorf("budget error at %s, want the list at in.yaml:3:1", diags[0].Pos)
	}
	// Most of what is left is the YAML library's node tree. No time bound: the time is
	// the library's parse, which the race detector slows down many times.
	if alloc := (after.TotalAlloc - before.TotalAlloc) >> 20; alloc > 600 {
		t.Errorf("loading allocated %d MiB", alloc)
	}
}

// TestBudgetInsideSteps: well-formed steps that add up past the budget stop at the value
// where it ran out, with its position, and leave no error for the steps not decoded.
func TestBudgetInsideSteps(t *testing.T) {
	// Each step expands to about 1000 values through the alias; the file stays small.
	big := "{success: true, contains: [" + strings.Repeat("a, ", 997) + "a]}"
	doc := stepsDoc(scenario.MaxValues/1000+50, "{id: a, tool: t, expected: *e}")
	doc = []byte(strings.Replace(string(doc), "*e", "&e "+big, 1))
	s, diags := loader.Parse("in.yaml", doc)
	if s != nil || len(diags) != 1 || !strings.Contains(diags[0].Msg, "values") {
		t.Fatalf("want one budget error, got %d: %v", len(diags), diags[:min(3, len(diags))])
	}
	positioned(t, diags)
	if line := diags[0].Pos.Line; line < 3+scenario.MaxValues/1000-5 || line > 3+scenario.MaxValues/1000 {
		t.Errorf("budget error at %s, want it about step %d", diags[0].Pos, scenario.MaxValues/1000)
	}
}

// TestOpaqueValuesCountAgainstTheBudget: args and configs are loaded by the YAML library,
// but what they expand to is counted too (a "billion laughs" in args).
func TestOpaqueValuesCountAgainstTheBudget(t *testing.T) {
	doc := "name: x\nsteps:\n  - id: a\n    tool: t\n    expected: {success: true}\n    args:\n" +
		"      l0: &l0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
	for i := 1; i <= 8; i++ {
		doc += fmt.Sprintf("      l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d]\n", i, i,
			i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	s, diags := loader.Parse("in.yaml", []byte(doc))
	if s != nil || len(diags) != 1 || !strings.Contains(diags[0].Msg, "values") {
		t.Fatalf("want one budget error, got %v", diags)
	}
	positioned(t, diags)
}

// TestDiagnosticsCappedPerFile: past MaxShownPerFile, one line says how many more there
// are and where the next one is.
func TestDiagnosticsCappedPerFile(t *testing.T) {
	s, diags := loader.Parse("in.yaml", stepsDoc(120, "{}")) // each step lacks id, tool and expected
	if s != nil || len(diags) != scenario.MaxShownPerFile+1 {
		t.Fatalf("got %d diagnostics, want %d", len(diags), scenario.MaxShownPerFile+1)
	}
	positioned(t, diags)
	last := diags[scenario.MaxShownPerFile]
	if last.Warning || !strings.Contains(last.Msg, fmt.Sprintf("%d more errors in this file", 3*120-scenario.MaxShownPerFile)) {
		t.Errorf("summary line %q", last)
	}
	if n := scenario.Count(diags); n != 3*120 {
		t.Errorf("Count = %d, want %d", n, 3*120)
	}
	if last.Pos.Line < diags[scenario.MaxShownPerFile-1].Pos.Line {
		t.Errorf("summary at %s comes before the last one shown (%s)", last.Pos, diags[scenario.MaxShownPerFile-1].Pos)
	}
}

// TestWarningsCappedStayWarnings: a file with many warnings and no error still loads.
func TestWarningsCappedStayWarnings(t *testing.T) {
	s, diags := loader.Parse("in.yaml", stepsDoc(70, "{id: same, tool: t, expected: {success: true}}"))
	if s == nil || len(diags) != scenario.MaxShownPerFile+1 {
		t.Fatalf("scenario %v, %d diagnostics", s != nil, len(diags))
	}
	for _, d := range diags {
		if !d.Warning {
			t.Errorf("not a warning: %s", d)
		}
	}
	if !strings.Contains(diags[scenario.MaxShownPerFile].Msg, fmt.Sprintf("%d more warnings", 69-scenario.MaxShownPerFile)) {
		t.Errorf("summary %q", diags[scenario.MaxShownPerFile])
	}
	positioned(t, diags)
}

// TestDeepMergeKeysOneMessage: merge keys nested past the limit once printed a wrong
// message ("needs a map") for every path that reached the limit.
func TestDeepMergeKeysOneMessage(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: x\nsteps:\n  - &m0 {id: s0, tool: t, expected: {success: true}}\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&b, "  - &m%d {<<: *m%d, id: s%d}\n", i, i-1, i)
	}
	for i := range 2000 {
		fmt.Fprintf(&b, "  - {<<: *m40, id: u%d}\n", i)
	}
	s, diags := loader.Parse("in.yaml", []byte(b.String()))
	if s != nil || len(diags) != 1 || !strings.Contains(diags[0].Msg, "nested more than 16 deep") {
		t.Fatalf("want one merge-depth error, got %d: %v", len(diags), diags[:min(3, len(diags))])
	}
	positioned(t, diags)
	if diags[0].Pos.Line != 20 {
		t.Errorf("merge-depth error at %s, want line 20 (the step whose merges go 17 deep)", diags[0].Pos)
	}
}

// TestDeepMergeKeysUnderLimitLoad: 16 levels are fine and merge as YAML says.
func TestDeepMergeKeysUnderLimitLoad(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: x\nsteps:\n  - &m0 {id: s0, tool: t, timeout: 7s, expected: {success: true}}\n")
	for i := 1; i <= 16; i++ {
		fmt.Fprintf(&b, "  - &m%d {<<: *m%d, id: s%d}\n", i, i-1, i)
	}
	s, diags := loader.Parse("in.yaml", []byte(b.String()))
	if s == nil {
		t.Fatalf("errors: %v", diags)
	}
	if got := s.Steps[16]; got.ID != "s16" || got.Timeout.D() != 7*time.Second {
		t.Errorf("steps[16] = %s with timeout %s", got.ID, got.Timeout)
	}
}

// TestCappedMixedCountsBoth: the summary of errors and warnings counts each, and Count of
// the errors gives their true number.
func TestCappedMixedCountsBoth(t *testing.T) {
	_, diags := loader.Parse("in.yaml", stepsDoc(60, "{id: same}")) // no tool, no expected, repeated id
	var errs []scenario.Diagnostic
	warns := 0
	for _, d := range diags {
		if d.Warning {
			warns++
		} else {
			errs = append(errs, d)
		}
	}
	last := diags[len(diags)-1]
	if !strings.Contains(last.Msg, "more errors and ") || !strings.Contains(last.Msg, "warnings in this file") {
		t.Errorf("summary %q", last)
	}
	if n := scenario.Count(errs); n != 2*60 {
		t.Errorf("scenario.Count(errors) = %d, want %d", n, 2*60)
	}
	if hidden := strings.Fields(last.Msg)[5]; fmt.Sprint(59-warns) != hidden {
		t.Errorf("summary says %s hidden warnings, want %d: %q", hidden, 59-warns, last.Msg)
	}
}
