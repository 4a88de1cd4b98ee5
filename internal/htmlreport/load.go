package htmlreport

import (
	"html/template"
	"io"
)

// LoadRun is a load run's figures as the page shows them: tables the load package
// formats, the per-second series and the latency buckets, which are drawn here.
type LoadRun struct {
	Title  string
	Meta   []string
	Tables []Table
	// Series has one entry per second of the measured window.
	Series []LoadSecond
	// Histogram is every call's latency, in the load histogram's buckets.
	Histogram []LoadBucket
}

// Table is a table of figures; a Bad row is one that broke something (a threshold).
type Table struct {
	Caption, Note string
	Head          []string
	Rows          []TableRow
}

// TableRow is a row of a Table; the first cell is a name, the others right-aligned.
type TableRow struct {
	Cells []string
	Bad   bool
}

// LoadSecond is one second of the measured window.
type LoadSecond struct {
	Calls, Errors uint64
	P95MS         float64
}

// LoadBucket is a range of latencies and how many calls took that long.
type LoadBucket struct {
	LowMS, HighMS float64
	Count         uint64
}

type loadView struct {
	Tables []Table
	Charts []template.HTML
}

var loadTmpl = parse(`{{define "content"}}
{{if .Charts}}<h2>Over time</h2>{{range .Charts}}<div class="dia">{{.}}</div>{{end}}{{end}}
{{range .Tables}}<h2>{{.Caption}}</h2>
<table><tr>{{range $i, $h := .Head}}<th{{if $i}} class="num"{{end}}>{{$h}}</th>{{end}}</tr>
{{range .Rows}}<tr{{if .Bad}} class="hot"{{end}}>{{range $i, $c := .Cells}}<td{{if $i}} class="num"{{end}}>{{$c}}</td>{{end}}</tr>
{{end}}</table>{{if .Note}}<p class="note">{{.Note}}</p>{{end}}
{{end}}{{end}}`)

// WriteLoad writes a load run's report to path.
func WriteLoad(path string, r *LoadRun) error { return writeFile(path, loadTmpl, loadPage(r)) }

// RenderLoad writes a load run's report to w.
func RenderLoad(w io.Writer, r *LoadRun) error { return render(w, loadTmpl, loadPage(r)) }

func loadPage(r *LoadRun) *page {
	v := &loadView{Tables: r.Tables}
	if len(r.Series) > 0 {
		calls, errs, p95 := make([]float64, len(r.Series)), make([]float64, len(r.Series)), make([]float64, len(r.Series))
		for i, s := range r.Series {
			calls[i], errs[i], p95[i] = float64(s.Calls), float64(s.Errors), s.P95MS
		}
		calls, step := downsample(calls, false)
		errs, _ = downsample(errs, false)
		p95, _ = downsample(p95, true)
		v.Charts = append(v.Charts,
			lineChart("Throughput", "calls/s", step, []series{{"calls/s", "s1", calls}, {"errors/s", "s2", errs}}),
			lineChart("p95 latency", "ms", step, []series{{"p95", "s1", p95}}))
	}
	if h := histogramChart("Latency of every call (log scale)", r.Histogram); h != "" {
		v.Charts = append(v.Charts, h)
	}
	p := newPage(r.Title, nil, nil, v)
	p.Meta = r.Meta
	return p
}
