package htmlreport

import (
	"fmt"
	"html/template"
	"math"
	"strings"
)

// maxPoints bounds a time series as drawn: an hour of one-second buckets becomes 600
// points of six seconds, so a long run keeps the page small.
const maxPoints = 600

// Chart geometry.
const (
	chartW, chartH         = 720, 220
	padL, padR, padT, padB = 56, 16, 26, 34
)

// series is one line of a chart: its values, one per point, and its CSS class.
type series struct {
	name  string
	class string
	vals  []float64
}

// downsample merges runs of k points into one so that at most maxPoints remain: the
// mean for a rate, the largest for a latency (a p95 must not be averaged away).
func downsample(vals []float64, useMax bool) ([]float64, int) {
	k := max((len(vals)+maxPoints-1)/maxPoints, 1)
	if k == 1 {
		return vals, 1
	}
	var out []float64
	for i := 0; i < len(vals); i += k {
		end := min(i+k, len(vals))
		agg := 0.0
		for _, v := range vals[i:end] {
			if useMax {
				agg = math.Max(agg, v)
			} else {
				agg += v
			}
		}
		if !useMax {
			agg /= float64(end - i)
		}
		out = append(out, agg)
	}
	return out, k
}

// niceMax rounds a chart's top up to 1, 2 or 5 times a power of ten.
func niceMax(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func num(v float64) string {
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e6:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.2g", v)
}

// lineChart draws series over time; step is the seconds a point stands for.
func lineChart(title, unit string, step int, ss []series) template.HTML {
	n, top := 0, 0.0
	for _, s := range ss {
		n = max(n, len(s.vals))
		for _, v := range s.vals {
			top = math.Max(top, v)
		}
	}
	top = niceMax(top)
	var b strings.Builder
	openChart(&b, title, unit, top)
	iw, ih := float64(chartW-padL-padR), float64(chartH-padT-padB)
	x := func(i int) float64 { return padL + iw*float64(i)/float64(max(n-1, 1)) }
	// The time axis spans the window: n points of step seconds.
	for t := 0; t <= 4; t++ {
		fmt.Fprintf(&b, `<text x="%.0f" y="%d" text-anchor="middle">%.0fs</text>`, padL+iw*float64(t)/4, chartH-padB+16, float64(n*step*t)/4)
	}
	for _, s := range ss {
		var pts []string
		for i, v := range s.vals {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), padT+ih*(1-v/top)))
		}
		if len(pts) == 1 {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", padL+iw, padT+ih*(1-s.vals[0]/top)))
		}
		fmt.Fprintf(&b, `<polyline class="%s" points="%s"><title>%s</title></polyline>`, s.class, strings.Join(pts, " "), esc(s.name))
	}
	legend(&b, ss)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// openChart starts a chart: its frame, title and y axis from 0 to top.
func openChart(b *strings.Builder, title, unit string, top float64) {
	fmt.Fprintf(b, `<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`,
		chartW, chartH, chartW, chartH, esc(title))
	fmt.Fprintf(b, `<text class="t" x="%d" y="16">%s</text>`, padL, esc(title))
	ih := float64(chartH - padT - padB)
	for t := 0; t <= 4; t++ {
		y := padT + ih*float64(4-t)/4
		fmt.Fprintf(b, `<line class="gr" x1="%d" y1="%.0f" x2="%d" y2="%.0f"/><text x="%d" y="%.0f" text-anchor="end">%s</text>`,
			padL, y, chartW-padR, y, padL-4, y+4, num(top*float64(t)/4))
	}
	fmt.Fprintf(b, `<line class="ax" x1="%d" y1="%d" x2="%d" y2="%d"/><line class="ax" x1="%d" y1="%d" x2="%d" y2="%d"/>`,
		padL, padT, padL, chartH-padB, padL, chartH-padB, chartW-padR, chartH-padB)
	fmt.Fprintf(b, `<text x="4" y="%d">%s</text>`, padT-6, esc(unit))
}

func legend(b *strings.Builder, ss []series) {
	x := chartW - padR - 150*len(ss)
	for _, s := range ss {
		fmt.Fprintf(b, `<line class="%s" x1="%d" y1="12" x2="%d" y2="12"/><text x="%d" y="16">%s</text>`, s.class, x, x+18, x+22, esc(s.name))
		x += 150
	}
}

// binsPerOctave is the histogram chart's resolution: four bars per doubling of latency.
const binsPerOctave = 4

// histogramChart draws latency buckets regrouped on a log scale, fastest left.
func histogramChart(title string, bs []LoadBucket) template.HTML {
	if len(bs) == 0 {
		return ""
	}
	bin := func(ms float64) int { return int(math.Floor(math.Log2(math.Max(ms, 0.001)*1000) * binsPerOctave)) }
	lo, hi := bin(bs[0].LowMS), bin(bs[len(bs)-1].LowMS)
	counts := make([]uint64, hi-lo+1)
	var top uint64
	for _, b := range bs {
		i := bin(b.LowMS) - lo
		counts[i] += b.Count
		top = max(top, counts[i])
	}
	var b strings.Builder
	ftop := niceMax(float64(top))
	openChart(&b, title, "calls", ftop)
	iw, ih := float64(chartW-padL-padR), float64(chartH-padT-padB)
	bw := iw / float64(len(counts))
	edge := func(i int) float64 { return math.Pow(2, float64(i+lo)/binsPerOctave) / 1000 } // ms at a bin's left edge
	for i, c := range counts {
		if c == 0 {
			continue
		}
		h := ih * float64(c) / ftop
		fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s–%s ms: %d</title></rect>`,
			padL+bw*float64(i)+0.5, padT+ih-h, math.Max(bw-1, 0.5), h, num(edge(i)), num(edge(i+1)), c)
	}
	for t := 0; t <= 4; t++ {
		i := len(counts) * t / 4
		fmt.Fprintf(&b, `<text x="%.0f" y="%d" text-anchor="middle">%sms</text>`, padL+bw*float64(i), chartH-padB+16, num(edge(i)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
