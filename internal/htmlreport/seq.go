package htmlreport

import (
	"fmt"
	"html"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/muster-test/muster-test/internal/event"
)

// MaxArrows is how many arrows a scenario's diagram draws at most: a scenario with
// thousands of requests (a retry loop, a long soak) must not make the page too big to
// open. What is left out is said in a "... M more" row. A page of many scenarios shares
// pageArrows among those that did not fail, each keeping at least minArrows; a failure
// always gets MaxArrows, as it is what the page is read for.
const (
	MaxArrows  = 60
	pageArrows = 6000
	minArrows  = 12
)

// arrowCap is the cap of a scenario's diagram on a page of n scenarios.
func arrowCap(r *event.ScenarioResult, n int) int {
	if r.Status == event.Failed || r.Status == event.Error || n == 0 {
		return MaxArrows
	}
	return min(max(pageArrows/n, minArrows), MaxArrows)
}

// Geometry of a diagram, in SVG user units (pixels at 100%).
const (
	colW    = 170 // between two lifelines
	marginX = 90  // left of the first lifeline: room for step names
	headH   = 34  // the parties' boxes
	rowH    = 22  // one arrow
	bandH   = 16  // a step's name above its arrows
	charW   = 6.7 // width of a character of the label font (11px monospace)
	// minWidth leaves room for labels: each row holds one arrow, so its label may run
	// past the arrow's end, over the lifelines, up to the right edge.
	minWidth = 640
)

// arrow is one drawn request.
type arrow struct {
	from, to int
	label    string // what was asked: "POST /token grant=refresh_token"
	answer   string // what came back and how fast: "200 · 4ms"
	band     string // the part of the scenario it belongs to: "step ID", "start-up", "teardown"
	hot      bool   // belongs to the failing step
	bad      bool   // no answer, or an error status
}

// diagram is what a scenario's sequence diagram shows, before it is drawn.
type diagram struct {
	parties []string
	rows    []row
	// fromSteps: no request was recorded, the arrows are the steps' calls.
	fromSteps bool
	arrows    int // arrows drawn
	omitted   int // arrows left out by the cap
	limit     int // the cap
}

// row is an arrow, a step's band or a "... M more" marker.
type row struct {
	band    string // a part of the scenario begins: its name
	hotBand bool
	more    int // a marker for this many arrows left out
	arrow   *arrow
}

// buildDiagram lays out r's exchanges (or, when none was recorded, its steps) as at most
// max arrows, the failing step's first among those kept.
func buildDiagram(r *event.ScenarioResult, max int) diagram {
	failed := failingOf(r)
	var arrows []arrow
	var parties []string
	d := diagram{limit: max}
	if len(r.Exchanges) > 0 {
		parties = partiesOf(r.Exchanges)
		arrows = exchangeArrows(r, parties, failed)
	} else {
		d.fromSteps = true
		parties, arrows = stepArrows(r, failed)
	}
	d.parties = parties
	keep := pick(arrows, max)
	band, skipped := "\x00", 0
	for i := range arrows {
		if !keep[i] {
			skipped++
			continue
		}
		if skipped > 0 {
			d.rows = append(d.rows, row{more: skipped})
			d.omitted += skipped
			skipped = 0
		}
		a := &arrows[i]
		if a.band != band {
			band = a.band
			d.rows = append(d.rows, row{band: band, hotBand: a.hot})
		}
		d.rows = append(d.rows, row{arrow: a})
		d.arrows++
	}
	if skipped > 0 {
		d.rows = append(d.rows, row{more: skipped})
		d.omitted += skipped
	}
	return d
}

// pick keeps at most max arrows: the failing step's (up to half of max), the rest from
// the start, so that the highlight is never what the cap cuts.
func pick(arrows []arrow, max int) []bool {
	keep := make([]bool, len(arrows))
	if len(arrows) <= max {
		for i := range keep {
			keep[i] = true
		}
		return keep
	}
	n := 0
	for i := range arrows {
		if arrows[i].hot && n < max/2 {
			keep[i] = true
			n++
		}
	}
	for i := range arrows {
		if n == max {
			break
		}
		if !keep[i] {
			keep[i] = true
			n++
		}
	}
	return keep
}

// partyOrder ranks the kinds of parties left to right: the runner and its browser, the
// SUT, the identity providers, the MCP servers, anything else.
func partyOrder(p string) int {
	switch {
	case p == event.PartyRunner:
		return 0
	case p == event.PartyBrowser:
		return 1
	case p == event.PartySUT:
		return 2
	case strings.HasPrefix(p, "idp:"):
		return 3
	case strings.HasPrefix(p, "mcp:"):
		return 4
	}
	return 5
}

// partiesOf lists the parties of the exchanges, the runner and the SUT always among them,
// in partyOrder and, within a kind, by first appearance.
func partiesOf(xs []event.Exchange) []string {
	ps := []string{event.PartyRunner, event.PartySUT}
	for _, x := range xs {
		for _, p := range []string{x.From, x.To} {
			if p != "" && !slices.Contains(ps, p) {
				ps = append(ps, p)
			}
		}
	}
	slices.SortStableFunc(ps, func(a, b string) int { return partyOrder(a) - partyOrder(b) })
	return ps
}

// failing is what the failing step's requests are tagged with: its key, and the id of its
// concurrently group (a request made while several of the group's steps ran).
type failing struct{ key, group string }

func failingOf(r *event.ScenarioResult) failing {
	if st := r.FailedStep(); st != nil {
		return failing{key: st.Key(), group: st.Group}
	}
	return failing{}
}

func (f failing) is(step string) bool { return step != "" && (step == f.key || step == f.group) }

// exchangeArrows are the arrows of r's requests. Those outside any step are start-up
// (before the first step began) or teardown; the runner's start-up requests that found
// the SUT not listening yet fold into one arrow per run of them, as --debug prints them.
func exchangeArrows(r *event.ScenarioResult, parties []string, failed failing) []arrow {
	var first time.Time
	for _, st := range r.Steps {
		if !st.Start.IsZero() && (first.IsZero() || st.Start.Before(first)) {
			first = st.Start
		}
	}
	var out []arrow
	folded, fold := 0, -1 // requests in the current fold, its index in out
	for i := range r.Exchanges {
		x := &r.Exchanges[i]
		band := "step " + x.Step
		if x.Step == "" {
			band = "teardown"
			if first.IsZero() || x.Time.Before(first) {
				band = "start-up"
			}
		}
		if band == "start-up" && x.From == event.PartyRunner && x.Status == 0 {
			if fold < 0 {
				fold, folded = len(out), 0
				out = append(out, arrow{from: slices.Index(parties, x.From), to: slices.Index(parties, x.To), band: band})
			}
			folded++
			out[fold].label = fmt.Sprintf("%d request%s while the SUT started", folded, plural(folded))
			out[fold].answer = "no answer: not listening yet"
			continue
		}
		fold = -1
		a := exchangeArrow(x, parties, failed)
		a.band = band
		out = append(out, a)
	}
	return out
}

func exchangeArrow(x *event.Exchange, parties []string, failed failing) arrow {
	label := strings.TrimSpace(x.Method + " " + x.Path)
	if x.Detail != "" {
		label += " " + x.Detail
	}
	if x.Bearer != "" {
		label += " (Bearer " + x.Bearer + ")"
	}
	answer := ""
	switch {
	case x.Error != "":
		answer = "✗ " + x.Error
	case x.Status != 0:
		answer = fmt.Sprint(x.Status)
	}
	if x.Duration > 0 {
		answer += " · " + shortDuration(x.Duration)
	}
	return arrow{from: slices.Index(parties, x.From), to: slices.Index(parties, x.To), label: label,
		answer: strings.TrimPrefix(answer, " · "), hot: failed.is(x.Step),
		bad: x.Error != "" || x.Status >= 400 || x.Status == 0}
}

// stepArrows draws a scenario without recorded requests from its steps: each call from
// the runner to the SUT, a test tool (which the runner answers itself) as a call to itself.
func stepArrows(r *event.ScenarioResult, failed failing) ([]string, []arrow) {
	parties := []string{event.PartyRunner, event.PartySUT}
	var out []arrow
	for _, s := range r.Steps {
		if s.Tool == event.GroupTool || s.Status == event.NotRun || s.Status == event.Skipped {
			continue
		}
		to := 1
		if strings.HasPrefix(s.Tool, "test_") {
			to = 0
		}
		answer := strings.ToLower(string(s.Status))
		if s.Duration > 0 {
			answer += " · " + shortDuration(s.Duration)
		}
		out = append(out, arrow{from: 0, to: to, label: "tools/call " + s.Tool, answer: answer, band: "step " + s.Key(),
			hot: failed.is(s.Key()), bad: s.Status == event.Failed || s.Status == event.Error})
	}
	return parties, out
}

func shortDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return d.Round(100 * time.Millisecond).String()
}

// svg draws the diagram. Every text is escaped here: the page's template takes the result
// as trusted HTML.
func (d diagram) svg() template.HTML {
	n := len(d.parties)
	// At least wide enough for a label of a call between neighbours to be read whole.
	w := max(marginX+(n-1)*colW+colW/2+10, minWidth)
	h := headH + 8
	for _, r := range d.rows {
		h += rowHeight(r)
	}
	h += 6
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="seq" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="sequence diagram">`, w, h, w, h)
	for i, p := range d.parties {
		x := lifeX(i)
		fmt.Fprintf(&b, `<rect class="pb" x="%d" y="2" width="%d" height="24" rx="4"/><text class="pn" x="%d" y="18">%s</text>`,
			x-colW/2+8, colW-16, x, esc(cut(p, (colW-20)*10/62)))
		fmt.Fprintf(&b, `<line class="ll" x1="%d" y1="26" x2="%d" y2="%d"/>`, x, x, h-2)
	}
	y := headH + 8
	for _, r := range d.rows {
		switch {
		case r.band != "":
			cls := "band"
			if r.hotBand {
				cls += " hot"
			}
			fmt.Fprintf(&b, `<g class="%s"><line x1="4" y1="%d" x2="%d" y2="%d"/><text x="6" y="%d">%s</text></g>`,
				cls, y+2, w-4, y+2, y+13, esc(cut(r.band, 45)))
		case r.more > 0:
			fmt.Fprintf(&b, `<text class="more" x="%d" y="%d">… %d more request%s not drawn (at most %d in this diagram)</text>`,
				marginX, y+15, r.more, plural(r.more), d.limit)
		default:
			drawArrow(&b, r.arrow, y, w)
		}
		y += rowHeight(r)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func rowHeight(r row) int {
	if r.band != "" {
		return bandH
	}
	return rowH
}

func lifeX(i int) int { return marginX + i*colW }

func drawArrow(b *strings.Builder, a *arrow, y, w int) {
	cls := "a"
	if a.hot {
		cls += " hot"
	}
	if a.bad {
		cls += " bad"
	}
	x1, x2 := lifeX(a.from), lifeX(a.to)
	ya := y + 16
	marker := "ah"
	if a.hot {
		marker = "ahh"
	}
	fmt.Fprintf(b, `<g class="%s">`, cls)
	text := a.label
	if a.answer != "" {
		text += " → " + a.answer
	}
	if x1 == x2 {
		// A call to oneself: a small loop right of the lifeline, the label beside it.
		fmt.Fprintf(b, `<path d="M%d %dh24v6h-24" marker-end="url(#%s)"/>`, x1, ya-6, marker)
		fmt.Fprintf(b, `<text x="%d" y="%d">%s</text>`, x1+30, ya+1, labelText(text, w-x1-36))
	} else {
		lo := min(x1, x2)
		fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" marker-end="url(#%s)"/>`, x1, ya, x2, ya, marker)
		fmt.Fprintf(b, `<text x="%d" y="%d">%s</text>`, lo+6, ya-4, labelText(text, w-lo-12))
	}
	b.WriteString(`</g>`)
}

// labelText fits text into width units; a cut text keeps the whole as its tooltip.
func labelText(text string, width int) string {
	n := max(int(float64(width)/charW), 12)
	if c := cut(text, n); c != text {
		return esc(c) + "<title>" + esc(text) + "</title>"
	}
	return esc(text)
}

// cut shortens s to n characters, marking the cut.
func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func esc(s string) string { return html.EscapeString(s) }

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// arrowDefs are the arrowheads every diagram's arrows share (plain and highlighted),
// defined once per page.
const arrowDefs = `<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>` +
	`<marker id="ah" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">` +
	`<path d="M0 0L10 5L0 10z" fill="#555"/></marker>` +
	`<marker id="ahh" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">` +
	`<path d="M0 0L10 5L0 10z" fill="#c62828"/></marker></defs></svg>`
