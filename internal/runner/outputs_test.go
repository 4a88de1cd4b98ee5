package runner

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/schedule"
	"github.com/muster-test/muster-test/scenario"
)

// oneScenarioDir writes a valid scenario file into a new directory.
func oneScenarioDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	body := "name: only\ncategory: behavioral\nconcept: mcpserver\nsteps:\n  - id: list\n    tool: core_mcpserver_list\n    expected: {success: true}\n"
	if err := os.WriteFile(filepath.Join(dir, "only.yaml"), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func passing(started *int) schedule.ScenarioFunc {
	return func(_ context.Context, sc *scenario.Scenario) event.ScenarioResult {
		*started++
		res := schedule.Skeleton(sc)
		res.Status = event.Passed
		return res
	}
}

// A report path that cannot be written is a usage error found before any scenario starts,
// not after the run says PASSED.
func TestRunChecksReportPathsFirst(t *testing.T) {
	dir := oneScenarioDir(t)
	blocker := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		set  func(*Options)
		want string
	}{
		{"junit under a file", func(o *Options) { o.JUnitFile = filepath.Join(blocker, "junit.xml") }, "--junit " + blocker},
		{"junit is a directory", func(o *Options) { o.JUnitFile = dir }, "is a directory"},
		{"report under a file", func(o *Options) { o.ReportDir = filepath.Join(blocker, "reports") }, "--report " + blocker},
		{"html under a file", func(o *Options) { o.HTMLFile = filepath.Join(blocker, "r.html") }, "--html " + blocker},
		{"html is a directory", func(o *Options) { o.HTMLFile = dir }, "is a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			opts := &Options{ConfigPaths: []string{dir}, Stdout: &stdout, Stderr: &stderr}
			tc.set(opts)
			started := 0
			if code := Run(context.Background(), opts, passing(&started), "fake", nil); code != ExitUsage {
				t.Errorf("exit %d, want %d", code, ExitUsage)
			}
			if started != 0 || stdout.Len() != 0 {
				t.Errorf("%d scenario(s) started, output %q: the check must come first", started, stdout.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tc.want)
			}
		})
	}
}

// Where the reports went is the last thing printed.
func TestRunPrintsReportPaths(t *testing.T) {
	dir := oneScenarioDir(t)
	out := t.TempDir()
	junit, page := filepath.Join(out, "ci", "junit.xml"), filepath.Join(out, "report.html")
	var stdout, stderr bytes.Buffer
	opts := &Options{ConfigPaths: []string{dir}, Stdout: &stdout, Stderr: &stderr, ReportDir: filepath.Join(out, "json"), JUnitFile: junit,
		HTMLFile: page}
	started := 0
	if code := Run(context.Background(), opts, passing(&started), "fake", nil); code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	tail := strings.Join(lines[len(lines)-3:], "\n")
	if !strings.HasPrefix(lines[len(lines)-3], "JSON report: "+filepath.Join(out, "json")+"/muster-test-report-") ||
		lines[len(lines)-2] != "JUnit report: "+junit || lines[len(lines)-1] != "HTML report: "+page {
		t.Errorf("last lines:\n%s", tail)
	}
	if html, err := os.ReadFile(page); err != nil || !strings.Contains(string(html), `<details class="sc" id="s0" data-v="passed"`) {
		t.Errorf("HTML report (%v) lacks the scenario:\n%.2000s", err, html)
	}
	// The testcase's classname is the file's path relative to its --config root.
	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	if want := `classname="only.yaml" file="` + filepath.Join(dir, "only.yaml") + `"`; !strings.Contains(string(data), want) {
		t.Errorf("JUnit lacks %s:\n%s", want, data)
	}
}
