package runner

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/testtools"
)

// TestMusterFormatOAuthFixtures keeps the always-run half of the muster-compatibility
// promise: our OAuth scenarios written in muster's format run unchanged through the runner
// and pass against the reference SUT, every scenario and every step, leaving nothing behind.
func TestMusterFormatOAuthFixtures(t *testing.T) {
	files, err := filepath.Glob("../../testdata/scenarios/muster-format/oauth-*.yaml")
	if err != nil || len(files) < 4 {
		t.Fatalf("want at least 4 oauth-*.yaml fixtures, got %v (%v)", files, err)
	}
	set := testtools.Loader().LoadPaths(files...)
	if len(set.Errors) > 0 || len(set.Scenarios) != len(files) {
		t.Fatalf("fixtures do not load: %d scenarios from %d files, errors %v", len(set.Scenarios), len(files), set.Errors)
	}
	var want []string
	for _, s := range set.Scenarios {
		want = append(want, s.Name)
	}

	driver, err := ChooseDriver(SUTOptions{Kind: "builtin", Self: muster})
	if err != nil {
		t.Fatal(err)
	}
	o := runFiles(t, driver, files...)
	if o.code != ExitOK {
		t.Errorf("exit %d, want %d:\n%s", o.code, ExitOK, o.stdout)
	}
	// The reference SUT's starts are the spares' (the leak check of runFiles counts the
	// idle ones too); one started when a worker found none ready is fresh.
	if o.fromSpare == 0 || o.starts < len(files) {
		t.Errorf("%d of %d SUT starts came from a spare, want some", o.fromSpare, o.starts)
	}
	results, _ := o.run["scenario_results"].([]any)
	var got []string
	for _, r := range results {
		res := r.(map[string]any)
		name, _ := res["scenario"].(map[string]any)["name"].(string)
		got = append(got, name)
		if res["result"] != string(event.Passed) {
			t.Errorf("scenario %s: %v %v", name, res["result"], res["error"])
		}
		steps, _ := res["step_results"].([]any)
		if len(steps) == 0 {
			t.Errorf("scenario %s ran no step", name)
		}
		for _, s := range steps {
			step := s.(map[string]any)
			if step["result"] != string(event.Passed) {
				t.Errorf("scenario %s, step %v: %v %v", name, step["step"], step["result"], step["error"])
			}
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the report holds scenarios %v, want %v", got, want)
	}
}
