package load

import (
	"context"
	"encoding/json"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/testtools"
	"github.com/muster-test/muster-test/refserver"
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
// reference SUT and on the reference server's store tools in direct mode, each workload
// briefly with 5 users: no errors, every workflow of the workload ran, and each execution
// ran all its steps (the expectations that compare what was stored with what is read
// back, and that a user with whom nothing was shared is refused, held). The latency thresholds are left to real runs: a
// race-detector build on a shared machine says nothing about them.
func TestNotesWorkloadsRunGreen(t *testing.T) {
	for _, name := range []string{"refsut-notes-share", "refsut-notes-edit", "refsut-notes-files",
		"refserver-notes-share", "refserver-notes-edit", "refserver-notes-files"} {
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
		for _, st := range calls(wf) {
			if e := r.Steps[st.ID]; e == nil || e.Count != ran.Count {
				t.Errorf("workflow %s ran %d times, its step %s %v", wf.Name, ran.Count, st.ID, e)
			}
		}
	}
}

// calls are the workflow's steps that call a tool: the steps of its concurrently groups
// in the group's place.
func calls(wf scenario.Workflow) []scenario.Step {
	var out []scenario.Step
	for _, st := range wf.Steps {
		if st.IsGroup() {
			out = append(out, st.Concurrently...)
		} else {
			out = append(out, st)
		}
	}
	return out
}

// TestNotesMixedCallsAtTheMockEqualTheCallsReported: the mixed workload's figures count,
// tool by tool, exactly the calls that reached the mock store's tools.
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
	checkCallsPerTool(t, w, r, atMock, func(tool string) string { return strings.TrimPrefix(tool, "x_notes_") }, 8, 100)
}

// TestRefserverNotesMixedCallsAtTheServerEqualTheCallsReported: the same against the
// reference server in its own process, whose audit log (one line per tools/call, written
// before the call is answered) says which calls reached it.
func TestRefserverNotesMixedCallsAtTheServerEqualTheCallsReported(t *testing.T) {
	w := builtinWorkload(t, "refserver-notes-mixed")
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	w.SUT.Command = append(w.SUT.Command, "--audit", audit)
	o := options(w)
	o.Users, o.Duration, o.Rate = 8, 2*time.Second, 50
	r, _, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(audit)
	if err != nil {
		t.Fatal(err)
	}
	atServer := map[string]int{}
	for line := range strings.Lines(string(data)) {
		var rec refserver.AuditRecord
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if rec.Decision != refserver.DecisionAllow {
			t.Errorf("a call was refused: %+v", rec)
		}
		atServer[rec.Tool]++
	}
	checkCallsPerTool(t, w, r, atServer, func(tool string) string { return tool }, len(refserver.StoreTools), 100)
}

// checkCallsPerTool: a green run whose figures count, tool by tool, exactly the calls the
// server saw (atServer, by the name tool gives a step's tool there), which are of want
// tools; the open model ran exactly flows executions, shared out by the weights.
func checkCallsPerTool(t *testing.T, w *scenario.Workload, r *Report, atServer map[string]int, tool func(string) string, want int, flows uint64) {
	t.Helper()
	checkGreen(t, w, r)
	reported := map[string]int{}
	var workflows uint64
	var weights float64
	for _, wf := range w.Workflows {
		workflows += r.Workflows[wf.Name].Count
		weights += wf.W()
		for _, st := range calls(wf) {
			if e := r.Steps[st.ID]; e != nil {
				reported[tool(st.Tool)] += int(e.Count)
			}
		}
	}
	if len(atServer) != want {
		t.Errorf("the server saw calls of %d tools, want all %d: %v", len(atServer), want, atServer)
	}
	total := 0
	for name, n := range atServer {
		total += n
		if reported[name] != n {
			t.Errorf("tool %s: %d calls at the server, %d reported", name, n, reported[name])
		}
	}
	if int(r.Run.Count) != total {
		t.Errorf("run count %d, calls at the server %d", r.Run.Count, total)
	}
	if workflows != flows {
		t.Errorf("%d workflows ran, want %d", workflows, flows)
	}
	// Each share within four standard deviations of its weight.
	for _, wf := range w.Workflows {
		weight := wf.W() / weights
		share := float64(r.Workflows[wf.Name].Count) / float64(workflows)
		if tol := 4 * math.Sqrt(weight*(1-weight)/float64(workflows)); math.Abs(share-weight) > tol {
			t.Errorf("workflow %s: %.1f%% of %d executions, weight %.0f%%", wf.Name, 100*share, workflows, 100*weight)
		}
	}
	t.Logf("%d workflows, %d calls; at the server %v", workflows, total, atServer)
}

// TestLostAppendFailsTheFinalStateCheck: against a server whose append is a read, a wait
// for another append and a write of what was read (the fault lost-append), the three
// appends made at once still answer success, and it is the owner's final read, which
// looks for every role's line, that fails in every execution: the workload checks the
// final state, not only the answers.
func TestLostAppendFailsTheFinalStateCheck(t *testing.T) {
	w := builtinWorkload(t, "refserver-notes-edit")
	w.SUT.Command = append(w.SUT.Command, "--fault", string(refserver.FaultLostAppend))
	o := options(w)
	o.Users, o.Duration = 5, time.Second
	r, _, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	flows := r.Workflows["concurrent_edit"]
	if flows == nil || flows.Count == 0 || flows.Errors != flows.Count {
		t.Fatalf("workflows %+v: want every execution to fail", flows)
	}
	for _, st := range calls(w.Workflows[0]) {
		e := r.Steps[st.ID]
		switch {
		case st.ID == "edit-verify":
			if e == nil || e.Errors != flows.Count || e.ByKind[KindExpectation] != flows.Count {
				t.Errorf("edit-verify: %+v, want %d expectation errors", e, flows.Count)
			}
		case st.ID == "edit-delete":
			if e != nil {
				t.Errorf("the step after the failed check ran: %+v", e)
			}
		case e == nil || e.Count != flows.Count || e.Errors != 0:
			t.Errorf("step %s: %+v, want %d calls without errors", st.ID, e, flows.Count)
		}
	}
}
