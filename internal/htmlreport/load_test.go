package htmlreport

import (
	"io"
	"math"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// An hour of one-second buckets draws at most maxPoints points a line and stays small;
// the histogram has a bar per non-empty log bin.
func TestLoadPageOfAnHour(t *testing.T) {
	r := &LoadRun{Title: "muster-test load: w, thresholds held", Meta: []string{"model closed"},
		Tables: []Table{{Caption: "Steps", Head: []string{"name", "count"}, Rows: []TableRow{{Cells: []string{"echo", "3600"}}, {Cells: []string{"fail", "3"}, Bad: true}}}}}
	for i := range 3600 {
		r.Series = append(r.Series, LoadSecond{Calls: 1000, Errors: uint64(i % 2), P95MS: 5})
	}
	r.Series[1800].P95MS = 900 // one slow second: the downsampled line must keep it
	r.Histogram = []LoadBucket{{LowMS: 0.1, HighMS: 0.101, Count: 10}, {LowMS: 4, HighMS: 4.03, Count: 1000}, {LowMS: 900, HighMS: 907, Count: 2}}
	doc, text := renderDoc(t, func(w io.Writer) error { return RenderLoad(w, r) })
	t.Logf("an hour of load: %d bytes", len(text))
	if len(text) > 200<<10 {
		t.Errorf("an hour's page is %d bytes", len(text))
	}
	lines := nodes(doc, func(n *html.Node) bool { return n.Data == "polyline" })
	if len(lines) != 3 {
		t.Fatalf("%d lines, want calls/s, errors/s and p95", len(lines))
	}
	top := 0.0
	for _, l := range lines {
		pts, _ := attr(l, "points")
		if n := len(strings.Fields(pts)); n != maxPoints {
			t.Errorf("a line of %d points, want %d", n, maxPoints)
		}
	}
	for _, s := range downsampled(t, r) {
		top = math.Max(top, s)
	}
	if top != 900 {
		t.Errorf("the downsampled p95 peaks at %v, want the slow second's 900", top)
	}
	if bars := nodes(doc, func(n *html.Node) bool { return n.Data == "rect" && hasClass(n, "bar") }); len(bars) != 3 {
		t.Errorf("%d histogram bars, want 3", len(bars))
	}
	for _, want := range []string{"<h2>Steps</h2>", `<tr class="hot"><td>fail</td>`, "3600s"} {
		if !strings.Contains(text, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

func downsampled(t *testing.T, r *LoadRun) []float64 {
	t.Helper()
	p95 := make([]float64, len(r.Series))
	for i, s := range r.Series {
		p95[i] = s.P95MS
	}
	out, step := downsample(p95, true)
	if step != 6 {
		t.Errorf("an hour in points of %ds, want 6s", step)
	}
	return out
}
