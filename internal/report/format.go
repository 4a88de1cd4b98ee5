package report

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/expect"
	"github.com/muster-test/muster-test/internal/result"
)

// Limits on what a failure shows: enough to see why without a second run, not so much that
// one huge response buries the rest of the output.
const (
	maxGotLines  = 20
	maxGotBytes  = 2000
	sutTailLines = 40
	maxMsgAttr   = 200 // JUnit message attribute: one line for CI summaries
)

// field is one labelled line of a failure explanation, shared by the console (colored
// labels) and JUnit (plain text) so both say the same thing.
type field struct {
	label string
	value string
}

// failureFields explains a non-passed scenario: the step that decided it, where its unmet
// expectation stands in the file (with the source there), what it wanted and what came
// back, each value with its type, the other unmet expectations, and the scenario's own
// error. A failed step's message is left out: it says the same in one line, for the JSON
// report and JUnit's message attribute.
func failureFields(r *event.ScenarioResult) []field {
	var fs []field
	s := r.FailedStep()
	if s != nil {
		fs = append(fs, field{"step", stepRef(s)})
		if s.ExpectationLine > 0 {
			fs = append(fs, field{"at", strings.TrimRight(expectationPos(r, s)+"\n"+s.Excerpt, "\n")})
		}
		if s.Expectation != "" {
			fs = append(fs, field{"expectation", s.Expectation})
		}
		if s.Expected != nil {
			fs = append(fs, field{"expected", typedValue(s.Expected, s.Got != "")})
		}
		switch {
		case s.Got != "":
			fs = append(fs, field{"got", s.Got})
			if s.Response != "" {
				fs = append(fs, field{"answer", trimHead(s.Response, maxGotLines, maxGotBytes)})
			}
		case s.Response != "":
			fs = append(fs, field{"got", trimHead(s.Response, maxGotLines, maxGotBytes)})
		case s.Status == event.Failed:
			fs = append(fs, field{"got", "(empty)"})
		}
		if len(s.AlsoUnmet) > 0 {
			fs = append(fs, field{"also unmet", strings.Join(s.AlsoUnmet, "\n")})
		}
		if s.Message != "" && (s.Status != event.Failed || s.Expectation == "") {
			fs = append(fs, field{"message", s.Message})
		}
	}
	if r.Error != "" && (s == nil || r.Error != s.Message) {
		label := "error"
		if r.Status == event.Skipped || r.Status == event.Cancelled {
			label = "reason"
		}
		fs = append(fs, field{label, r.Error})
	}
	return fs
}

// expectationPos is file:line:col of a step's unmet expectation, the form editors link to.
func expectationPos(r *event.ScenarioResult, s *event.StepResult) string {
	return fmt.Sprintf("%s:%d:%d", r.File, s.ExpectationLine, s.ExpectationCol)
}

// typedValue is an expected value as formatValue shows it, with its JSON type when the
// answer's value is shown beside it (`"1" (string)` against `1 (number)`).
func typedValue(v any, withType bool) string {
	if _, ok := v.(fmt.Stringer); ok || !withType {
		return formatValue(v)
	}
	return formatValue(v) + " (" + expect.TypeName(v) + ")"
}

// stepRef names a step the way a reader looks for it in the file: id, line, tool, and the
// user and phase when they are not the obvious ones.
func stepRef(s *event.StepResult) string {
	var b strings.Builder
	b.WriteString(s.ID)
	if s.ID == "" {
		b.WriteString("(no id)")
	}
	if s.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", s.Line)
	}
	if s.Tool != "" {
		fmt.Fprintf(&b, ", tool %s", s.Tool)
	}
	if s.User != "" && s.User != "default" {
		fmt.Fprintf(&b, ", user %s", s.User)
	}
	if s.Phase != "" && s.Phase != event.PhaseStep {
		fmt.Fprintf(&b, ", in %s", s.Phase)
	}
	if s.Attempts > 1 {
		fmt.Fprintf(&b, ", %d attempts", s.Attempts)
	}
	return b.String()
}

// renderFields writes fields as "label: value" with the values aligned and the continuation
// lines of multi-line values indented under the first.
func renderFields(b *strings.Builder, fs []field, indent string, paint func(string) string) {
	width := 0
	for _, f := range fs {
		width = max(width, len(f.label)+1)
	}
	cont := indent + strings.Repeat(" ", width+1)
	for _, f := range fs {
		label := f.label + ":"
		b.WriteString(indent)
		b.WriteString(paint(label))
		b.WriteString(strings.Repeat(" ", width-len(label)+1))
		for i, line := range strings.Split(f.value, "\n") {
			if i > 0 {
				b.WriteString(cont)
			}
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
}

// formatValue shows an expected value as JSON, so a string is quoted and a list or map
// looks like what the scenario file meant.
func formatValue(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case fmt.Stringer:
		return x.String()
	}
	out, err := result.JSONText(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return out
}

// trimHead keeps the beginning of s: at most maxLines lines and maxBytes bytes, saying how
// much was left out.
func trimHead(s string, maxLines, maxBytes int) string {
	s = strings.TrimRight(s, " \t\r\n")
	var note []string
	if lines := strings.Split(s, "\n"); len(lines) > maxLines {
		note = append(note, fmt.Sprintf("%d more lines", len(lines)-maxLines))
		s = strings.Join(lines[:maxLines], "\n")
	}
	if len(s) > maxBytes {
		cut := maxBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		note = append(note, fmt.Sprintf("%d more bytes", len(s)-cut))
		s = s[:cut]
	}
	if len(note) > 0 {
		s += "\n… (" + strings.Join(note, ", ") + ")"
	}
	return s
}

// tailLines keeps the last n lines of a log: the end is where a crash explains itself.
func tailLines(s string, n int) string {
	s = strings.TrimRight(s, " \t\r\n")
	lines := strings.Split(s, "\n")
	if n <= 0 || len(lines) <= n {
		return s
	}
	return fmt.Sprintf("… (%d earlier lines)\n", len(lines)-n) + strings.Join(lines[len(lines)-n:], "\n")
}

// firstLine returns the first non-empty line of s, cut to n bytes.
func firstLine(s string, n int) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// fmtDuration rounds a duration for people: milliseconds below a second, centiseconds above.
func fmtDuration(d time.Duration) string {
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

// ShellQuote quotes one word of a command line printed for copying, when it needs it.
func ShellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@+", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// summaryOf returns the run's counts, recounting from the results when the executor left
// the summary empty, so the reporters never show zero for a run that had scenarios.
func summaryOf(run *event.Run) event.Summary {
	if run.Summary.Total > 0 || len(run.Results) == 0 {
		return run.Summary
	}
	var s event.Summary
	for i := range run.Results {
		s.Add(run.Results[i].Status)
	}
	return s
}

// ansiCSI matches terminal control sequences (colors, cursor moves) that a SUT writes into
// its log; they are noise in plain output and invalid characters in XML.
var ansiCSI = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

func stripANSI(s string) string { return ansiCSI.ReplaceAllString(s, "") }
