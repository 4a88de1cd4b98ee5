// Package htmlreport writes --html: one self-contained HTML file for a functional run, a
// conform run or a load run. Everything is inline (CSS, SVG drawn here, a few lines of
// script), so the file opens offline and loads nothing: a report is often read from a CI
// artifact, and a page that fetched anything would leak what it shows.
package htmlreport

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/report"
)

// Bounds of what a scenario quotes, so that hundreds of scenarios stay a file a browser
// opens at once.
const (
	maxValue   = 1500 // an expected value, an answer, a message
	maxLogTail = 40   // lines of the SUT log
	maxLogLen  = 6000 // characters of them
)

// page is what every report shares: the header, the verdict filter and the content.
type page struct {
	Title     string
	Meta      []string
	Filters   []filter
	FilterCSS template.CSS
	Style     template.CSS
	Script    template.JS
	Defs      template.HTML
	Content   any
}

// filter is one verdict button: its key (a CSS-safe form), its label and how many items.
type filter struct {
	Key, Label string
	Count      int
}

// key is a verdict in a form fit for an id and a class: "N/A" -> "na".
func key(v string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(v) {
		if r >= 'a' && r <= 'z' || r == '_' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// newPage sets the shared parts; verdicts are listed in the order given, with their counts.
func newPage(title string, verdicts []string, counts map[string]int, content any) *page {
	p := &page{Title: title, Style: template.CSS(style), Script: template.JS(script), Defs: template.HTML(arrowDefs), Content: content}
	var keys []string
	for _, v := range verdicts {
		if counts[v] > 0 {
			p.Filters = append(p.Filters, filter{Key: key(v), Label: v, Count: counts[v]})
			keys = append(keys, key(v))
		}
	}
	p.FilterCSS = filterCSS(keys)
	return p
}

const layout = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{{.Title}}</title>
<style>{{.Style}}{{.FilterCSS}}</style>
</head><body>
{{.Defs}}
<input type="radio" class="vf" name="vf" id="vf-all" checked>{{range .Filters}}<input type="radio" class="vf" name="vf" id="vf-{{.Key}}">{{end}}
<header><h1>{{.Title}}</h1>{{range .Meta}}<div class="meta">{{.}}</div>{{end}}
{{if .Filters}}<nav class="filter">show: <label for="vf-all">all</label>{{range .Filters}}<label for="vf-{{.Key}}">{{.Label}} ({{.Count}})</label>{{end}}</nav>{{end}}
</header>
<main>{{template "content" .Content}}</main>
<script>{{.Script}}</script>
</body></html>
`

// parse builds a kind of report's template: the layout around its content.
func parse(content string) *template.Template {
	funcs := template.FuncMap{"key": key, "ms": ms}
	return template.Must(template.Must(template.New("page").Funcs(funcs).Parse(layout)).Parse(content))
}

// render executes t into w through a buffer, so that a failing template writes nothing.
func render(w io.Writer, t *template.Template, p *page) error {
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// writeFile renders into path, whole or not at all.
func writeFile(path string, t *template.Template, p *page) error {
	var buf bytes.Buffer
	if err := render(&buf, t, p); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	if err := report.WriteFile(path, buf.Bytes()); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	return nil
}

// scenarioView is one scenario (or conform check) as the page shows it.
type scenarioView struct {
	Anchor, Name, File, Status, Error string
	Duration                          string
	Open                              bool
	Steps                             []stepView
	Notes                             []string
	SUTLog                            string
	Diagram                           template.HTML
	DiagramNote                       string
	Requests, Cap                     int           // requests recorded, the diagram's cap
	Extra                             template.HTML // what a kind of report adds (a check's requirement)
}

// stepView is one step: its outcome and, for a failure, what was expected and what came.
type stepView struct {
	ID, Tool, Phase, Status, Duration, Where string
	Met                                      string // met, unmet, not_run, skipped
	Expectation, Expected, Got, Message      string
	Hot                                      bool
}

const scenarioTmpl = `{{define "scenario"}}<details class="sc" id="{{.Anchor}}" data-v="{{key .Status}}" data-requests="{{.Requests}}" data-cap="{{.Cap}}"{{if .Open}} open{{end}}>
<summary><span class="v v-{{key .Status}}">{{.Status}}</span><span class="name">{{.Name}}</span><span class="dur">{{.Duration}}</span> <span class="file">{{.File}}</span></summary>
<div class="body">{{.Extra}}
{{if .Error}}<p class="err">{{.Error}}</p>{{end}}
{{range .Notes}}<p class="note">note: {{.}}</p>{{end}}
{{if .Steps}}<h3>Steps</h3><table class="steps"><tr><th>step</th><th>tool</th><th>result</th><th class="num">time</th><th>expectations</th><th>line</th></tr>
{{range .Steps}}<tr class="st{{if .Hot}} hot{{end}}" data-step="{{.ID}}"><td>{{.ID}}{{if ne .Phase "step"}} <span class="note">({{.Phase}})</span>{{end}}</td><td>{{.Tool}}</td><td><span class="v v-{{key .Status}}">{{.Status}}</span></td><td class="num">{{.Duration}}</td>
<td><span class="v v-{{.Met}}">{{.Met}}</span>{{if .Expectation}} {{.Expectation}}{{end}}
{{if .Expected}}<div>expected:</div><pre class="val">{{.Expected}}</pre>{{end}}{{if .Got}}<div>got:</div><pre class="val">{{.Got}}</pre>{{end}}{{if .Message}}<pre class="val">{{.Message}}</pre>{{end}}</td><td>{{.Where}}</td></tr>
{{end}}</table>{{end}}
{{if .Diagram}}<h3>Sequence</h3><div class="dia">{{.Diagram}}</div>{{if .DiagramNote}}<p class="note">{{.DiagramNote}}</p>{{end}}{{end}}
{{if .SUTLog}}<h3>SUT log (tail)</h3><pre>{{.SUTLog}}</pre>{{end}}
</div></details>{{end}}`

// runView is a functional run's content.
type runView struct {
	Summary   event.Summary
	Rows      []scenarioView
	Scenarios []scenarioView
}

var runTmpl = parse(scenarioTmpl + `{{define "content"}}
<h2>Summary</h2>
<table class="summary"><tr><th>scenario</th><th>result</th><th class="num">time</th><th>failed step / reason</th></tr>
{{range .Rows}}<tr data-v="{{key .Status}}"><td><a href="#{{.Anchor}}">{{.Name}}</a></td><td><span class="v v-{{key .Status}}">{{.Status}}</span></td><td class="num">{{.Duration}}</td><td>{{.Error}}</td></tr>
{{end}}</table>
<h2>Scenarios</h2>
{{range .Scenarios}}{{template "scenario" .}}{{end}}
{{end}}`)

var runVerdicts = []string{string(event.Failed), string(event.Error), string(event.Cancelled), string(event.Passed), string(event.Skipped)}

// WriteRun writes a functional run's report to path.
func WriteRun(path string, run *event.Run) error { return writeFile(path, runTmpl, runPage(run)) }

// RenderRun writes a functional run's report to w.
func RenderRun(w io.Writer, run *event.Run) error { return render(w, runTmpl, runPage(run)) }

func runPage(run *event.Run) *page {
	counts := map[string]int{}
	v := &runView{Summary: run.Summary}
	for i := range run.Results {
		r := &run.Results[i]
		counts[string(r.Status)]++
		sv := scenario(r, fmt.Sprintf("s%d", i), arrowCap(r, len(run.Results)))
		v.Scenarios = append(v.Scenarios, sv)
		row := sv
		row.Error = shortenSecrets(reason(r))
		v.Rows = append(v.Rows, row)
	}
	// Failures first in the summary, as a reader looks for them.
	slices.SortStableFunc(v.Rows, func(a, b scenarioView) int { return rank(a.Status) - rank(b.Status) })
	verdict := "PASSED"
	if !run.Summary.OK() {
		verdict = "FAILED"
	}
	s := run.Summary
	p := newPage(fmt.Sprintf("muster-test: %s (%d scenarios)", verdict, s.Total), runVerdicts, counts, v)
	p.Meta = []string{
		fmt.Sprintf("%d passed, %d failed, %d errors, %d skipped, %d cancelled in %s", s.Passed, s.Failed, s.Errors, s.Skipped, s.Cancelled, roundDuration(run.Duration)),
		"SUT: " + run.Info.SUT, "scenarios: " + run.Info.Source, "started " + run.Start.Format(time.RFC3339),
	}
	if run.Info.Interrupted != "" {
		p.Meta = append(p.Meta, "interrupted by "+run.Info.Interrupted)
	}
	return p
}

func rank(status string) int {
	return max(slices.Index(runVerdicts, status), 0)
}

// reason is the summary table's one line: the failed step and its expectation, or the
// scenario's error.
func reason(r *event.ScenarioResult) string {
	if st := r.FailedStep(); st != nil {
		s := "step " + st.ID
		if st.Expectation != "" {
			s += ": " + st.Expectation
		} else if st.Message != "" {
			s += ": " + firstLine(st.Message)
		}
		return cut(s, 160)
	}
	return cut(firstLine(r.Error), 160)
}

// scenario shapes one result for the page, its diagram of at most arrows arrows; failures
// are open, the rest collapsed.
func scenario(r *event.ScenarioResult, anchor string, arrows int) scenarioView {
	d := buildDiagram(r, arrows)
	sv := scenarioView{Anchor: anchor, Name: r.Name, File: r.File, Status: string(r.Status), Error: shortenSecrets(r.Error),
		Duration: roundDuration(r.Duration), Notes: r.Notes, SUTLog: shortenSecrets(tail(r.SUTLog)), Diagram: d.svg(),
		Open: r.Status == event.Failed || r.Status == event.Error, Requests: len(r.Exchanges), Cap: arrows}
	switch {
	case d.fromSteps:
		sv.DiagramNote = "No request was recorded for this scenario: the arrows are its steps' calls."
	case d.omitted > 0:
		sv.DiagramNote = fmt.Sprintf("%d requests recorded, %d drawn (the failing step's first).", len(r.Exchanges), d.arrows)
	}
	failed := failingOf(r)
	for _, s := range r.Steps {
		sv.Steps = append(sv.Steps, step(&s, r.File, failed.key))
	}
	return sv
}

func step(s *event.StepResult, file, failed string) stepView {
	v := stepView{ID: s.Key(), Tool: s.Tool, Phase: string(s.Phase), Status: string(s.Status), Hot: failed != "" && s.Key() == failed}
	if s.Status != event.NotRun && s.Status != event.Skipped {
		v.Duration = roundDuration(s.Duration)
	}
	switch {
	case s.ExpectationLine > 0:
		// Where the unmet expectation stands, not only its step.
		v.Where = fmt.Sprintf("%s:%d:%d", filepath.Base(file), s.ExpectationLine, s.ExpectationCol)
	case s.Line > 0:
		v.Where = fmt.Sprintf("%s:%d", filepath.Base(file), s.Line)
	}
	switch s.Status {
	case event.Passed:
		v.Met = "met"
	case event.Failed, event.Error:
		v.Met = "unmet"
		v.Expectation = s.Expectation
		if s.Expected != nil {
			v.Expected = cut(compactJSON(s.Expected), maxValue)
		}
		v.Got = s.Got
		if v.Got == "" {
			v.Got = s.Response
		}
		v.Got = cut(shortenSecrets(v.Got), maxValue)
		if s.Expectation == "" || v.Got == "" {
			v.Message = cut(shortenSecrets(s.Message), maxValue)
		}
		if len(s.AlsoUnmet) > 0 {
			v.Message = strings.TrimSpace(v.Message + "\nalso unmet: " + shortenSecrets(strings.Join(s.AlsoUnmet, "; ")))
		}
	default:
		v.Met = key(string(s.Status))
	}
	return v
}

// compactJSON shows a value with its type visible ("1" vs 1).
func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// tail is the last lines of a SUT log, within maxLogLen characters.
func tail(log string) string {
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	if len(lines) > maxLogTail {
		lines = lines[len(lines)-maxLogTail:]
	}
	s := strings.Join(lines, "\n")
	if len(s) > maxLogLen {
		s = "…" + strings.ToValidUTF8(s[len(s)-maxLogLen:], "")
	}
	return s
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func roundDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(10 * time.Millisecond).String()
}

// ms formats milliseconds for the tables.
func ms(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}
