package report

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/fatih/color"
	"github.com/mattn/go-isatty"
	"golang.org/x/term"

	"github.com/muster-test/muster-test/internal/event"
)

// ConsoleOptions configure the console reporter.
type ConsoleOptions struct {
	// Color turns ANSI colors on. It is explicit (not fatih/color's global color.NoColor) so
	// that output does not depend on how the process was started; see UseColor.
	Color bool
	// Verbose prints every step under its scenario: status, id, tool, duration, attempts.
	Verbose bool
	// Verbose also prints the start of each step's answer.
	// Debug adds, under each step, the HTTP requests it made and caused, one line each (the
	// JSON report keeps the bodies), and each scenario's whole SUT log.
	Debug bool
	// Width is what request and answer lines are cut to (0: DefaultWidth).
	Width int
	// Rerun are the arguments the summary's re-run command keeps (--config and the SUT
	// flags, already split): without them the command would search another suite or test
	// another SUT.
	Rerun []string
}

// UseColor decides ConsoleOptions.Color the usual way: no color when the user asked for none
// (the --no-color flag, or NO_COLOR set to anything non-empty, see no-color.org), or when w
// is not a terminal.
func UseColor(w io.Writer, noColorFlag bool) bool {
	if noColorFlag || os.Getenv("NO_COLOR") != "" {
		return false
	}
	// Any writer with a descriptor, not only *os.File: the CLI wraps stdout (see
	// cmd/muster-test) and the wrapper must not turn colour off.
	f, ok := w.(interface{ Fd() uintptr })
	if !ok {
		return false
	}
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// TermWidth is the width lines to w are cut to: the terminal's when w is one, else the
// COLUMNS environment variable, else DefaultWidth.
func TermWidth(w io.Writer) int {
	if f, ok := w.(interface{ Fd() uintptr }); ok {
		if width, _, err := term.GetSize(int(f.Fd())); err == nil && width > 0 {
			return width
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return DefaultWidth
}

// Console writes a human-readable run to a writer: a header, one block per scenario, and a
// summary. Each scenario's block is built whole and written in one call under a mutex, so
// parallel scenarios never interleave inside a block.
type Console struct {
	w    io.Writer
	opts ConsoleOptions

	pass, fail, errc, skip, cancel, label, bold, faint *color.Color

	mu  sync.Mutex
	err error
}

// NewConsole returns a console reporter writing to w.
func NewConsole(w io.Writer, opts ConsoleOptions) *Console {
	c := &Console{w: w, opts: opts}
	mk := func(a ...color.Attribute) *color.Color {
		cc := color.New(a...)
		if opts.Color {
			cc.EnableColor()
		} else {
			cc.DisableColor()
		}
		return cc
	}
	c.pass = mk(color.FgGreen, color.Bold)
	c.fail = mk(color.FgRed, color.Bold)
	c.errc = mk(color.FgMagenta, color.Bold)
	c.skip = mk(color.FgYellow)
	c.cancel = mk(color.FgYellow, color.Bold)
	c.label = mk(color.FgCyan)
	c.bold = mk(color.Bold)
	c.faint = mk(color.Faint)
	return c
}

// Err returns the first error writing to the output, if any.
func (c *Console) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// statusMarks are the scenario and step marks, padded to one width so names line up.
var statusMarks = map[event.Status]string{
	event.Passed:    "PASS",
	event.Failed:    "FAIL",
	event.Error:     "ERROR",
	event.Skipped:   "SKIP",
	event.Cancelled: "CANCELLED",
	event.NotRun:    "NOT RUN",
}

const markWidth = len("CANCELLED")

func (c *Console) mark(st event.Status) string {
	m, ok := statusMarks[st]
	if !ok {
		m = string(st)
	}
	pad := strings.Repeat(" ", max(0, markWidth-len(m)))
	var cc *color.Color
	switch st {
	case event.Passed:
		cc = c.pass
	case event.Failed:
		cc = c.fail
	case event.Error:
		cc = c.errc
	case event.Skipped:
		cc = c.skip
	default:
		cc = c.cancel
	}
	return cc.Sprint(m) + pad
}

// write sends one whole block to the output.
func (c *Console) write(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := io.WriteString(c.w, s); err != nil && c.err == nil {
		c.err = fmt.Errorf("console output: %w", err)
	}
}

// RunStarted prints which SUT runs which scenarios with how many workers.
func (c *Console) RunStarted(info event.RunInfo) {
	var b strings.Builder
	b.WriteString(c.bold.Sprint("muster-test"))
	b.WriteString(": ")
	if info.Scenarios > 0 {
		fmt.Fprintf(&b, "%d scenario%s", info.Scenarios, plural(info.Scenarios))
	} else {
		b.WriteString("scenarios")
	}
	if info.Source != "" {
		fmt.Fprintf(&b, " from %s", info.Source)
	}
	if info.SUT != "" {
		fmt.Fprintf(&b, " against %s", info.SUT)
	}
	if info.Parallel > 1 {
		fmt.Fprintf(&b, ", %d parallel workers\n", info.Parallel)
	} else {
		b.WriteString(", 1 worker\n")
	}
	c.write(b.String())
}

// ScenarioStarted prints nothing: with parallel workers a start line would be separated
// from its scenario's block.
func (c *Console) ScenarioStarted(string) {}

// ScenarioFinished prints the scenario's block.
func (c *Console) ScenarioFinished(r event.ScenarioResult) {
	c.write(c.block(&r))
}

func (c *Console) block(r *event.ScenarioResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s\n", c.mark(r.Status), r.Name, c.faint.Sprintf("(%s)", fmtDuration(r.Duration)))
	for _, n := range r.Notes {
		b.WriteString("    " + c.label.Sprint("note:") + " " + n + "\n")
	}
	// Without --verbose the steps that did not pass but did not decide the verdict
	// (continue_on_failure, step-level cleanup) still get their line: they are reported,
	// never silently dropped. Steps never reached are listed with --verbose only: the
	// failure above them says why.
	decisive := r.FailedStep()
	var st *story
	if c.opts.Debug {
		st = newStory(r)
		c.startUpLines(&b, st, "    ")
	}
	for i := range r.Steps {
		s := &r.Steps[i]
		if c.opts.Verbose || c.opts.Debug || (s.Status != event.Passed && s.Status != event.NotRun && s != decisive) {
			c.stepLine(&b, s)
		}
		// Under the step's line: what it sent and caused, then what it answered.
		under := strings.Repeat(" ", 5+markWidth)
		if s.Group != "" {
			under += "  "
		}
		if st != nil {
			c.exchangeLines(&b, st.byStep[s.Key()], under)
		}
		if c.opts.Verbose || c.opts.Debug {
			c.answerBlock(&b, s, under)
		}
	}
	if st != nil {
		c.teardownLines(&b, st, "    ")
	}
	if r.Status != event.Passed {
		renderFields(&b, failureFields(r), "    ", func(l string) string { return c.label.Sprint(l) })
	}
	if r.SUTLog != "" && (c.opts.Debug || r.Status == event.Failed || r.Status == event.Error) {
		log := r.SUTLog
		if !c.opts.Color {
			log = stripANSI(log)
		}
		title := "SUT log:"
		if !c.opts.Debug {
			log = tailLines(log, sutTailLines)
			title = "SUT log (tail):"
		}
		b.WriteString("    " + c.label.Sprint(title) + "\n")
		writeIndented(&b, strings.TrimRight(log, "\r\n"), "      | ")
	}
	if r.AfterSignal != "" {
		// Whole: the stacks of a hung server are the point, and the run asked for them.
		head, rest, _ := strings.Cut(r.AfterSignal, "\n")
		b.WriteString("    " + c.label.Sprint("on timeout:") + " " + head + "\n")
		if rest != "" {
			writeIndented(&b, rest, "      | ")
		}
	}
	return b.String()
}

// stepLine is one verbose step: mark, id, tool, duration, and what is unusual about it.
func (c *Console) stepLine(b *strings.Builder, s *event.StepResult) {
	id := s.ID
	if id == "" {
		id = "-"
	}
	indent := "    "
	if s.Group != "" {
		indent += "  " // under its concurrently group's line
	}
	fmt.Fprintf(b, "%s%s %s %s", indent, c.mark(s.Status), id, s.Tool)
	if s.Status != event.NotRun {
		b.WriteString(" " + c.faint.Sprintf("(%s)", fmtDuration(s.Duration)))
	}
	if s.Attempts > 1 {
		fmt.Fprintf(b, " %d attempts", s.Attempts)
	}
	if s.User != "" && s.User != "default" {
		fmt.Fprintf(b, " as %s", s.User)
	}
	if s.Phase != "" && s.Phase != event.PhaseStep {
		fmt.Fprintf(b, " [%s]", s.Phase)
	}
	if s.ContinuedOnFailure {
		b.WriteString(" (continued on failure)")
	}
	b.WriteByte('\n')
	if s.Status != event.Passed && s.Message != "" {
		fmt.Fprintf(b, "%s%s\n", strings.Repeat(" ", 5+markWidth), firstLine(s.Message, 160))
	}
}

func writeIndented(b *strings.Builder, s, indent string) {
	for _, line := range strings.Split(s, "\n") {
		b.WriteString(indent)
		b.WriteString(line)
		b.WriteByte('\n')
	}
}

// RunFinished prints the summary: counts, duration, and one command that re-runs every
// scenario that did not pass.
func (c *Console) RunFinished(run event.Run) {
	sum := summaryOf(&run)
	var b strings.Builder
	b.WriteString("\n" + c.bold.Sprint("Summary") + "\n")
	fmt.Fprintf(&b, "  %d scenario%s: %s passed, %s failed, %s error, %s skipped, %s cancelled\n",
		sum.Total, plural(sum.Total),
		c.count(c.pass, sum.Passed), c.count(c.fail, sum.Failed), c.count(c.errc, sum.Errors),
		c.count(c.skip, sum.Skipped), c.count(c.cancel, sum.Cancelled))
	fmt.Fprintf(&b, "  duration: %s\n", fmtDuration(run.Duration))
	if run.Info.Interrupted != "" {
		fmt.Fprintf(&b, "  stopped early: %s\n", run.Info.Interrupted)
	}
	if cmd, names := c.rerun(&run); cmd != "" {
		fmt.Fprintf(&b, "  not passed: %s\n", names)
		b.WriteString("  re-run them with:\n    " + cmd + "\n")
	}
	if sum.OK() {
		b.WriteString(c.pass.Sprint("PASSED") + "\n")
	} else {
		b.WriteString(c.fail.Sprint("FAILED") + "\n")
	}
	c.write(b.String())
}

// rerun is the command that runs again the scenarios that did not pass (each name once),
// and the list of them with their outcomes; "" when all passed.
func (c *Console) rerun(run *event.Run) (cmd, names string) {
	seen := map[string]bool{}
	args := append([]string{"muster-test"}, c.opts.Rerun...)
	var listed []string
	for i := range run.Results {
		r := &run.Results[i]
		if r.Status == event.Passed || r.Status == event.Skipped || seen[r.Name] {
			continue
		}
		seen[r.Name] = true
		args = append(args, "--scenario", r.Name)
		listed = append(listed, fmt.Sprintf("%s (%s)", r.Name, r.Status))
	}
	if len(listed) == 0 {
		return "", ""
	}
	for i, a := range args {
		args[i] = ShellQuote(a)
	}
	return strings.Join(args, " "), strings.Join(listed, ", ")
}

// count colors a non-zero count, so the eye finds the outcomes that happened.
func (c *Console) count(cc *color.Color, n int) string {
	if n == 0 {
		return "0"
	}
	return cc.Sprint(n)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
