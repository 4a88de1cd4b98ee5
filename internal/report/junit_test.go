package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The test decodes into its own types, so a wrong tag in the product's types shows.
type xSuites struct {
	XMLName xml.Name `xml:"testsuites"`
	Suites  []xSuite `xml:"testsuite"`
}

type xSuite struct {
	Name      string  `xml:"name,attr"`
	Tests     int     `xml:"tests,attr"`
	Failures  int     `xml:"failures,attr"`
	Errors    int     `xml:"errors,attr"`
	Skipped   int     `xml:"skipped,attr"`
	Time      string  `xml:"time,attr"`
	Timestamp string  `xml:"timestamp,attr"`
	Cases     []xCase `xml:"testcase"`
}

type xProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type xCase struct {
	Name      string    `xml:"name,attr"`
	Classname string    `xml:"classname,attr"`
	File      string    `xml:"file,attr"`
	Time      string    `xml:"time,attr"`
	Failure   *xProblem `xml:"failure"`
	Error     *xProblem `xml:"error"`
	Skipped   *struct{} `xml:"skipped"`
	SystemOut string    `xml:"system-out"`
}

func writeJUnit(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "junit.xml")
	j := NewJUnit(path, "scenarios")
	replay(j, sampleRun())
	if err := j.Err(); err != nil {
		t.Fatalf("Err: %v", err)
	}
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("%d entries next to the report, want 1 (no temp file left)", len(entries))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestJUnitWellFormedWithRequiredAttributes(t *testing.T) {
	data := writeJUnit(t)
	required := map[string][]string{
		"testsuites": {"tests", "failures", "errors", "skipped", "time"},
		"testsuite":  {"name", "tests", "failures", "errors", "skipped", "time", "timestamp"},
		"testcase":   {"name", "classname", "file", "time"},
		"failure":    {"message", "type"},
		"error":      {"message", "type"},
	}
	counts := map[string]int{}
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, data)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		counts[se.Name.Local]++
		have := map[string]bool{}
		for _, a := range se.Attr {
			have[a.Name.Local] = true
		}
		for _, a := range required[se.Name.Local] {
			if !have[a] {
				t.Errorf("<%s> lacks attribute %s", se.Name.Local, a)
			}
		}
	}
	for el, want := range map[string]int{"testsuites": 1, "testsuite": 1, "testcase": 5, "failure": 1, "error": 2, "skipped": 1, "system-out": 1} {
		if counts[el] != want {
			t.Errorf("%d <%s>, want %d", counts[el], el, want)
		}
	}
	if bytes.ContainsRune(data, 0x1b) {
		t.Errorf("ESC from the SUT log reached the XML")
	}
}

func TestJUnitContent(t *testing.T) {
	var doc xSuites
	if err := xml.Unmarshal(writeJUnit(t), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Suites) != 1 {
		t.Fatalf("%d suites, want 1", len(doc.Suites))
	}
	s := doc.Suites[0]
	if s.Name != "muster-test" || s.Tests != 5 || s.Failures != 1 || s.Errors != 2 || s.Skipped != 1 ||
		s.Time != "8.000" || s.Timestamp != "2026-01-16T09:30:05" {
		t.Errorf("suite = %+v", s)
	}
	c := s.Cases
	for i, want := range []struct{ name, class, file, time string }{
		{"oauth-login-works", "login.yaml", "scenarios/login.yaml", "1.230"},
		{"token-refresh", "refresh.yaml", "scenarios/refresh.yaml", "2.500"},
		{"sut-crash", "crash.yaml", "scenarios/crash.yaml", "3.000"},
		{"not-ready-yet", "skip.yaml", "scenarios/skip.yaml", "0.000"},
		{"slow one", "slow.yaml", "scenarios/slow.yaml", "0.700"},
	} {
		if c[i].Name != want.name || c[i].Classname != want.class || c[i].File != want.file || c[i].Time != want.time {
			t.Errorf("case %d = %+v, want %+v", i, c[i], want)
		}
	}
	if c[0].Failure != nil || c[0].Error != nil || c[0].Skipped != nil {
		t.Errorf("passed case has a verdict element: %+v", c[0])
	}
	f := c[1].Failure
	if f == nil || f.Type != "FAILED" || f.Message != `scenarios/refresh.yaml:19:42: step "read-secret" (tool x_protected_get_secret): contains[0]: "top-secret" not in the answer` {
		t.Fatalf("failure = %+v", f)
	}
	for _, want := range []string{
		"step:        read-secret (line 17), tool x_protected_get_secret, user bob, 2 attempts",
		"expectation: contains",
		`expected:    "top-secret"`,
		strings.Repeat(" ", 15) + `"value": "nothing here"`, // continuation under the value column
	} {
		if !strings.Contains(f.Text, want) {
			t.Errorf("failure text lacks %q:\n%s", want, f.Text)
		}
	}
	if e := c[2].Error; e == nil || e.Type != "ERROR" || e.Message != "transport error: EOF" ||
		!strings.Contains(e.Text, "error:   SUT exited with status 2") {
		t.Errorf("error = %+v", e)
	}
	if !strings.Contains(c[2].SystemOut, "panic: nil map\ngoroutine 1") {
		t.Errorf("system-out = %q", c[2].SystemOut)
	}
	if c[3].Skipped == nil {
		t.Errorf("skipped case lacks <skipped/>")
	}
	if e := c[4].Error; e == nil || e.Type != "CANCELLED" || e.Message != "cancelled: --fail-fast after token-refresh failed" {
		t.Errorf("cancelled = %+v", e)
	}
}

func TestJUnitCreatesDirAndReportsWriteError(t *testing.T) {
	dir := t.TempDir()
	ok := NewJUnit(filepath.Join(dir, "new", "sub", "junit.xml"))
	ok.RunFinished(sampleRun())
	if err := ok.Err(); err != nil {
		t.Errorf("Err = %v, want the missing directory created", err)
	}
	if _, err := os.Stat(ok.Path()); err != nil {
		t.Errorf("report not written: %v", err)
	}

	file := filepath.Join(dir, "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := NewJUnit(filepath.Join(file, "junit.xml"))
	bad.RunFinished(sampleRun())
	if bad.Err() == nil {
		t.Errorf("Err = nil writing under a regular file")
	}
}

func TestJUnitHostileTextStaysValid(t *testing.T) {
	run := sampleRun()
	run.Results[2].SUTLog = "nul\x00 bs\x08 bad\xff utf8\nend ]]> of cdata <tag> & \x1b[1mbold\x1b[0m"
	run.Results[1].Steps[1].Response = "resp ]]> <x/>\x01"
	path := filepath.Join(t.TempDir(), "junit.xml")
	j := NewJUnit(path)
	j.RunFinished(run)
	if err := j.Err(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc xSuites
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("invalid XML: %v\n%s", err, data)
	}
	cases := doc.Suites[0].Cases
	if got, want := cases[2].SystemOut, "nul\uFFFD bs\uFFFD bad\uFFFD utf8\nend ]]> of cdata <tag> & bold"; got != want {
		t.Errorf("system-out = %q, want %q", got, want)
	}
	if !strings.Contains(cases[1].Failure.Text, "resp ]]> <x/>\uFFFD") {
		t.Errorf("failure text = %q", cases[1].Failure.Text)
	}
}

// A testcase's classname is its file's path relative to the --config root it came from,
// which CI systems group by; a file given itself as --config is its base name.
func TestJUnitClassnameRelativeToConfigRoot(t *testing.T) {
	for _, tc := range []struct {
		roots      []string
		file, want string
	}{
		{[]string{"scenarios"}, "scenarios/oauth/login.yaml", "oauth/login.yaml"},
		{[]string{"./scenarios/"}, "scenarios/login.yaml", "login.yaml"},
		{[]string{"other", "/abs/suite"}, "/abs/suite/a/b.yml", "a/b.yml"},
		{[]string{"one/file.yaml", "dir"}, "one/file.yaml", "file.yaml"},
		{[]string{"."}, "login.yaml", "login.yaml"}, // the embedded suite
		{[]string{"scenarios"}, "scenarios-old/x.yaml", "scenarios-old/x.yaml"},
		{nil, "x/y.yaml", "x/y.yaml"},
	} {
		if got := relativeTo(tc.roots, tc.file); got != tc.want {
			t.Errorf("relativeTo(%q, %q) = %q, want %q", tc.roots, tc.file, got, tc.want)
		}
	}
}
