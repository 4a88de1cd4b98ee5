package load

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsCoverEveryValueOnce(t *testing.T) {
	prev := -1
	for v := int64(0); v < 1<<20; v++ {
		i := bucketOf(v)
		if i != prev && i != prev+1 {
			t.Fatalf("value %d: bucket %d after %d (gap)", v, i, prev)
		}
		if lowOf(i) > v || lowOf(i+1) <= v {
			t.Fatalf("value %d outside its bucket %d [%d, %d)", v, i, lowOf(i), lowOf(i+1))
		}
		prev = i
	}
	for _, v := range []int64{1 << 30, 1<<40 + 12345, math.MaxInt64 / 2} {
		i := bucketOf(v)
		if lowOf(i) > v || lowOf(i+1) <= v {
			t.Errorf("value %d outside its bucket %d", v, i)
		}
		if w := lowOf(i+1) - lowOf(i); float64(w) > float64(v)/128 {
			t.Errorf("bucket of %d is %d wide: more than 1/128 of the value", v, w)
		}
	}
}

// exact is the sample of rank ceil(q*n) of the sorted samples, in ms.
func exact(us []int64, q float64) float64 {
	s := slices.Sorted(slices.Values(us))
	r := max(int(math.Ceil(q*float64(len(s)))), 1)
	return float64(s[r-1]) / 1000
}

func TestQuantilesWithinBucketPrecision(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	var us []int64
	for range 20000 {
		v := int64(rng.ExpFloat64() * 20000) // µs, a long tail like latencies
		us = append(us, v)
		h.Record(time.Duration(v) * time.Microsecond)
	}
	for _, q := range []float64{.5, .9, .95, .99} {
		got, want := h.Quantile(q), exact(us, q)
		if math.Abs(got-want) > want/128+0.001 {
			t.Errorf("q%.2f = %.3fms, samples say %.3fms", q, got, want)
		}
	}
	if h.Min() != exact(us, 0) || h.Max() != exact(us, 1) || h.Count() != 20000 {
		t.Errorf("min %.3f max %.3f count %d", h.Min(), h.Max(), h.Count())
	}
}

func TestMergeEqualsAllSamplesAndSurvivesJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var all Histogram
	parts := make([]Histogram, 3)
	for i := range 9000 {
		d := time.Duration(rng.IntN(5_000_000)) * time.Microsecond / time.Duration(1+i%3*7)
		all.Record(d)
		parts[i%3].Record(d)
	}
	var merged Histogram
	for i := range parts {
		b, err := json.Marshal(&parts[i])
		if err != nil {
			t.Fatal(err)
		}
		var back Histogram
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		merged.Merge(&back)
	}
	if merged.Count() != all.Count() || merged.Min() != all.Min() || merged.Max() != all.Max() || merged.Mean() != all.Mean() {
		t.Fatalf("merged count/min/max/mean %d/%v/%v/%v, all %d/%v/%v/%v", merged.Count(), merged.Min(), merged.Max(), merged.Mean(),
			all.Count(), all.Min(), all.Max(), all.Mean())
	}
	for _, q := range []float64{.5, .9, .95, .99, .999} {
		if merged.Quantile(q) != all.Quantile(q) {
			t.Errorf("q%v: merged %v, all samples %v", q, merged.Quantile(q), all.Quantile(q))
		}
	}
}

func TestHistogramJSONRejectsACountThatDoesNotAddUp(t *testing.T) {
	var h Histogram
	bad := `{"unit":"us","sub_bucket_bits":7,"count":5,"min_us":1,"max_us":1,"sum_us":1,"buckets":[[1,1]]}`
	if err := json.Unmarshal([]byte(bad), &h); err == nil {
		t.Error("accepted a histogram whose count is not its buckets' sum")
	}
}
