package htmlreport

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/muster-test/muster-test/internal/event"
)

// ConformCheck is one check of a conform run as the report shows it.
type ConformCheck struct {
	ID, Level, Verdict, Reason, Requirement string
	Refs                                    []string
	// Baselined: the --baseline lists the check; Stale: listed, but it passed.
	Baselined, Stale bool
	Result           *event.ScenarioResult // nil when the check did not run
}

// ConformRun is a conform run: its target, its grade line and its checks in the
// catalogue's order.
type ConformRun struct {
	Target, Grade string
	Start         time.Time
	Duration      time.Duration
	Levels        []string // in the order they are shown
	Checks        []ConformCheck
}

// maxReason bounds the reason a check's row quotes.
const maxReason = 300

// conformVerdicts are the filter's buttons, the ones that fail the run first.
var conformVerdicts = []string{"FAIL", "STALE", "XFAIL", "WARN", "PASS", "N/A"}

type levelView struct {
	Level  string
	Checks []checkView
}

type checkView struct {
	scenarioView
	Level, Baseline, Requirement, Reason string
	Refs                                 []string
}

var conformTmpl = parse(scenarioTmpl + `{{define "content"}}
{{range .}}<h2>{{.Level}} ({{len .Checks}})</h2>
<table class="summary"><tr><th>check</th><th>verdict</th><th>baseline</th><th>requirement</th><th>spec</th></tr>
{{range .Checks}}<tr data-v="{{key .Status}}"><td><a href="#{{.Anchor}}">{{.Name}}</a></td><td><span class="v v-{{key .Status}}">{{.Status}}</span></td><td>{{.Baseline}}</td><td>{{.Requirement}}{{if .Reason}}<div class="err">{{.Reason}}</div>{{end}}</td>
<td>{{range $i, $r := .Refs}}{{if $i}}<br>{{end}}<a href="{{$r}}" rel="noreferrer">{{$r}}</a>{{end}}</td></tr>
{{end}}</table>
{{range .Checks}}{{template "scenario" .}}{{end}}
{{end}}{{end}}`)

// WriteConform writes a conform run's report to path.
func WriteConform(path string, c *ConformRun) error {
	return writeFile(path, conformTmpl, conformPage(c))
}

// RenderConform writes a conform run's report to w.
func RenderConform(w io.Writer, c *ConformRun) error { return render(w, conformTmpl, conformPage(c)) }

func conformPage(c *ConformRun) *page {
	counts := map[string]int{}
	var levels []levelView
	for _, l := range c.Levels {
		levels = append(levels, levelView{Level: l})
	}
	for i := range c.Checks {
		ch := &c.Checks[i]
		v := checkOf(ch, fmt.Sprintf("c%d", i))
		counts[v.Status]++
		for j := range levels {
			if levels[j].Level == ch.Level {
				levels[j].Checks = append(levels[j].Checks, v)
			}
		}
	}
	p := newPage("muster-test conform: "+c.Grade, conformVerdicts, counts, levels)
	p.Meta = []string{"target: " + c.Target, fmt.Sprintf("%d checks in %s, started %s", len(c.Checks), roundDuration(c.Duration),
		c.Start.Format(time.RFC3339))}
	return p
}

// checkOf shapes a check: its scenario when it ran, its verdict in place of the
// scenario's status (a stale baseline entry as STALE, which fails the run).
func checkOf(ch *ConformCheck, anchor string) checkView {
	sv := scenarioView{Anchor: anchor, Name: ch.ID}
	if ch.Result != nil {
		sv = scenario(ch.Result, anchor, MaxArrows)
		sv.Name = ch.ID
	}
	sv.Status = ch.Verdict
	if ch.Stale {
		sv.Status = "STALE"
	}
	sv.Open = sv.Status == "FAIL" || sv.Status == "STALE"
	// The table quotes the reason's start; the whole failure is in the check's steps.
	v := checkView{scenarioView: sv, Level: ch.Level, Requirement: ch.Requirement, Reason: cut(shortenSecrets(ch.Reason), maxReason), Refs: ch.Refs}
	switch {
	case ch.Stale:
		v.Baseline = "listed, but it passes: remove the entry"
	case ch.Baselined && ch.Verdict == "XFAIL":
		v.Baseline = "listed: an expected failure"
	case ch.Baselined:
		v.Baseline = "listed"
	default:
		v.Baseline = "—"
	}
	var refs []string
	for _, r := range ch.Refs {
		refs = append(refs, fmt.Sprintf(`<a href="%s" rel="noreferrer">%s</a>`, template.HTMLEscapeString(r), template.HTMLEscapeString(r)))
	}
	v.Extra = template.HTML(fmt.Sprintf(`<p><b>%s</b> %s</p><p class="note">baseline: %s<br>spec: %s</p>`,
		template.HTMLEscapeString(ch.Level), template.HTMLEscapeString(ch.Requirement), template.HTMLEscapeString(v.Baseline), strings.Join(refs, " · ")))
	return v
}
