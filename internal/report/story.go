package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/muster-test/muster-test/internal/event"
)

// DefaultWidth is the line width --debug cuts request lines to when the output is not a
// terminal that says its own.
const DefaultWidth = 160

// answerLines is how much of a step's answer --verbose shows.
const answerLines = 4

// story groups a scenario's requests by the step they belong to, for printing each step's
// under its line.
type story struct {
	byStep   map[string][]event.Exchange
	startUp  []event.Exchange
	teardown []event.Exchange
}

func newStory(r *event.ScenarioResult) *story {
	s := &story{byStep: map[string][]event.Exchange{}}
	var first time.Time
	for _, st := range r.Steps {
		if !st.Start.IsZero() && (first.IsZero() || st.Start.Before(first)) {
			first = st.Start
		}
	}
	for _, e := range r.Exchanges {
		switch {
		case e.Step != "":
			s.byStep[e.Step] = append(s.byStep[e.Step], e)
		case first.IsZero() || e.Time.Before(first):
			s.startUp = append(s.startUp, e)
		default:
			s.teardown = append(s.teardown, e)
		}
	}
	return s
}

// startUpLines summarizes the runner's probing while the SUT started in one line and
// lists what else happened (the SUT reaching its upstreams and IdPs).
func (c *Console) startUpLines(b *strings.Builder, s *story, indent string) {
	if len(s.startUp) == 0 {
		return
	}
	var probes, refused int
	var others []event.Exchange
	for _, e := range s.startUp {
		if e.From == event.PartyRunner {
			probes++
			if e.Status == 0 {
				refused++
			}
			continue
		}
		others = append(others, e)
	}
	line := "start-up:"
	if probes > 0 {
		line = fmt.Sprintf("start-up: %d request%s of the runner while the SUT started", probes, plural(probes))
	}
	if refused > 0 {
		line += fmt.Sprintf(" (%d unanswered: not listening yet)", refused)
	}
	b.WriteString(indent + c.faint.Sprint(line) + "\n")
	c.exchangeLines(b, others, indent+"  ")
}

// teardownLines lists the requests made after the last step, in one line when they are
// only the runner closing its sessions.
func (c *Console) teardownLines(b *strings.Builder, s *story, indent string) {
	if len(s.teardown) == 0 {
		return
	}
	var others []event.Exchange
	for _, e := range s.teardown {
		if e.From != event.PartyRunner || e.Method != "DELETE" {
			others = append(others, e)
		}
	}
	closes := len(s.teardown) - len(others)
	b.WriteString(indent + c.faint.Sprintf("teardown: %d session%s closed", closes, plural(closes)) + "\n")
	c.exchangeLines(b, others, indent+"  ")
}

// exchangeLines prints requests one line each, cut to the console's width.
func (c *Console) exchangeLines(b *strings.Builder, ex []event.Exchange, indent string) {
	width := c.opts.Width
	if width <= 0 {
		width = DefaultWidth
	}
	for _, e := range ex {
		line := cut(indent+exchangeLine(&e), width)
		if e.Status >= 400 || e.Error != "" {
			line = c.skip.Sprint(line)
		}
		b.WriteString(line + "\n")
	}
}

// exchangeLine is `from -> to  METHOD path detail (Bearer tok…) status duration`.
func exchangeLine(e *event.Exchange) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s -> %s  %s %s", e.From, e.To, e.Method, e.Path)
	if e.Detail != "" {
		b.WriteString(" " + e.Detail)
	}
	if e.Bearer != "" {
		b.WriteString(" (Bearer " + e.Bearer + ")")
	}
	if e.Error != "" {
		b.WriteString(" error: " + firstLine(e.Error, 200))
	} else {
		fmt.Fprintf(&b, " %d", e.Status)
	}
	b.WriteString(" " + shortDuration(e.Duration))
	return b.String()
}

// shortDuration keeps a tenth of a millisecond below 10ms: most loopback requests take
// less than one.
func shortDuration(d time.Duration) string {
	if d < 10*time.Millisecond {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
	}
	return fmtDuration(d)
}

// answerBlock is the start of a step's answer for --verbose: at most answerLines lines,
// each cut to the width.
func (c *Console) answerBlock(b *strings.Builder, s *event.StepResult, indent string) {
	if s.Response == "" || s.Status != event.Passed { // a failure shows it under got:
		return
	}
	width := c.opts.Width
	if width <= 0 {
		width = DefaultWidth
	}
	lines := strings.Split(strings.TrimRight(s.Response, "\n"), "\n")
	more := len(lines) - answerLines
	if more > 0 {
		lines = lines[:answerLines]
	}
	for i, l := range lines {
		prefix := indent + "  "
		if i == 0 {
			prefix = indent + c.label.Sprint("answer:") + " "
		}
		b.WriteString(cut(prefix+l, width) + "\n")
	}
	if more > 0 {
		fmt.Fprintf(b, "%s  %s\n", indent, c.faint.Sprintf("(%d more line%s)", more, plural(more)))
	}
}

// cut shortens s to width runes, marking the cut with an ellipsis.
func cut(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:max(width-1, 0)]) + "…"
}
