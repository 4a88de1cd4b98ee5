package htmlreport

import (
	"fmt"
	"html/template"
	"strings"
)

// style is the page's whole stylesheet: the file must open anywhere, offline, so nothing
// is linked.
const style = `
:root{--ok:#2e7d32;--bad:#c62828;--warn:#ef6c00;--mute:#757575;--xf:#6a1b9a;--bg:#fafafa;--line:#ddd}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:var(--bg);color:#222}
header{background:#263238;color:#fff;padding:12px 20px}
header h1{font-size:18px;margin:0 0 4px}
header .meta{color:#cfd8dc;font-size:12px}
main{padding:12px 20px 40px}
nav.filter{margin-top:8px}
nav.filter label{display:inline-block;padding:2px 10px;margin:2px 4px 0 0;border:1px solid #90a4ae;border-radius:12px;cursor:pointer;font-size:12px}
input.vf{display:none}
table{border-collapse:collapse;margin:8px 0 16px;background:#fff}
th,td{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top;font-size:13px}
th{background:#eceff1}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td a,td .err{overflow-wrap:anywhere}
.v{display:inline-block;min-width:64px;text-align:center;border-radius:3px;color:#fff;font-size:11px;font-weight:600;padding:1px 6px}
.v-passed,.v-pass,.v-met{background:var(--ok)}
.v-failed,.v-fail,.v-error,.v-unmet{background:var(--bad)}
.v-warn,.v-cancelled{background:var(--warn)}
.v-skipped,.v-na,.v-not_run{background:var(--mute)}
.v-xfail,.v-stale{background:var(--xf)}
details.sc{background:#fff;border:1px solid var(--line);border-radius:4px;margin:8px 0}
details.sc>summary{padding:6px 10px;cursor:pointer;list-style-position:inside}
details.sc>summary .name{font-weight:600;margin:0 6px}
details.sc>summary .dur,.file{color:var(--mute);font-size:12px}
details.sc>.body{padding:4px 14px 12px;border-top:1px solid var(--line)}
.err{color:var(--bad);white-space:pre-wrap}
pre{background:#263238;color:#eceff1;padding:8px;overflow:auto;max-height:320px;font-size:12px;margin:4px 0}
pre.val{background:#f5f5f5;color:#222;max-height:160px;margin:0;white-space:pre-wrap;word-break:break-all}
tr.hot td{background:#ffebee}
h2{font-size:16px;margin:18px 0 6px}
h3{font-size:14px;margin:12px 0 4px}
.note{color:var(--mute);font-size:12px}
.dia{overflow-x:auto}
svg.seq{font:11px ui-monospace,SFMono-Regular,Menlo,monospace;background:#fff}
svg.seq .pb{fill:#eceff1;stroke:#90a4ae}
svg.seq .pn{text-anchor:middle;font-weight:600}
svg.seq .ll{stroke:#b0bec5;stroke-dasharray:4 3}
svg.seq .a line,svg.seq .a path{stroke:#555;fill:none;stroke-width:1.2}
svg.seq .a.bad text{fill:var(--bad)}
svg.seq .a.hot line,svg.seq .a.hot path{stroke:var(--bad);stroke-width:2.2}
svg.seq .a.hot text{fill:var(--bad);font-weight:700}
svg.seq .band line{stroke:#cfd8dc}
svg.seq .band text{fill:var(--mute);font-style:italic}
svg.seq .band.hot line{stroke:var(--bad)}
svg.seq .band.hot text{fill:var(--bad);font-weight:700}
svg.seq .more{fill:var(--mute);font-style:italic}
svg.chart{font:11px system-ui,sans-serif;background:#fff;border:1px solid var(--line)}
svg.chart .ax{stroke:#90a4ae}
svg.chart .gr{stroke:#eceff1}
svg.chart .s1{stroke:#1565c0;fill:none;stroke-width:1.5}
svg.chart .s2{stroke:var(--bad);fill:none;stroke-width:1.5}
svg.chart .bar{fill:#1565c0}
svg.chart text.t{font-weight:600}
a{color:#1565c0}
`

// filterCSS shows only the items of the checked verdict; the radio buttons stand before
// header and main, so the sibling selector reaches both, and no script is needed.
func filterCSS(keys []string) template.CSS {
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "#vf-%s:checked~main [data-v]:not([data-v=%s]){display:none}", k, k)
		fmt.Fprintf(&b, "#vf-%s:checked~header label[for=vf-%s]{background:#fff;color:#263238}", k, k)
	}
	b.WriteString("#vf-all:checked~header label[for=vf-all]{background:#fff;color:#263238}")
	return template.CSS(b.String())
}

// script opens a collapsed scenario when a link (the summary table's) points at it.
const script = `function o(){var e=document.getElementById(decodeURIComponent(location.hash.slice(1)));if(e&&e.tagName==="DETAILS")e.open=true}addEventListener("hashchange",o);o();`
