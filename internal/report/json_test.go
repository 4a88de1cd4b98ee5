package report

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func writeJSONReport(t *testing.T) (path string, doc map[string]any) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "reports", "nested") // must be created
	j := NewJSON(dir)
	if j.Path() != "" {
		t.Errorf("Path before the run = %q", j.Path())
	}
	replay(j, sampleRun())
	if err := j.Err(); err != nil {
		t.Fatalf("Err: %v", err)
	}
	path = j.Path()
	if filepath.Dir(path) != dir {
		t.Errorf("report %s not in %s", path, dir)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("report is not JSON: %v", err)
	}
	return path, doc
}

func TestJSONReportFileName(t *testing.T) {
	path, _ := writeJSONReport(t)
	base := filepath.Base(path)
	if !regexp.MustCompile(`^muster-test-report-\d{8}-\d{6}\.json$`).MatchString(base) {
		t.Errorf("file name %q does not match muster's pattern", base)
	}
	if want := "muster-test-report-20260116-093005.json"; base != want {
		t.Errorf("file name %q, want %q (local start time)", base, want)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("report dir holds %d entries, want only the report (no temp file left)", len(entries))
	}
}

func asMap(t *testing.T, v any, what string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("%s is %T, want an object", what, v)
	}
	return m
}

func asList(t *testing.T, v any, what string) []any {
	t.Helper()
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("%s is %T, want a list", what, v)
	}
	return l
}

func hasKeys(t *testing.T, m map[string]any, what string, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s lacks key %q (has %v)", what, k, m)
		}
	}
}

func TestJSONReportShape(t *testing.T) {
	_, doc := writeJSONReport(t)
	hasKeys(t, doc, "top level", "start_time", "end_time", "duration", "total_scenarios",
		"passed_scenarios", "failed_scenarios", "skipped_scenarios", "error_scenarios",
		"scenario_results", "configuration", "cancelled_scenarios")
	for key, want := range map[string]float64{
		"duration": 8e9, "total_scenarios": 5, "passed_scenarios": 1, "failed_scenarios": 1,
		"skipped_scenarios": 1, "error_scenarios": 1, "cancelled_scenarios": 1,
	} {
		if got, _ := doc[key].(float64); got != want {
			t.Errorf("%s = %v, want %v", key, doc[key], want)
		}
	}
	conf := asMap(t, doc["configuration"], "configuration")
	if conf["sut"] != "muster (/usr/local/bin/muster)" || conf["parallel"] != 4.0 {
		t.Errorf("configuration = %v", conf)
	}

	results := asList(t, doc["scenario_results"], "scenario_results")
	if len(results) != 5 {
		t.Fatalf("%d scenario results, want 5", len(results))
	}
	wantResult := []string{"PASSED", "FAILED", "ERROR", "SKIPPED", "CANCELLED"}
	for i, r := range results {
		m := asMap(t, r, "scenario result")
		hasKeys(t, m, "scenario result", "scenario", "result", "start_time", "end_time", "duration",
			"step_results", "file", "timings")
		if m["result"] != wantResult[i] {
			t.Errorf("result %d = %v, want %s", i, m["result"], wantResult[i])
		}
		hasKeys(t, asMap(t, m["scenario"], "scenario"), "scenario", "name", "category", "concept", "description")
	}

	passed := asMap(t, results[0], "passed")
	if sc := asMap(t, passed["scenario"], "scenario"); sc["name"] != "oauth-login-works" || sc["category"] != "behavioral" {
		t.Errorf("scenario = %v", sc)
	}
	if passed["file"] != "scenarios/login.yaml" || passed["duration"] != 1.23e9 {
		t.Errorf("file/duration = %v/%v", passed["file"], passed["duration"])
	}
	if tm := asMap(t, passed["timings"], "timings"); tm["steps"] != 352e6 {
		t.Errorf("timings = %v", tm)
	}
	// Durations for people and dashboards: milliseconds as floats, beside muster's nanoseconds.
	if doc["duration_ms"] != 8000.0 || passed["duration_ms"] != 1230.0 {
		t.Errorf("duration_ms = %v (run), %v (scenario)", doc["duration_ms"], passed["duration_ms"])
	}
	if tm := asMap(t, passed["timings_ms"], "timings_ms"); tm["steps"] != 352.0 || len(tm) != 6 {
		t.Errorf("timings_ms = %v", tm)
	}
	steps := asList(t, passed["step_results"], "step_results")
	step := asMap(t, steps[1], "step result")
	hasKeys(t, step, "step result", "step", "result", "start_time", "end_time", "duration", "retry_count",
		"phase", "attempts", "user")
	if step["retry_count"] != 2.0 || step["attempts"] != 3.0 || step["user"] != "alice" || step["phase"] != "step" ||
		step["duration_ms"] != float64(sampleRun().Results[0].Steps[1].Duration)/1e6 {
		t.Errorf("step result = %v", step)
	}
	if s := asMap(t, asMap(t, steps[0], "step")["step"], "step"); s["id"] != "get-info" ||
		s["tool"] != "test_get_oauth_server_info" || asMap(t, s["args"], "args")["server"] != "mock-idp" {
		t.Errorf("step = %v", s)
	}

	failed := asMap(t, results[1], "failed")
	fstep := asMap(t, asList(t, failed["step_results"], "steps")[1], "failed step")
	if fstep["expectation"] != "contains[0]" || fstep["result"] != "FAILED" ||
		fstep["error"] != `step "read-secret" (tool x_protected_get_secret): contains[0]: "top-secret" not in the answer` || fstep["expectation_line"] != 19.0 ||
		fstep["response"] != "{\n  \"value\": \"nothing here\"\n}" {
		t.Errorf("failed step = %v", fstep)
	}
	if nr := asMap(t, asList(t, failed["step_results"], "steps")[2], "step not reached"); nr["result"] != "NOT_RUN" ||
		nr["error"] != `not run: step "read-secret" FAILED` || nr["line"] != 22.0 {
		t.Errorf("step not reached = %v", nr)
	}
	if ev := fstep["expected_value"]; ev != "top-secret" {
		t.Errorf("expected_value = %v", ev)
	}
	if tr := asList(t, failed["trace"], "trace"); len(tr) != 2 {
		t.Errorf("trace = %v", tr)
	}

	errored := asMap(t, results[2], "errored")
	logs := asMap(t, errored["instance_logs"], "instance_logs")
	hasKeys(t, logs, "instance_logs", "stdout", "stderr", "combined")
	if logs["combined"] != sampleRun().Results[2].SUTLog {
		t.Errorf("instance_logs.combined = %q", logs["combined"])
	}
	if errored["error"] != "SUT exited with status 2" {
		t.Errorf("error = %v", errored["error"])
	}
	if _, ok := passed["instance_logs"]; ok {
		t.Errorf("instance_logs present without a SUT log")
	}
}

func TestJSONReportArgsWithNonStringKeys(t *testing.T) {
	run := sampleRun()
	run.Results[0].Steps[0].Args = map[string]any{"1": []any{map[any]any{"k": "v", 2: true}}}
	dir := t.TempDir()
	j := NewJSON(dir)
	j.RunFinished(run)
	if err := j.Err(); err != nil {
		t.Fatalf("Err: %v", err)
	}
	data, err := os.ReadFile(j.Path())
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`"args": \{\s*"1": \[\s*\{\s*"2": true,\s*"k": "v"`).Match(data) {
		t.Errorf("args not converted:\n%s", data)
	}
}

func TestJSONReportError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	j := NewJSON(file)
	j.RunFinished(sampleRun())
	if j.Err() == nil {
		t.Errorf("Err = nil writing into a file path")
	}
	if j.Path() != "" {
		t.Errorf("Path = %q after a failure", j.Path())
	}
}
