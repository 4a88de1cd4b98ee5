package conform

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// unprotected is a server without authorization that still publishes a root metadata
// document: unauthenticated-401 (MUST) fails, www-authenticate-resource-metadata (SHOULD)
// warns, prm-root-well-known passes.
func unprotected(t *testing.T) string {
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/.well-known/oauth-protected-resource" {
			io.WriteString(w, `{"resource":"x","authorization_servers":["http://127.0.0.1:1"]}`)
			return
		}
		io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{}}`)
	})
	return srv.URL + "/mcp"
}

var baselineChecks = []string{"unauthenticated-401", "www-authenticate-resource-metadata", "prm-root-well-known"}

// TestBaseline: a listed failure is XFAIL and does not fail the run; a listed check that
// passes is a stale entry and fails it; a listed WARN stays a WARN; --write-baseline
// writes exactly the failures (not the WARN), and the file it writes makes the run pass.
func TestBaseline(t *testing.T) {
	url, dir := unprotected(t), t.TempDir()
	file := func(name string, ids ...string) string {
		p := filepath.Join(dir, name)
		text := "[]\n"
		if len(ids) > 0 {
			text = "- " + strings.Join(ids, "\n- ") + "\n"
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	written := filepath.Join(dir, "written.yaml")
	for _, c := range []struct {
		name     string
		baseline string
		write    string
		code     int
		want     map[string]Verdict
		stale    string
	}{
		{"none", "", written, 1, map[string]Verdict{"unauthenticated-401": Fail, "www-authenticate-resource-metadata": Warn, "prm-root-well-known": Pass}, ""},
		{"written", written, "", 0, map[string]Verdict{"unauthenticated-401": XFail, "www-authenticate-resource-metadata": Warn, "prm-root-well-known": Pass}, ""},
		{"stale", file("stale.yaml", "unauthenticated-401", "prm-root-well-known"), "", 1, map[string]Verdict{"unauthenticated-401": XFail, "prm-root-well-known": Pass}, "prm-root-well-known"},
		{"warn listed", file("warn.yaml", "www-authenticate-resource-metadata"), "", 1, map[string]Verdict{"unauthenticated-401": Fail, "www-authenticate-resource-metadata": Warn}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, code, out := conformRun(t, Options{URL: url, Checks: baselineChecks, Baseline: c.baseline, WriteBaseline: c.write})
			if res == nil || code != c.code {
				t.Fatalf("exit %d, want %d:\n%s", code, c.code, out)
			}
			got := verdicts(res)
			for id, v := range c.want {
				if got[id] != v {
					t.Errorf("%s: %s, want %s\n%s", id, got[id], v, out)
				}
			}
			for _, o := range res.Outcomes {
				if o.Stale != (o.Check.ID == c.stale) {
					t.Errorf("%s: stale %v", o.Check.ID, o.Stale)
				}
			}
			if c.write != "" {
				if err := writeFiles(Options{WriteBaseline: c.write, Stdout: io.Discard}, res); err != nil {
					t.Fatal(err)
				}
				ids, err := readBaseline(c.write, mustLoad(t))
				if err != nil || len(ids) != 1 || !ids["unauthenticated-401"] {
					t.Fatalf("written baseline %v (%v), want exactly unauthenticated-401", ids, err)
				}
			}
		})
	}
}

// TestReportFiles: the JSON report, the JUnit file and the HTML report carry each
// check's verdict.
func TestReportFiles(t *testing.T) {
	dir := t.TempDir()
	junit, page := filepath.Join(dir, "junit.xml"), filepath.Join(dir, "conform.html")
	res, code, out := conformRun(t, Options{URL: unprotected(t), Checks: baselineChecks})
	if res == nil || code != 1 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if err := writeFiles(Options{ReportDir: dir, JUnitFile: junit, HTMLFile: page, Stdout: io.Discard}, res); err != nil {
		t.Fatal(err)
	}
	reports, _ := filepath.Glob(filepath.Join(dir, "muster-test-conform-*.json"))
	if len(reports) != 1 {
		t.Fatalf("JSON reports %v", reports)
	}
	var doc struct {
		Grade  string `json:"grade"`
		Checks []struct {
			ID      string  `json:"id"`
			Verdict Verdict `json:"verdict"`
		} `json:"checks"`
	}
	raw, _ := os.ReadFile(reports[0])
	if err := json.Unmarshal(raw, &doc); err != nil || len(doc.Checks) != 3 || !strings.HasPrefix(doc.Grade, "FAIL: 1 of 1") {
		t.Fatalf("JSON report %s (%v)", raw, err)
	}
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	raw, _ = os.ReadFile(junit)
	if err := xml.Unmarshal(raw, &suites); err != nil || suites.Tests != 3 || suites.Failures != 1 {
		t.Fatalf("JUnit %s (%v)", raw, err)
	}
	raw, _ = os.ReadFile(page)
	for _, want := range []string{`<details class="sc" id="c0" data-v="fail"`, `<details class="sc" id="c1" data-v="warn"`,
		`<details class="sc" id="c2" data-v="pass"`, "<h2>MUST (1)</h2>", "<h2>SHOULD (1)</h2>", "<h2>MAY (1)</h2>", `<label for="vf-fail">FAIL (1)</label>`,
		`href="https://www.rfc-editor.org/rfc/rfc6750#section-3"`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("HTML report lacks %s", want)
		}
	}
}

// TestList: one line per check: its id, its level, then its references as full URLs.
func TestList(t *testing.T) {
	var b strings.Builder
	if code := List(&b, &b); code != 0 {
		t.Fatal(b.String())
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	cat := mustLoad(t)
	if len(lines) != len(cat.Checks) {
		t.Fatalf("%d lines for %d checks", len(lines), len(cat.Checks))
	}
	for i, l := range lines {
		f := strings.Fields(l)
		c := cat.Checks[i]
		if len(f) != 2+len(c.Refs) || f[0] != c.ID || f[1] != string(c.Level) || !strings.HasPrefix(f[2], "https://") {
			t.Errorf("line %q", l)
		}
	}
}
