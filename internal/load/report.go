package load

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/muster-test/muster-test/internal/schedule"
	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/scenario"
)

// Schema names the layout of the --out file (docs/load.md describes it).
const Schema = "muster-test-load/1"

// Error kinds of a step that did not pass.
const (
	KindToolError   = "tool_error"  // the tool answered with an error (isError or JSON-RPC error)
	KindExpectation = "expectation" // an answer that does not meet the step's other expectations
	KindTimeout     = "timeout"     // no answer within the step's timeout
	KindHTTPStatus  = "http_status" // the server answered the request with an HTTP error status
	KindTransport   = "transport"   // the call could not be made (connection, session, protocol)
)

// Entry is the figures of one step, workflow, user or of the whole run. The fields with
// a _ms suffix are derived from Hist by finish.
type Entry struct {
	Count     uint64            `json:"count"`
	Errors    uint64            `json:"errors"`
	ErrorRate float64           `json:"error_rate"`
	ByKind    map[string]uint64 `json:"errors_by_kind,omitempty"`
	MinMS     float64           `json:"min_ms"`
	P50MS     float64           `json:"p50_ms"`
	P90MS     float64           `json:"p90_ms"`
	P95MS     float64           `json:"p95_ms"`
	P99MS     float64           `json:"p99_ms"`
	MaxMS     float64           `json:"max_ms"`
	MeanMS    float64           `json:"mean_ms"`
	Hist      Histogram         `json:"histogram"`
}

func (e *Entry) add(d time.Duration, kind string) {
	e.Count++
	e.Hist.Record(d)
	if kind != "" {
		e.Errors++
		if e.ByKind == nil {
			e.ByKind = map[string]uint64{}
		}
		e.ByKind[kind]++
	}
}

func (e *Entry) merge(o *Entry) {
	e.Count += o.Count
	e.Errors += o.Errors
	for k, v := range o.ByKind {
		if e.ByKind == nil {
			e.ByKind = map[string]uint64{}
		}
		e.ByKind[k] += v
	}
	e.Hist.Merge(&o.Hist)
}

func (e *Entry) finish() {
	h := &e.Hist
	e.MinMS, e.MaxMS, e.MeanMS = h.Min(), h.Max(), h.Mean()
	e.P50MS, e.P90MS, e.P95MS, e.P99MS = h.Quantile(.50), h.Quantile(.90), h.Quantile(.95), h.Quantile(.99)
	e.ErrorRate = 0
	if e.Count > 0 {
		e.ErrorRate = float64(e.Errors) / float64(e.Count)
	}
}

// Second is one 1-second bucket of the measured window.
type Second struct {
	Calls     uint64 `json:"calls"`
	Errors    uint64 `json:"errors"`
	Workflows uint64 `json:"workflows"`
	// P95MS is the p95 latency of the calls that ended in the second (0 without any); in
	// merged figures, the largest of the shards' (which bounds the p95 of all their
	// calls in that second from above).
	P95MS float64 `json:"p95_ms"`

	hist Histogram // the second's calls, while the run lasts
}

// Setup is how long creating and logging in the users took.
type Setup struct {
	Users       int     `json:"users"`
	Failed      int     `json:"failed"`
	Seconds     float64 `json:"seconds"`
	LoginsPerS  float64 `json:"logins_per_s"`
	Login       Entry   `json:"login"`
	FirstFailed string  `json:"first_failure,omitempty"`
}

// Report is the figures of a run (or of merged shards), as --out writes them.
type Report struct {
	Schema   string    `json:"schema"`
	Workload string    `json:"workload"`
	Model    string    `json:"model"` // closed or open
	Rate     float64   `json:"rate,omitempty"`
	Users    int       `json:"user_count"`
	Shards   []string  `json:"shards"` // "K/N" of every shard in the figures
	Seed     int64     `json:"seed"`
	Started  time.Time `json:"started_at"`
	// Seconds is the measured window (after the warm-up); RPS is calls per second in it.
	Seconds     float64 `json:"seconds"`
	RPS         float64 `json:"rps"`
	WorkflowsPS float64 `json:"workflows_per_s"`
	Interrupted bool    `json:"interrupted,omitempty"`
	// CPUPer1000 is this process's CPU in milliseconds per 1,000 calls while the load ran
	// (warm-up included): the generator's own cost, with the in-process mocks' (HTTP mock
	// servers, mock IdPs) added. 0 in merged figures.
	CPUPer1000 float64           `json:"cpu_ms_per_1000_calls"`
	Run        Entry             `json:"run"` // every step call
	Steps      map[string]*Entry `json:"steps"`
	Workflows  map[string]*Entry `json:"workflows"`
	UsersFig   map[string]*Entry `json:"users"`
	Throughput []Second          `json:"throughput"`
	Setup      Setup             `json:"setup"`
	Thresholds []Verdict         `json:"thresholds,omitempty"`
	// IdPs are the mock IdPs' request counters at the end (set-up included): how many
	// logins, token requests and refreshes the load caused.
	IdPs map[string]idp.Counters `json:"idp_counters,omitempty"`
}

// Verdict is one threshold checked against the figures.
type Verdict struct {
	Key   string  `json:"key"`
	Rule  string  `json:"rule"`
	Value float64 `json:"value"`
	OK    bool    `json:"ok"`
}

func newReport() *Report {
	return &Report{Schema: Schema, Steps: map[string]*Entry{}, Workflows: map[string]*Entry{}, UsersFig: map[string]*Entry{}}
}

// finish derives every figure from the counts and histograms.
func (r *Report) finish() {
	r.Run.finish()
	for _, m := range []map[string]*Entry{r.Steps, r.Workflows, r.UsersFig} {
		for _, e := range m {
			e.finish()
		}
	}
	r.Setup.Login.finish()
	for i := range r.Throughput {
		if sec := &r.Throughput[i]; sec.hist.Count() > 0 {
			sec.P95MS = sec.hist.Quantile(.95)
		}
	}
	if r.Setup.Seconds > 0 {
		r.Setup.LoginsPerS = float64(r.Setup.Login.Count) / r.Setup.Seconds
	}
	r.RPS, r.WorkflowsPS = 0, 0
	if r.Seconds > 0 {
		var wf uint64
		for _, e := range r.Workflows {
			wf += e.Count
		}
		r.RPS = float64(r.Run.Count) / r.Seconds
		r.WorkflowsPS = float64(wf) / r.Seconds
	}
}

// Merge adds the shards' figures up: counts are summed and histograms added bucket by
// bucket, so every percentile is that of all the shards' samples together. The window is
// the longest shard's; the throughput buckets add second by second from each shard's start.
func Merge(parts ...*Report) (*Report, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("nothing to merge")
	}
	if err := checkShards(parts); err != nil {
		return nil, err
	}
	out := newReport()
	out.Workload, out.Model, out.Seed = parts[0].Workload, parts[0].Model, parts[0].Seed
	for i, p := range parts {
		if p.Schema != Schema {
			return nil, fmt.Errorf("part %d: schema %q, want %q", i+1, p.Schema, Schema)
		}
		if p.Workload != out.Workload {
			return nil, fmt.Errorf("part %d is of workload %q, not %q", i+1, p.Workload, out.Workload)
		}
		out.Users += p.Users
		out.Rate += p.Rate
		out.Shards = append(out.Shards, p.Shards...)
		if out.Started.IsZero() || p.Started.Before(out.Started) {
			out.Started = p.Started
		}
		out.Seconds = max(out.Seconds, p.Seconds)
		out.Interrupted = out.Interrupted || p.Interrupted
		out.Run.merge(&p.Run)
		for _, pair := range [][2]map[string]*Entry{{out.Steps, p.Steps}, {out.Workflows, p.Workflows}, {out.UsersFig, p.UsersFig}} {
			for k, e := range pair[1] {
				if pair[0][k] == nil {
					pair[0][k] = &Entry{}
				}
				pair[0][k].merge(e)
			}
		}
		for s, sec := range p.Throughput {
			if s >= len(out.Throughput) {
				out.Throughput = append(out.Throughput, make([]Second, s+1-len(out.Throughput))...)
			}
			out.Throughput[s].Calls += sec.Calls
			out.Throughput[s].Errors += sec.Errors
			out.Throughput[s].Workflows += sec.Workflows
			out.Throughput[s].P95MS = max(out.Throughput[s].P95MS, sec.P95MS)
		}
		out.Setup.Users += p.Setup.Users
		out.Setup.Failed += p.Setup.Failed
		out.Setup.Seconds = max(out.Setup.Seconds, p.Setup.Seconds)
		out.Setup.Login.merge(&p.Setup.Login)
		for name, c := range p.IdPs {
			if out.IdPs == nil {
				out.IdPs = map[string]idp.Counters{}
			}
			out.IdPs[name] = addCounters(out.IdPs[name], c)
		}
		if out.Setup.FirstFailed == "" {
			out.Setup.FirstFailed = p.Setup.FirstFailed
		}
	}
	slices.Sort(out.Shards)
	out.finish()
	return out, nil
}

// checkShards makes sure the parts hold the N shards of one run, each once. A shard's file
// that a CI job failed to upload, or one picked up twice by a glob, would otherwise give
// the figures of a load that never ran, and its thresholds would judge them.
func checkShards(parts []*Report) error {
	in := map[int]int{} // shard K -> the part holding it
	n := 0
	for i, p := range parts {
		if len(p.Shards) == 0 {
			return fmt.Errorf("part %d names no shard (not a `load --out` file?)", i+1)
		}
		for _, s := range p.Shards {
			sh, err := schedule.ParseShard(s)
			if err != nil {
				return fmt.Errorf("part %d: %w", i+1, err)
			}
			if n == 0 {
				n = sh.N
			}
			if sh.N != n {
				return fmt.Errorf("part %d is shard %s of %d shards, an earlier part is of %d", i+1, s, sh.N, n)
			}
			if j, twice := in[sh.K]; twice {
				return fmt.Errorf("shard %s is in part %d and in part %d: give each shard's file once", s, j+1, i+1)
			}
			in[sh.K] = i
		}
	}
	var missing []string
	for k := 1; k <= n; k++ {
		if _, ok := in[k]; !ok {
			missing = append(missing, fmt.Sprintf("%d/%d", k, n))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("shard %s missing: the total of %d shards needs every shard's file", strings.Join(missing, ", "), n)
	}
	return nil
}

// ReadReport reads an --out file.
func ReadReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r := newReport()
	if err := json.Unmarshal(b, r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if r.Schema != Schema {
		return nil, fmt.Errorf("%s: schema %q, want %q", path, r.Schema, Schema)
	}
	r.finish()
	return r, nil
}

// WriteReport writes r as indented JSON.
func WriteReport(path string, r *Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Check evaluates the thresholds against the figures; a step or workflow that never ran
// has no figures, which breaks any threshold on it.
func (r *Report) Check(ts []scenario.Threshold) (broken []Verdict) {
	r.Thresholds = nil
	for _, t := range ts {
		v, ok := r.figure(t)
		vd := Verdict{Key: t.Key, Rule: fmt.Sprintf("%s %s", t.Op, formatBound(t)), Value: v, OK: ok && t.Holds(v)}
		r.Thresholds = append(r.Thresholds, vd)
		if !vd.OK {
			broken = append(broken, vd)
		}
	}
	return broken
}

func (r *Report) figure(t scenario.Threshold) (float64, bool) {
	e := &r.Run
	switch t.Scope {
	case "step":
		e = r.Steps[t.Name]
	case "workflow":
		e = r.Workflows[t.Name]
	}
	if e == nil {
		return 0, false
	}
	switch t.Metric {
	case "rps":
		if r.Seconds <= 0 {
			return 0, true
		}
		return float64(e.Count) / r.Seconds, true
	case "count":
		return float64(e.Count), true
	case "errors":
		return float64(e.Errors), true
	case "error_rate":
		return e.ErrorRate, true
	}
	return metricOf(e, t.Metric), e.Count > 0
}

func metricOf(e *Entry, metric string) float64 {
	return map[string]float64{"min": e.MinMS, "p50": e.P50MS, "p90": e.P90MS, "p95": e.P95MS, "p99": e.P99MS, "max": e.MaxMS}[metric]
}

func formatBound(t scenario.Threshold) string {
	switch {
	case scenario.IsLatency(t.Metric):
		return fmt.Sprintf("%gms", t.Bound)
	case t.Metric == "error_rate":
		return fmt.Sprintf("%g%%", t.Bound*100)
	}
	return fmt.Sprintf("%g", t.Bound)
}

// sortedKeys lists a figure map's names in order.
func sortedKeys(m map[string]*Entry) []string { return slices.Sorted(maps.Keys(m)) }

// addCounters sums two shards' counters of one IdP (TokensActive too: each shard has its
// own IdP).
func addCounters(a, b idp.Counters) idp.Counters {
	return idp.Counters{Authorize: a.Authorize + b.Authorize, Token: a.Token + b.Token,
		AuthorizationCode: a.AuthorizationCode + b.AuthorizationCode, Refresh: a.Refresh + b.Refresh,
		ClientCredentials: a.ClientCredentials + b.ClientCredentials, Exchange: a.Exchange + b.Exchange,
		Introspect: a.Introspect + b.Introspect, UserInfo: a.UserInfo + b.UserInfo, Register: a.Register + b.Register,
		Revoke: a.Revoke + b.Revoke, TokensIssued: a.TokensIssued + b.TokensIssued, TokensActive: a.TokensActive + b.TokensActive}
}
