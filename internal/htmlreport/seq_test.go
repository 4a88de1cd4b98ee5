package htmlreport

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/event"
)

func TestDiagramOfExchanges(t *testing.T) {
	r := failingResult("x", loginExchanges())
	d := buildDiagram(&r, MaxArrows)
	want := []string{"runner", "browser", "SUT", "idp:idp", "mcp:search"}
	if !slices.Equal(d.parties, want) {
		t.Fatalf("parties %v, want %v", d.parties, want)
	}
	if d.arrows != len(r.Exchanges) || d.omitted != 0 || d.fromSteps {
		t.Fatalf("arrows %d omitted %d fromSteps %v, want %d, 0, false", d.arrows, d.omitted, d.fromSteps, len(r.Exchanges))
	}
	var bands, hot []string
	for _, row := range d.rows {
		if row.band != "" {
			bands = append(bands, row.band)
		}
		if row.arrow != nil && row.arrow.hot {
			hot = append(hot, row.arrow.label)
		}
	}
	if want := []string{"start-up", "step login", "step call"}; !slices.Equal(bands, want) {
		t.Errorf("step bands %v, want %v", bands, want)
	}
	if want := []string{"POST /mcp tools/call x_search_find", "POST /mcp tools/call find (Bearer ory_at_Zx…)"}; !slices.Equal(hot, want) {
		t.Errorf("highlighted arrows %q, want %q", hot, want)
	}
	svg := string(d.svg())
	for _, s := range []string{">browser<", ">idp:idp<", "GET /oauth/callback → 200 · 3ms", "POST /token grant=authorization_code → 200 · 3ms",
		"401 · 3ms", `class="a hot bad"`, `class="band hot"`} {
		if !strings.Contains(svg, s) {
			t.Errorf("diagram lacks %q", s)
		}
	}
	if n := strings.Count(svg, `<g class="a`); n != len(r.Exchanges) {
		t.Errorf("%d arrows drawn, want %d", n, len(r.Exchanges))
	}
}

// The cap keeps MaxArrows, says how many were left out, and keeps the failing step's
// arrows even when they come last.
func TestDiagramCap(t *testing.T) {
	r := failingResult("x", manyExchanges(300))
	d := buildDiagram(&r, MaxArrows)
	if d.arrows != MaxArrows || d.omitted != 300-MaxArrows {
		t.Fatalf("arrows %d omitted %d, want %d and %d", d.arrows, d.omitted, MaxArrows, 300-MaxArrows)
	}
	hot := 0
	for _, row := range d.rows {
		if row.arrow != nil && row.arrow.hot {
			hot++
		}
	}
	if hot != 5 {
		t.Errorf("%d of the failing step's 5 arrows kept", hot)
	}
	svg := string(d.svg())
	if !strings.Contains(svg, fmt.Sprintf("… %d more requests not drawn", 300-MaxArrows)) {
		t.Errorf("no marker for the %d arrows left out", 300-MaxArrows)
	}
	if n := strings.Count(svg, `<g class="a`); n != MaxArrows {
		t.Errorf("%d arrows drawn, want %d", n, MaxArrows)
	}
}

func TestDiagramFromSteps(t *testing.T) {
	r := failingResult("x", nil)
	d := buildDiagram(&r, MaxArrows)
	if !d.fromSteps || !slices.Equal(d.parties, []string{"runner", "SUT"}) {
		t.Fatalf("fromSteps %v parties %v", d.fromSteps, d.parties)
	}
	// login (a test tool: the runner's own) and call; the step that never ran is no arrow.
	if d.arrows != 2 {
		t.Fatalf("%d arrows, want 2", d.arrows)
	}
	var self, hot *arrow
	for _, row := range d.rows {
		if a := row.arrow; a != nil {
			if a.from == a.to {
				self = a
			}
			if a.hot {
				hot = a
			}
		}
	}
	if self == nil || self.band != "step login" {
		t.Errorf("the test tool is not a call of the runner to itself: %+v", self)
	}
	if hot == nil || hot.band != "step call" || hot.to != 1 || !hot.bad {
		t.Errorf("the failing call to the SUT is not highlighted: %+v", hot)
	}
}

// Whatever a request carried reaches the page as text, never as markup.
func TestDiagramEscapes(t *testing.T) {
	xs := []event.Exchange{{From: event.PartyRunner, To: "mcp:<b>", Method: "POST", Path: "/mcp", Detail: `tools/call <script>alert(1)</script>`, Status: 200}}
	r := passingResult("x", xs)
	svg := string(buildDiagram(&r, MaxArrows).svg())
	if strings.Contains(svg, "<script>") || strings.Contains(svg, "<b>") {
		t.Fatalf("markup from a request got through: %s", svg)
	}
	if !strings.Contains(svg, "&lt;script&gt;") {
		t.Fatalf("the detail is missing: %s", svg)
	}
}

func TestLongLabelKeepsTooltip(t *testing.T) {
	long := "tools/call " + strings.Repeat("x", 200)
	xs := []event.Exchange{{From: event.PartyRunner, To: event.PartySUT, Method: "POST", Path: "/mcp", Detail: long, Status: 200}}
	r := passingResult("x", xs)
	svg := string(buildDiagram(&r, MaxArrows).svg())
	if !strings.Contains(svg, "<title>POST /mcp "+long+" → 200</title>") {
		t.Fatalf("a cut label lost its whole text: %s", svg)
	}
}

// The runner's requests that found the SUT not listening yet are one arrow; requests
// after the last step are the teardown's.
func TestDiagramFoldsStartUpProbes(t *testing.T) {
	r := failingResult("x", nil)
	r.Steps[0].Start, r.Steps[1].Start = t0.Add(time.Second), t0.Add(2*time.Second)
	probe := event.Exchange{From: event.PartyRunner, To: event.PartySUT, Method: "POST", Path: "/mcp", Detail: "initialize",
		Error: "dial tcp 127.0.0.1:1: connect: connection refused"}
	for i := range 6 {
		probe.Time = t0.Add(time.Duration(i) * time.Millisecond)
		r.Exchanges = append(r.Exchanges, probe)
	}
	r.Exchanges = append(r.Exchanges,
		event.Exchange{Time: t0.Add(10 * time.Millisecond), From: event.PartyRunner, To: event.PartySUT, Method: "POST", Path: "/mcp", Detail: "initialize", Status: 200},
		event.Exchange{Time: t0.Add(1500 * time.Millisecond), From: event.PartyRunner, To: event.PartySUT, Method: "POST", Path: "/mcp", Detail: "tools/call x_search_find", Status: 200, Step: "call"},
		event.Exchange{Time: t0.Add(3 * time.Second), From: event.PartyRunner, To: event.PartySUT, Method: "DELETE", Path: "/mcp", Status: 200})
	d := buildDiagram(&r, MaxArrows)
	var got []string
	for _, row := range d.rows {
		switch {
		case row.band != "":
			got = append(got, "["+row.band+"]")
		case row.arrow != nil:
			got = append(got, row.arrow.label+" → "+row.arrow.answer)
		}
	}
	want := []string{"[start-up]", "6 requests while the SUT started → no answer: not listening yet", "POST /mcp initialize → 200",
		"[step call]", "POST /mcp tools/call x_search_find → 200", "[teardown]", "DELETE /mcp → 200"}
	if !slices.Equal(got, want) {
		t.Errorf("rows\n%q\nwant\n%q", got, want)
	}
}
