package load

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/muster-test/muster-test/internal/htmlreport"
)

// HTML shapes the figures for the HTML report: the tables of the console summary, the
// time series and the run's latency buckets.
func (r *Report) HTML() *htmlreport.LoadRun {
	state := ""
	if r.Interrupted {
		state = " (interrupted: figures so far)"
	}
	verdict := "thresholds held"
	for _, v := range r.Thresholds {
		if !v.OK {
			verdict = "a threshold broke"
		}
	}
	if len(r.Thresholds) == 0 {
		verdict = "no thresholds"
	}
	s := r.Setup
	out := &htmlreport.LoadRun{
		Title: fmt.Sprintf("muster-test load: %s, %s%s", r.Workload, verdict, state),
		Meta: []string{
			fmt.Sprintf("model %s, %d users, shards %s, seed %d, started %s, measured %.1fs", r.Model, r.Users,
				strings.Join(r.Shards, ","), r.Seed, r.Started.Format("2006-01-02T15:04:05Z07:00"), r.Seconds),
			fmt.Sprintf("%d calls (%.1f/s), %.1f workflows/s, %d errors (%.2f%%)", r.Run.Count, r.RPS, r.WorkflowsPS, r.Run.Errors, r.Run.ErrorRate*100),
			fmt.Sprintf("setup: %d of %d users logged in in %.2fs (%.1f logins/s)", s.Users-s.Failed, s.Users, s.Seconds, s.LoginsPerS),
		},
	}
	if s.FirstFailed != "" {
		out.Meta = append(out.Meta, fmt.Sprintf("%d login(s) failed; first: %s", s.Failed, s.FirstFailed))
	}
	for _, sec := range r.Throughput {
		out.Series = append(out.Series, htmlreport.LoadSecond{Calls: sec.Calls, Errors: sec.Errors, P95MS: sec.P95MS})
	}
	for _, b := range r.Run.Hist.Buckets() {
		out.Histogram = append(out.Histogram, htmlreport.LoadBucket{LowMS: b.LowMS, HighMS: b.HighMS, Count: b.Count})
	}
	if len(r.Thresholds) > 0 {
		t := htmlreport.Table{Caption: "Thresholds", Head: []string{"figure", "rule", "measured", "verdict"}}
		for _, v := range r.Thresholds {
			t.Rows = append(t.Rows, htmlreport.TableRow{Cells: []string{v.Key, v.Rule, fmt.Sprintf("%.4g", v.Value), map[bool]string{true: "ok", false: "BROKEN"}[v.OK]}, Bad: !v.OK})
		}
		out.Tables = append(out.Tables, t)
	}
	out.Tables = append(out.Tables, figures("Run", map[string]*Entry{"all calls": &r.Run, "logins (setup)": &s.Login}, []string{"all calls", "logins (setup)"}),
		figures("Workflows", r.Workflows, sortedKeys(r.Workflows)), figures("Steps", r.Steps, sortedKeys(r.Steps)))
	users := slowestUsers(r)
	t := figures("Users", r.UsersFig, users)
	if len(users) < len(r.UsersFig) {
		t.Caption = fmt.Sprintf("Users: the %d slowest of %d by p95", len(users), len(r.UsersFig))
	}
	out.Tables = append(out.Tables, t)
	if len(r.IdPs) > 0 {
		t := htmlreport.Table{Caption: "Mock IdPs", Head: []string{"idp", "authorizations", "token requests", "code", "refresh", "introspections"},
			Note: "set-up included"}
		for _, name := range slices.Sorted(maps.Keys(r.IdPs)) {
			c := r.IdPs[name]
			t.Rows = append(t.Rows, htmlreport.TableRow{Cells: []string{name, fmt.Sprint(c.Authorize), fmt.Sprint(c.Token),
				fmt.Sprint(c.AuthorizationCode), fmt.Sprint(c.Refresh), fmt.Sprint(c.Introspect)}})
		}
		out.Tables = append(out.Tables, t)
	}
	return out
}

// figures is a table of entries: count, errors (by kind) and the latency percentiles.
func figures(caption string, m map[string]*Entry, keys []string) htmlreport.Table {
	t := htmlreport.Table{Caption: caption, Note: "latencies in ms",
		Head: []string{"name", "count", "errors", "err %", "min", "p50", "p90", "p95", "p99", "max", "mean"}}
	for _, k := range keys {
		e := m[k]
		errs := fmt.Sprint(e.Errors)
		if len(e.ByKind) > 0 {
			var kinds []string
			for _, kind := range slices.Sorted(maps.Keys(e.ByKind)) {
				kinds = append(kinds, fmt.Sprintf("%s %d", kind, e.ByKind[kind]))
			}
			errs += " (" + strings.Join(kinds, ", ") + ")"
		}
		t.Rows = append(t.Rows, htmlreport.TableRow{Bad: e.Errors > 0, Cells: []string{k, fmt.Sprint(e.Count), errs,
			fmt.Sprintf("%.2f", e.ErrorRate*100), ms(e.MinMS), ms(e.P50MS), ms(e.P90MS), ms(e.P95MS), ms(e.P99MS), ms(e.MaxMS), ms(e.MeanMS)}})
	}
	return t
}

func ms(v float64) string { return fmt.Sprintf("%.1f", v) }
