package load

import (
	"context"
	"io/fs"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/testtools"
	"github.com/muster-test/muster-test/scenario"
	"github.com/muster-test/muster-test/workloads"
)

// builtinWorkload loads a file of workloads/ as the command does.
func builtinWorkload(t *testing.T, name string) *scenario.Workload {
	t.Helper()
	data, err := fs.ReadFile(workloads.FS, name+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	return parseWorkload(t, string(data))
}

// TestNotesWorkloadsRunGreen runs seed 000's workflows on the mock's store through the
// reference SUT, each workload briefly with 5 users: no errors, every workflow of the
// workload ran, and each execution ran all its steps (the expectations that compare what
// was stored with what is read back held). The latency thresholds are left to real runs: a
// race-detector build on a shared machine says nothing about them.
func TestNotesWorkloadsRunGreen(t *testing.T) {
	for _, name := range []string{"refsut-notes-share", "refsut-notes-edit", "refsut-notes-files"} {
		t.Run(name, func(t *testing.T) {
			w := builtinWorkload(t, name)
			o := options(w)
			o.Users, o.Duration = 5, time.Second
			r, _, err := Run(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			checkGreen(t, w, r)
		})
	}
}

func checkGreen(t *testing.T, w *scenario.Workload, r *Report) {
	t.Helper()
	if r.Run.Errors != 0 || r.Run.Count == 0 {
		t.Errorf("%d errors of %d calls: %v", r.Run.Errors, r.Run.Count, r.Run.ByKind)
	}
	for _, wf := range w.Workflows {
		ran := r.Workflows[wf.Name]
		if ran == nil || ran.Count == 0 {
			t.Errorf("workflow %s never ran", wf.Name)
			continue
		}
		for _, st := range wf.Steps {
			if e := r.Steps[st.ID]; e == nil || e.Count != ran.Count {
				t.Errorf("workflow %s ran %d times, its step %s %v", wf.Name, ran.Count, st.ID, e)
			}
		}
	}
}

// TestNotesMixedCallsAtTheMockEqualTheCallsReported: the mixed workload's figures count,
// tool by tool, exactly the calls that reached the mock store's tools, and its shares
// follow the weights 50/30/15/5. The open model makes the number of executions exact.
func TestNotesMixedCallsAtTheMockEqualTheCallsReported(t *testing.T) {
	w := builtinWorkload(t, "refsut-notes-mixed")
	o := options(w)
	o.Users, o.Duration, o.Rate = 8, 2*time.Second, 50
	atMock := map[string]int{}
	o.Observe = func(world *testtools.World) {
		srv, _ := world.Env.Server("notes")
		for _, c := range srv.HTTP.Calls() {
			atMock[c.Tool]++
		}
	}
	r, _, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	checkGreen(t, w, r)
	reported := map[string]int{}
	var workflows uint64
	for _, wf := range w.Workflows {
		workflows += r.Workflows[wf.Name].Count
		for _, st := range wf.Steps {
			if e := r.Steps[st.ID]; e != nil {
				reported[strings.TrimPrefix(st.Tool, "x_notes_")] += int(e.Count)
			}
		}
	}
	if len(atMock) != 7 {
		t.Errorf("the mock saw calls of %d tools, want all 7: %v", len(atMock), atMock)
	}
	for tool, n := range atMock {
		if reported[tool] != n {
			t.Errorf("tool %s: %d calls at the mock, %d reported", tool, n, reported[tool])
		}
	}
	total := 0
	for _, n := range atMock {
		total += n
	}
	if int(r.Run.Count) != total {
		t.Errorf("run count %d, calls at the mock %d", r.Run.Count, total)
	}
	if workflows != 100 {
		t.Errorf("%d workflows ran, want 50/s x 2s", workflows)
	}
	// Each share within four standard deviations of its weight.
	for name, weight := range map[string]float64{"crud": .50, "note_share": .30, "concurrent_edit": .15, "file_share": .05} {
		share := float64(r.Workflows[name].Count) / float64(workflows)
		if tol := 4 * math.Sqrt(weight*(1-weight)/float64(workflows)); math.Abs(share-weight) > tol {
			t.Errorf("workflow %s: %.1f%% of %d executions, weight %v%%", name, 100*share, workflows, 100*weight)
		}
	}
	t.Logf("%d workflows, %d calls; at the mock %v", workflows, total, atMock)
}
