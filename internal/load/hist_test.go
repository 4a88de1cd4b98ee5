package load

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
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

// Buckets cover every sample, each in the bucket whose range holds it.
func TestHistogramBuckets(t *testing.T) {
	var h Histogram
	values := []time.Duration{50 * time.Microsecond, 300 * time.Microsecond, 301 * time.Microsecond, 12 * time.Millisecond, 2 * time.Second}
	for _, v := range values {
		h.Record(v)
	}
	bs := h.Buckets()
	var n uint64
	for i, b := range bs {
		n += b.Count
		if b.HighMS <= b.LowMS || (i > 0 && b.LowMS < bs[i-1].HighMS) {
			t.Errorf("bucket %d %+v out of order", i, b)
		}
	}
	if n != h.Count() {
		t.Fatalf("buckets hold %d samples of %d", n, h.Count())
	}
	for _, v := range values {
		ms := float64(v.Microseconds()) / 1000
		if !slices.ContainsFunc(bs, func(b Bucket) bool { return b.LowMS <= ms && ms < b.HighMS }) {
			t.Errorf("no bucket holds %v: %+v", v, bs)
		}
	}
}

// A second's p95 survives the --out file; merged shards keep the larger p95 of each second.
func TestSecondP95(t *testing.T) {
	a, b := newReport(), newReport()
	a.Schema, b.Schema = Schema, Schema
	a.Shards, b.Shards = []string{"1/2"}, []string{"2/2"}
	a.Throughput = make([]Second, 2)
	b.Throughput = make([]Second, 1)
	for i := range 100 {
		a.Throughput[0].hist.Record(time.Duration(i+1) * time.Millisecond) // p95 ~95ms
		a.Throughput[1].hist.Record(time.Millisecond)
		b.Throughput[0].hist.Record(200 * time.Millisecond)
	}
	a.finish()
	b.finish()
	if p := a.Throughput[0].P95MS; p < 94 || p > 96 {
		t.Fatalf("p95 of 1..100ms: %.2f", p)
	}
	path := filepath.Join(t.TempDir(), "a.json")
	if err := WriteReport(path, a); err != nil {
		t.Fatal(err)
	}
	back, err := ReadReport(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Throughput[0].P95MS != a.Throughput[0].P95MS || back.Throughput[1].P95MS != a.Throughput[1].P95MS {
		t.Errorf("p95 per second after the file: %+v, want %+v", back.Throughput, a.Throughput)
	}
	m, err := Merge(back, b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Throughput[0].P95MS != b.Throughput[0].P95MS || m.Throughput[1].P95MS != a.Throughput[1].P95MS {
		t.Errorf("merged p95 per second %+v", m.Throughput)
	}
}

// TestMergeTakesEveryShardOnce: a merge of a shard set with a file missing or given twice
// is refused, since its figures would be those of a load that did not run.
func TestMergeTakesEveryShardOnce(t *testing.T) {
	part := func(shards ...string) *Report {
		r := newReport()
		r.Schema, r.Workload, r.Shards = Schema, "w", shards
		r.Run.add(time.Millisecond, "")
		return r
	}
	for _, c := range []struct {
		name  string
		parts []*Report
		err   string // "" when the merge must succeed
	}{
		{"all shards", []*Report{part("2/3"), part("1/3"), part("3/3")}, ""},
		{"a merged part and the rest", []*Report{part("1/3", "3/3"), part("2/3")}, ""},
		{"one run, not sharded", []*Report{part("1/1")}, ""},
		{"the same file twice", []*Report{part("1/1"), part("1/1")}, "shard 1/1 is in part 1 and in part 2"},
		{"a shard missing", []*Report{part("1/4"), part("2/4")}, "shard 3/4, 4/4 missing"},
		{"shards of two splits", []*Report{part("1/2"), part("2/3")}, "part 2 is shard 2/3 of 3 shards"},
		{"no shard named", []*Report{part()}, "part 1 names no shard"},
		{"a shard that does not parse", []*Report{part("one")}, "part 1:"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, err := Merge(c.parts...)
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.err == "" && m.Run.Count != uint64(len(c.parts)):
				t.Fatalf("merged %d calls, want %d", m.Run.Count, len(c.parts))
			case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
				t.Fatalf("error %v, want one containing %q", err, c.err)
			}
		})
	}
}
