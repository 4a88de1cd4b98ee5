package report

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/muster-test/muster-test/internal/event"
)

// JUnit writes the run as a JUnit XML file at RunFinished (through a temporary file and a
// rename): one testsuite "muster-test", one testcase per scenario, whose classname is the
// scenario file's path relative to the config root it was found under (CI systems group
// test cases by classname) and whose file is its path as loaded. FAILED is a <failure>,
// ERROR and CANCELLED are <error>s (CI should not take a cancelled scenario for a pass),
// SKIPPED is <skipped/>; the SUT log tail goes to <system-out>.
type JUnit struct {
	*FileWriter
	path  string
	roots []string
}

// NewJUnit returns a JUnit reporter writing path; its directory is created if missing.
// roots are the files and directories the scenarios were loaded from (--config), which
// classnames are relative to.
func NewJUnit(path string, roots ...string) *JUnit {
	j := &JUnit{path: path, roots: roots}
	j.FileWriter = NewFileWriter("JUnit report", path, func(_ string, run *event.Run) error { return j.write(run) })
	return j
}

func (j *JUnit) write(run *event.Run) error {
	data, err := xml.MarshalIndent(newJUnitSuites(run, j.roots), "", "  ")
	if err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	data = append([]byte(xml.Header), append(data, '\n')...)
	if err := os.MkdirAll(filepath.Dir(j.path), 0o755); err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	if err := writeFileAtomic(j.path, data); err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	return nil
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	Skipped   *junitSkipped `xml:"skipped"`
	SystemOut *junitText    `xml:"system-out"`
}

// Texts are CDATA so that a log or a multi-line message stays readable in the raw file
// (chardata would turn every newline into &#xA;); xmlText makes them valid XML first,
// which encoding/xml does not do for CDATA.
type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

type junitText struct {
	Text string `xml:",cdata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

func newJUnitSuites(run *event.Run, roots []string) junitSuites {
	sum := summaryOf(run)
	suite := junitSuite{
		Name:      "muster-test",
		Tests:     sum.Total,
		Failures:  sum.Failed,
		Errors:    sum.Errors + sum.Cancelled,
		Skipped:   sum.Skipped,
		Time:      seconds(run.Duration),
		Timestamp: run.Start.Local().Format("2006-01-02T15:04:05"),
		Cases:     make([]junitCase, 0, len(run.Results)),
	}
	for i := range run.Results {
		suite.Cases = append(suite.Cases, newJUnitCase(&run.Results[i], roots))
	}
	return junitSuites{
		Name: "muster-test", Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Skipped: suite.Skipped, Time: suite.Time, Suites: []junitSuite{suite},
	}
}

func newJUnitCase(r *event.ScenarioResult, roots []string) junitCase {
	c := junitCase{
		Name:      r.Name,
		Classname: relativeTo(roots, r.File),
		File:      r.File,
		Time:      seconds(r.Duration),
	}
	switch r.Status {
	case event.Passed:
	case event.Skipped:
		c.Skipped = &junitSkipped{Message: firstLine(r.Error, maxMsgAttr)}
	case event.Failed:
		c.Failure = problem(r)
	default: // ERROR, CANCELLED and anything unknown: never let it look like a pass
		c.Error = problem(r)
	}
	if out := strings.TrimSpace(tailLines(r.SUTLog, sutTailLines) + "\n" + r.AfterSignal); out != "" {
		c.SystemOut = &junitText{xmlText(stripANSI(out))}
	}
	return c
}

// problem is a <failure> or <error>: a one-line message for CI summaries and the full
// explanation, the same as the console's, as text.
func problem(r *event.ScenarioResult) *junitProblem {
	fs := failureFields(r)
	var b strings.Builder
	renderFields(&b, fs, "", func(s string) string { return s })
	return &junitProblem{Message: problemMessage(r), Type: string(r.Status), Text: xmlText(b.String())}
}

func problemMessage(r *event.ScenarioResult) string {
	if s := r.FailedStep(); s != nil {
		msg := firstLine(s.Message, maxMsgAttr)
		if msg == "" {
			msg = fmt.Sprintf("step %s %s", s.ID, s.Status)
			if s.Expectation != "" {
				msg += ": " + s.Expectation
			}
		}
		if s.ExpectationLine > 0 {
			// First, so that a CI summary links to the line as an editor would.
			msg = firstLine(expectationPos(r, s)+": "+msg, maxMsgAttr)
		}
		return msg
	}
	if r.Error != "" {
		return firstLine(r.Error, maxMsgAttr)
	}
	return "scenario " + string(r.Status)
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// relativeTo is file's path relative to the first root it lies under: its base name when
// the root is the file itself, file unchanged when it lies under none.
func relativeTo(roots []string, file string) string {
	for _, root := range roots {
		root = filepath.Clean(root)
		if file == root {
			return filepath.Base(file)
		}
		if rel, err := filepath.Rel(root, file); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return filepath.ToSlash(rel)
		}
	}
	if file == "" {
		return "muster-test"
	}
	return filepath.ToSlash(file)
}

// xmlText replaces what XML 1.0 cannot hold (control characters, invalid UTF-8) with U+FFFD.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return utf8.RuneError
	}, s)
}
