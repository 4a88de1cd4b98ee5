package load

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// maxUserRows bounds the per-user table on the console; the --out file has every user.
const maxUserRows = 20

// Summary prints the figures as tables: setup, the run, workflows, steps, users (the
// slowest by p95 first), errors by kind and the thresholds.
func Summary(out io.Writer, r *Report) {
	state := ""
	if r.Interrupted {
		state = "  (interrupted: figures so far)"
	}
	fmt.Fprintf(out, "\nLOAD %s  model %s  users %d  shards %s  window %.1fs%s\n", r.Workload, r.Model, r.Users,
		strings.Join(r.Shards, ","), r.Seconds, state)
	s := r.Setup
	fmt.Fprintf(out, "setup: %d of %d users logged in in %.2fs (%.1f logins/s), login p50 %.1fms p95 %.1fms max %.1fms\n",
		s.Users-s.Failed, s.Users, s.Seconds, s.LoginsPerS, s.Login.P50MS, s.Login.P95MS, s.Login.MaxMS)
	if s.FirstFailed != "" {
		fmt.Fprintf(out, "setup: %d login(s) failed; first: %s\n", s.Failed, s.FirstFailed)
	}
	fmt.Fprintf(out, "run: %d calls (%.1f/s), %.1f workflows/s, %d errors (%.2f%%)", r.Run.Count, r.RPS, r.WorkflowsPS,
		r.Run.Errors, r.Run.ErrorRate*100)
	if r.CPUPer1000 > 0 {
		fmt.Fprintf(out, "; this process's CPU %.0f ms per 1,000 calls", r.CPUPer1000)
	}
	fmt.Fprintln(out)
	for _, name := range slices.Sorted(maps.Keys(r.IdPs)) {
		c := r.IdPs[name]
		fmt.Fprintf(out, "idp %s: %d authorizations, %d token requests (%d code, %d refresh), %d introspections\n", name,
			c.Authorize, c.Token, c.AuthorizationCode, c.Refresh, c.Introspect)
	}
	fmt.Fprintln(out)
	table(out, "WORKFLOW", r.Workflows, sortedKeys(r.Workflows))
	table(out, "STEP", r.Steps, sortedKeys(r.Steps))
	users := slowestUsers(r)
	if len(users) < len(r.UsersFig) {
		fmt.Fprintf(out, "(the %d slowest of %d users by p95)\n", len(users), len(r.UsersFig))
	}
	table(out, "USER", r.UsersFig, users)
	if len(r.Run.ByKind) > 0 {
		var kinds []string
		for _, k := range slices.Sorted(maps.Keys(r.Run.ByKind)) {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, r.Run.ByKind[k]))
		}
		fmt.Fprintf(out, "errors by kind: %s\n\n", strings.Join(kinds, ", "))
	}
	for _, v := range r.Thresholds {
		mark := "ok    "
		if !v.OK {
			mark = "BROKEN"
		}
		fmt.Fprintf(out, "threshold %s %s %s (measured %.4g)\n", mark, v.Key, v.Rule, v.Value)
	}
}

// slowestUsers are the names of the maxUserRows users with the highest p95, slowest first.
func slowestUsers(r *Report) []string {
	users := sortedKeys(r.UsersFig)
	slices.SortStableFunc(users, func(a, b string) int {
		if r.UsersFig[a].P95MS == r.UsersFig[b].P95MS {
			return 0
		}
		if r.UsersFig[a].P95MS > r.UsersFig[b].P95MS {
			return -1
		}
		return 1
	})
	return users[:min(len(users), maxUserRows)]
}

func table(out io.Writer, title string, m map[string]*Entry, keys []string) {
	if len(keys) == 0 {
		return
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\tCOUNT\tERRORS\tERR%%\tMIN\tP50\tP90\tP95\tP99\tMAX\t\n", title)
	for _, k := range keys {
		e := m[k]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t\n", k, e.Count, e.Errors, e.ErrorRate*100,
			e.MinMS, e.P50MS, e.P90MS, e.P95MS, e.P99MS, e.MaxMS)
	}
	tw.Flush()
	fmt.Fprintln(out, "(latencies in ms)")
	fmt.Fprintln(out)
}

// Change is one figure compared with a previous run.
type Change struct {
	Figure      string
	Before, Now float64
	// Pct is the change in percent; Worse says whether it goes the bad way (latency or
	// errors up, throughput down).
	Pct   float64
	Worse bool
}

// Compare lists the change of every figure both runs have: the run's rps and error rate,
// and p50, p95, p99 and error rate of every step and workflow.
func Compare(prev, now *Report) []Change {
	var out []Change
	add := func(name string, before, after float64, higherIsWorse bool) {
		c := Change{Figure: name, Before: before, Now: after}
		if before != 0 {
			c.Pct = (after - before) / before * 100
		}
		c.Worse = (after > before) == higherIsWorse && after != before
		out = append(out, c)
	}
	add("rps", prev.RPS, now.RPS, false)
	add("error_rate", prev.Run.ErrorRate, now.Run.ErrorRate, true)
	for _, part := range []struct {
		scope      string
		prev, this map[string]*Entry
	}{{"workflow", prev.Workflows, now.Workflows}, {"step", prev.Steps, now.Steps}} {
		for _, k := range sortedKeys(part.this) {
			b, a := part.prev[k], part.this[k]
			if b == nil {
				continue
			}
			name := part.scope + ":" + k
			add(name+" p50", b.P50MS, a.P50MS, true)
			add(name+" p95", b.P95MS, a.P95MS, true)
			add(name+" p99", b.P99MS, a.P99MS, true)
			add(name+" error_rate", b.ErrorRate, a.ErrorRate, true)
		}
	}
	return out
}

// Regressions are the changes that went the bad way by more than pct percent (an error
// rate that rises from 0 counts as any percentage).
func Regressions(cs []Change, pct float64) []Change {
	var out []Change
	for _, c := range cs {
		if c.Worse && (c.Before == 0 || abs(c.Pct) > pct) {
			out = append(out, c)
		}
	}
	return out
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// PrintComparison prints the changes as a table.
func PrintComparison(out io.Writer, prevPath string, cs []Change) {
	fmt.Fprintf(out, "compared with %s:\n", prevPath)
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "FIGURE\tBEFORE\tNOW\tCHANGE\t\t")
	for _, c := range cs {
		mark := ""
		if c.Worse {
			mark = "worse"
		}
		pct := "n/a"
		if c.Before != 0 {
			pct = fmt.Sprintf("%+.1f%%", c.Pct)
		}
		fmt.Fprintf(tw, "%s\t%.4g\t%.4g\t%s\t%s\t\n", c.Figure, c.Before, c.Now, pct, mark)
	}
	tw.Flush()
}
