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

// TestNotesWorkloadsAgree: the single-workflow notes workloads are the mixed one's world,
// users and workflows, so that a figure of one compares with the same figure of another.
func TestNotesWorkloadsAgree(t *testing.T) {
	mixed := load(t, "refsut-notes-mixed")
	flows := map[string]string{}
	for _, wf := range mixed.Workflows {
		wf.Weight = nil
		flows[wf.Name] = text(t, wf)
	}
	for _, name := range []string{"refsut-notes-share", "refsut-notes-edit", "refsut-notes-files"} {
		w := load(t, name)
		if text(t, w.PreConfiguration) != text(t, mixed.PreConfiguration) || text(t, w.VirtualUsers) != text(t, mixed.VirtualUsers) {
			t.Errorf("%s: its pre_configuration or virtual_users differ from refsut-notes-mixed's", name)
		}
		if len(w.Workflows) != 1 {
			t.Fatalf("%s has %d workflows, want 1", name, len(w.Workflows))
		}
		wf := w.Workflows[0]
		wf.Weight = nil
		if text(t, wf) != flows[wf.Name] {
			t.Errorf("%s: workflow %s differs from refsut-notes-mixed's", name, wf.Name)
		}
	}
}
