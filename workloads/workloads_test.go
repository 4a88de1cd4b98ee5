package workloads_test

import (
	"io/fs"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/muster-test/muster-test/internal/testtools"
	"github.com/muster-test/muster-test/scenario"
	"github.com/muster-test/muster-test/workloads"
)

func load(t *testing.T, name string) *scenario.Workload {
	t.Helper()
	data, err := fs.ReadFile(workloads.FS, name+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	w, diags := testtools.Loader().ParseWorkload(name+".yaml", data)
	if w == nil {
		t.Fatalf("%s does not load: %v", name, diags)
	}
	return w
}

// text is v as YAML, positions left out.
func text(t *testing.T, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestNotesWorkloadsAgree: the single-workflow notes workloads are their mixed one's world,
// users and workflows, so that a figure of one compares with the same figure of another;
// for the reference SUT and for the reference server alike.
func TestNotesWorkloadsAgree(t *testing.T) {
	for _, family := range []string{"refsut-notes", "refserver-notes"} {
		mixed := load(t, family+"-mixed")
		flows := map[string]string{}
		for _, wf := range mixed.Workflows {
			wf.Weight = nil
			flows[wf.Name] = text(t, wf)
		}
		for _, kind := range []string{"-share", "-edit", "-files"} {
			name := family + kind
			w := load(t, name)
			if text(t, w.PreConfiguration) != text(t, mixed.PreConfiguration) || text(t, w.VirtualUsers) != text(t, mixed.VirtualUsers) ||
				text(t, w.SUT) != text(t, mixed.SUT) {
				t.Errorf("%s: its pre_configuration, sut or virtual_users differ from %s-mixed's", name, family)
			}
			if len(w.Workflows) != 1 {
				t.Fatalf("%s has %d workflows, want 1", name, len(w.Workflows))
			}
			wf := w.Workflows[0]
			wf.Weight = nil
			if text(t, wf) != flows[wf.Name] {
				t.Errorf("%s: workflow %s differs from %s-mixed's", name, wf.Name, family)
			}
		}
	}
}

// TestRefserverNotesMixedWeights: seed 000's shares of its mixed workload.
func TestRefserverNotesMixedWeights(t *testing.T) {
	want := map[string]float64{"crud": 50, "note_share": 30, "concurrent_edit": 15, "file_share": 5}
	for _, wf := range load(t, "refserver-notes-mixed").Workflows {
		if wf.W() != want[wf.Name] {
			t.Errorf("workflow %s: weight %v, want %v", wf.Name, wf.W(), want[wf.Name])
		}
		delete(want, wf.Name)
	}
	if len(want) != 0 {
		t.Errorf("missing workflows %v", want)
	}
}
