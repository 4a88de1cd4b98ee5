package scenarios_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/testbin"
	"github.com/muster-test/muster-test/refsut"
)

// TestSuiteCatchesEveryFault is the suite's mutation check: the built-in scenarios must pass
// against the reference SUT, and every deliberate misbehaviour the reference SUT can be
// started with must make at least one of them fail. A fault nothing catches is a gap in the
// suite. The faults come from the aggregator itself, so a new one is checked without edits.
func TestSuiteCatchesEveryFault(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole suite once per fault; skipped under -short")
	}
	bin := testbin.Build(t)
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenario files in %s (%v)", dir, err)
	}
	// The direct-mode scenarios start their own server, not the reference SUT: its faults
	// mean nothing to them (TestDirectSuiteCatchesEveryFault covers them).
	files = slices.DeleteFunc(files, isDirect)
	base := []string{"--sut", "builtin"}
	for _, f := range files {
		base = append(base, "--config", f)
	}

	t.Run("no-fault", func(t *testing.T) { allPass(t, runSuite(t, bin, base...), len(files)) })
	for _, f := range refsut.AllFaults {
		t.Run(string(f), func(t *testing.T) {
			results := runSuite(t, bin, append(base, "--sut-args", "--fault "+string(f))...)
			if len(results) != len(files) {
				t.Errorf("the report has %d scenarios, the directory %d files", len(results), len(files))
			}
			var caught []string
			for _, r := range results {
				switch r.Result {
				case "PASSED":
				case "FAILED", "ERROR":
					caught = append(caught, r.Scenario.Name)
					t.Logf("caught by %s (%s): %s", r.Scenario.Name, r.Result, r.why())
				default:
					t.Errorf("scenario %s: %s under fault %s", r.Scenario.Name, r.Result, f)
				}
			}
			if len(caught) == 0 {
				t.Errorf("fault %s: every scenario passed; the suite has no scenario that catches it", f)
			}
		})
	}
}

// allPass: the run without any fault has one result per scenario file, each PASSED, and
// every test tool answered within its documented shape.
func allPass(t *testing.T, results []scenarioResult, files int) {
	t.Helper()
	answersDocumented(t, results)
	if len(results) != files {
		t.Errorf("the report has %d scenarios, the selection %d files", len(results), files)
	}
	for _, r := range results {
		if r.Result != "PASSED" {
			t.Errorf("scenario %s: %s without any fault: %s", r.Scenario.Name, r.Result, r.why())
		}
	}
}

type scenarioResult struct {
	Scenario struct {
		Name string `json:"name"`
	} `json:"scenario"`
	Result      string `json:"result"`
	Error       string `json:"error"`
	AfterSignal string `json:"sut_output_after_signal"`
	StepResults []struct {
		Step struct {
			ID   string `json:"id"`
			Tool string `json:"tool"`
		} `json:"step"`
		Result   string `json:"result"`
		Error    string `json:"error"`
		Response string `json:"response"`
	} `json:"step_results"`
}

// why names the step that decided a verdict, trimmed for a log line.
func (r scenarioResult) why() string {
	id, _, msg := r.firstFailure()
	if id == "" {
		return r.Error
	}
	if len(msg) > 300 {
		msg = msg[:300] + "..."
	}
	return "step " + id + ": " + msg
}

// firstFailure is the id, result and error of the first step that did not pass.
func (r scenarioResult) firstFailure() (id, result, msg string) {
	for _, s := range r.StepResults {
		if s.Result == "FAILED" || s.Result == "ERROR" {
			return s.Step.ID, s.Result, s.Error
		}
	}
	return "", "", ""
}

// runSuite runs muster-test with the scenario selection and SUT of sel and returns the
// scenario results of its JSON report.
func runSuite(t *testing.T, bin string, sel ...string) []scenarioResult {
	t.Helper()
	reportDir := t.TempDir()
	args := append([]string{"--parallel", "2", "--report", reportDir, "--no-color", "--timeout", "3m"}, sel...)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		// Some scenario did not pass: the report says which.
	default:
		t.Fatalf("muster-test %s: %v\n%s", strings.Join(args, " "), err, tail(out))
	}
	reports, _ := filepath.Glob(filepath.Join(reportDir, "*.json"))
	if len(reports) != 1 {
		t.Fatalf("want one JSON report in %s, found %d\n%s", reportDir, len(reports), tail(out))
	}
	data, err := os.ReadFile(reports[0])
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		ScenarioResults []scenarioResult `json:"scenario_results"`
	}
	if err := json.Unmarshal(data, &report); err != nil {
		t.Fatalf("report %s: %v", reports[0], err)
	}
	slices.SortFunc(report.ScenarioResults, func(a, b scenarioResult) int {
		return strings.Compare(a.Scenario.Name, b.Scenario.Name)
	})
	return report.ScenarioResults
}

// isDirect: the direct-mode scenarios of the suite are named direct-*.yaml.
func isDirect(path string) bool { return strings.HasPrefix(filepath.Base(path), "direct-") }

func tail(b []byte) string {
	const max = 3000
	if len(b) > max {
		return "..." + string(b[len(b)-max:])
	}
	return string(b)
}
