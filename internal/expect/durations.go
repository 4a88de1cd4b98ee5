package expect

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/muster-test/muster-test/scenario"
)

// atMost is the expected side of a latency expectation, shown as "at most 1s".
type atMost time.Duration

func (a atMost) String() string { return "at most " + time.Duration(a).String() }

// MarshalJSON keeps the JSON report readable: "at most 1s", not nanoseconds.
func (a atMost) MarshalJSON() ([]byte, error) { return json.Marshal(a.String()) }

// Durations checks the latency expectations of exp against the time each copy of a step's
// call took (one duration without `parallel`): max_duration against every copy, then
// p95_duration against their 95th percentile (nearest rank).
func Durations(exp *scenario.Expectation, took []time.Duration) []Unmet {
	if exp == nil || len(took) == 0 {
		return nil
	}
	var out []Unmet
	if limit := exp.MaxDuration.D(); limit > 0 {
		for i, d := range took {
			if d > limit {
				name := "max_duration"
				if len(took) > 1 {
					name = fmt.Sprintf("copy %d of %d: max_duration", i+1, len(took))
				}
				out = append(out, Unmet{Expectation: name, Key: "max_duration", Expected: atMost(limit), Got: round(d).String(), Latency: true})
				break
			}
		}
	}
	if limit := exp.P95Duration.D(); limit > 0 {
		if p := P95(took); p > limit {
			out = append(out, Unmet{Expectation: "p95_duration", Key: "p95_duration", Expected: atMost(limit),
				Got: fmt.Sprintf("%s (95th percentile of %d copies; slowest %s)", round(p), len(took), round(slices.Max(took))), Latency: true})
		}
	}
	return out
}

// P95 is the 95th percentile of ds by nearest rank: the smallest value that at least 95 %
// of them do not exceed.
func P95(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := (95*len(s) + 99) / 100 // ceil(0.95 n)
	return s[max(rank, 1)-1]
}

// round keeps a duration readable in a message: milliseconds with one decimal.
func round(d time.Duration) time.Duration { return d.Round(100 * time.Microsecond) }
