package expect

import (
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/scenario"
)

func TestP95NearestRank(t *testing.T) {
	ms := func(vs ...int) []time.Duration {
		out := make([]time.Duration, len(vs))
		for i, v := range vs {
			out[i] = time.Duration(v) * time.Millisecond
		}
		return out
	}
	cases := []struct {
		in   []time.Duration
		want time.Duration
	}{
		{ms(7), 7 * time.Millisecond},
		{ms(5, 1, 3), 5 * time.Millisecond}, // ceil(2.85) = 3rd
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20), 19 * time.Millisecond}, // 19th of 20
		{append(ms(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1), time.Hour), time.Millisecond}, // one outlier in 20 is above p95
	}
	for _, c := range cases {
		if got := P95(c.in); got != c.want {
			t.Errorf("P95(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestDurations(t *testing.T) {
	exp := &scenario.Expectation{MaxDuration: scenario.Duration(100 * time.Millisecond), P95Duration: scenario.Duration(50 * time.Millisecond)}
	if u := Durations(exp, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond}); len(u) != 0 {
		t.Errorf("fast copies: %v", u)
	}
	u := Durations(exp, []time.Duration{10 * time.Millisecond, 150 * time.Millisecond})
	if len(u) != 2 || u[0].Expectation != "copy 2 of 2: max_duration" || !u[0].Latency ||
		u[0].String() != "copy 2 of 2: max_duration: expected at most 100ms, got 150ms" ||
		!strings.HasPrefix(u[1].String(), "p95_duration: expected at most 50ms, got 150ms (95th percentile of 2 copies") {
		t.Errorf("slow copy: %v", u)
	}
	if u := Durations(nil, []time.Duration{time.Hour}); u != nil {
		t.Errorf("no expectation: %v", u)
	}
	if u := Durations(&scenario.Expectation{}, []time.Duration{time.Hour}); u != nil {
		t.Errorf("no latency keys: %v", u)
	}
	if b, err := atMost(time.Second).MarshalJSON(); err != nil || string(b) != `"at most 1s"` {
		t.Errorf("JSON %s %v", b, err)
	}
}
