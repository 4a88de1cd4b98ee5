package scenario

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Threshold is one entry of a workload's `thresholds`: a figure of the run, of a step or of
// a workflow, compared with a bound ("step:create-note p95": "< 200ms").
type Threshold struct {
	Key    string // as written, to name the threshold that broke
	Scope  string // "run", "step" or "workflow"
	Name   string // the step id or workflow name; empty for the run
	Metric string // one of ThresholdMetrics
	Op     string // <, <=, > or >=
	// Bound is in the metric's unit: milliseconds for latencies, a fraction for error_rate
	// (1% is 0.01), a plain number for count, errors and rps.
	Bound float64
	Pos   Pos
}

// ThresholdMetrics are the figures a threshold may bound.
var ThresholdMetrics = []string{"min", "p50", "p90", "p95", "p99", "max", "count", "errors", "error_rate", "rps"}

// IsLatency reports whether the metric is a latency (its bound a duration).
func IsLatency(metric string) bool {
	return slices.Contains([]string{"min", "p50", "p90", "p95", "p99", "max"}, metric)
}

// Holds reports whether a measured value satisfies the threshold.
func (t Threshold) Holds(v float64) bool {
	switch t.Op {
	case "<":
		return v < t.Bound
	case "<=":
		return v <= t.Bound
	case ">":
		return v > t.Bound
	default:
		return v >= t.Bound
	}
}

// ParseThreshold reads a threshold's key and value; the error says what is wrong with
// either, without a position.
func ParseThreshold(key, value string) (Threshold, error) {
	t := Threshold{Key: key, Scope: "run"}
	fields := strings.Fields(key)
	switch len(fields) {
	case 1:
		t.Metric = fields[0]
	case 2:
		scope, name, ok := strings.Cut(fields[0], ":")
		if !ok || (scope != "step" && scope != "workflow") || name == "" {
			return t, fmt.Errorf("threshold %q: write \"step:ID METRIC\", \"workflow:NAME METRIC\" or a run figure such as \"rps\"", key)
		}
		t.Scope, t.Name, t.Metric = scope, name, fields[1]
	default:
		return t, fmt.Errorf("threshold %q: write \"step:ID METRIC\", \"workflow:NAME METRIC\" or a run figure such as \"rps\"", key)
	}
	if !slices.Contains(ThresholdMetrics, t.Metric) {
		return t, fmt.Errorf("threshold %q: unknown figure %q (figures: %s)%s", key, t.Metric,
			strings.Join(ThresholdMetrics, ", "), didYouMean(t.Metric, ThresholdMetrics))
	}
	v := strings.TrimSpace(value)
	for _, op := range []string{"<=", ">=", "<", ">"} {
		if strings.HasPrefix(v, op) {
			t.Op, v = op, strings.TrimSpace(v[len(op):])
			break
		}
	}
	if t.Op == "" {
		return t, fmt.Errorf("threshold %q: value %q: start with <, <=, > or >= (e.g. \"< 200ms\")", key, value)
	}
	bound, err := parseBound(t.Metric, v)
	if err != nil {
		return t, fmt.Errorf("threshold %q: value %q: %v", key, value, err)
	}
	t.Bound = bound
	return t, nil
}

func parseBound(metric, v string) (float64, error) {
	switch {
	case IsLatency(metric):
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("%s is a latency: give a duration such as 200ms", metric)
		}
		return float64(d) / float64(time.Millisecond), nil
	case metric == "error_rate":
		pct, isPct := strings.CutSuffix(v, "%")
		f, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
		if err != nil || f < 0 {
			return 0, fmt.Errorf("error_rate is a share: give a percentage such as 1%% or a fraction such as 0.01")
		}
		if isPct {
			f /= 100
		}
		return f, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("%s is a number: give one such as 100", metric)
	}
	return f, nil
}
