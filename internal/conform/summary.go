package conform

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/muster-test/muster-test/internal/event"
)

// maxShown bounds what the summary quotes of a request or an answer.
const maxShown = 600

var verdictColor = map[Verdict]string{Pass: "32", Fail: "31", Warn: "33", NA: "90", XFail: "35"}

// counts are a level's verdicts.
type counts map[Verdict]int

func tally(res *Result) map[Level]counts {
	out := map[Level]counts{}
	for _, l := range levels {
		out[l] = counts{}
	}
	for _, o := range res.Outcomes {
		out[o.Check.Level][o.Verdict]++
	}
	return out
}

// grade is the one line that says how the server fares.
func grade(res *Result) string {
	t := tally(res)
	stale := 0
	for _, o := range res.Outcomes {
		if o.Stale {
			stale++
		}
	}
	m, s := t[Must], t[Should]
	applicable := m[Pass] + m[Fail] + m[XFail]
	var b strings.Builder
	switch {
	case res.Interrupted != "":
		fmt.Fprintf(&b, "INTERRUPTED by %s: %d of %d checks did not finish, no grade", res.Interrupted, notRun(res), len(res.Outcomes))
		return b.String()
	case m[Fail] > 0:
		fmt.Fprintf(&b, "FAIL: %d of %d applicable MUSTs not met", m[Fail], applicable)
	case m[XFail] > 0:
		fmt.Fprintf(&b, "PASS with known failures: %d of %d applicable MUSTs fail as the baseline expects", m[XFail], applicable)
	default:
		fmt.Fprintf(&b, "PASS: all %d applicable MUSTs met", applicable)
	}
	fmt.Fprintf(&b, "; SHOULD %d of %d met", s[Pass], s[Pass]+s[Warn])
	if na := m[NA] + s[NA] + t[May][NA]; na > 0 {
		fmt.Fprintf(&b, "; %d not applicable", na)
	}
	if stale > 0 {
		fmt.Fprintf(&b, "; %d stale baseline entr%s (the check passes: remove it)", stale, map[bool]string{true: "y", false: "ies"}[stale == 1])
	}
	return b.String()
}

func notRun(res *Result) int {
	n := 0
	for _, o := range res.Outcomes {
		if o.Result != nil && o.Result.Status == event.Cancelled {
			n++
		}
	}
	return n
}

// writeSummary prints every check's verdict, the counts per level, the grade, and then
// each failure and warning with its requirement, its spec link, what was sent and what
// came back.
func writeSummary(w io.Writer, res *Result, color bool) {
	paint := func(v Verdict, s string) string {
		if !color {
			return s
		}
		return "\x1b[" + verdictColor[v] + "m" + s + "\x1b[0m"
	}
	fmt.Fprintf(w, "muster-test conform: %d checks against %s\n\n", len(res.Outcomes), res.Target)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, o := range res.Outcomes {
		note := o.Reason
		if o.Stale {
			note = "stale baseline entry: the check passes, remove it from the baseline"
		}
		// Padding before painting keeps the columns straight: tabwriter counts escape bytes.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", paint(o.Verdict, fmt.Sprintf("%-5s", o.Verdict)), o.Check.ID, o.Check.Level, clip(firstLine(note), 120))
	}
	tw.Flush()
	fmt.Fprintln(w)
	t := tally(res)
	for _, l := range levels {
		c := t[l]
		fmt.Fprintf(w, "%-7s %2d passed, %d failed, %d xfail, %d warned, %d n/a\n", l, c[Pass], c[Fail], c[XFail], c[Warn], c[NA])
	}
	fmt.Fprintf(w, "grade: %s (%.1fs)\n", grade(res), res.Duration.Seconds())
	for _, o := range res.Outcomes {
		if o.Verdict != Fail && o.Verdict != Warn && o.Verdict != XFail && !o.Stale {
			continue
		}
		label := string(o.Verdict)
		if o.Stale {
			label = "STALE"
		}
		fmt.Fprintf(w, "\n%s %s (%s)\n", paint(o.Verdict, label), o.Check.ID, o.Check.Level)
		if o.Check.Paraphrase {
			fmt.Fprintf(w, "  requirement: %s\n", o.Check.requirementText())
		} else {
			fmt.Fprintf(w, "  requirement: %q\n", o.Check.Requirement)
		}
		fmt.Fprintf(w, "  spec:        %s\n", o.Check.Refs[0])
		if o.Stale {
			continue
		}
		if st := failedStep(o.Result); st != nil {
			fmt.Fprintf(w, "  sent:        %s %s\n", st.Tool, clip(compact(st.Args), maxShown))
			fmt.Fprintf(w, "  got:         %s\n", clip(oneLine(answer(st.Response)), maxShown))
		}
		fmt.Fprintf(w, "  why:         %s\n", clip(oneLine(o.Reason), maxShown/3))
	}
}

// telling are the fields of a test tool's answer that say most about a refusal, shown
// first so that the clipped line keeps them.
var telling = []string{"status_code", "www_authenticate", "exit_code", "stdout", "stderr", "problem_codes", "error"}

// answer puts an answer's telling fields before the rest; other text stays as it is.
func answer(resp string) string {
	var m map[string]any
	if json.Unmarshal([]byte(resp), &m) != nil {
		return resp
	}
	var parts []string
	for _, k := range telling {
		if v, ok := m[k]; ok {
			parts = append(parts, k+"="+compact(v))
			delete(m, k)
		}
	}
	if len(parts) == 0 {
		return resp
	}
	return strings.Join(parts, " ") + " " + compact(m)
}

func failedStep(r *event.ScenarioResult) *event.StepResult {
	if r == nil {
		return nil
	}
	return r.FailedStep()
}

// compact is v as one line of JSON, with & < > as they are (URLs are common here).
func compact(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
