package load

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/bits"
	"slices"
	"time"
)

// Histogram is an HDR-style latency histogram in microseconds: values below 256 µs are
// exact, larger ones fall into log-linear buckets 1/128 of a power of two wide, so a
// recorded value is known within 0.8% however large it is. Two histograms add bucket by
// bucket, which is what makes shards mergeable exactly: the percentiles of a merged
// histogram are those of all the samples recorded into its parts.
type Histogram struct {
	counts   map[int]uint64 // bucket index -> samples
	n        uint64
	min, max int64 // exact, µs
	sum      float64
}

const (
	subBits  = 7
	subCount = 1 << subBits // buckets per power of two above the exact range
)

func bucketOf(v int64) int {
	if v < 2*subCount {
		return int(v)
	}
	e := bits.Len64(uint64(v)) - (subBits + 1)
	return 2*subCount + (e-1)*subCount + int(v>>e) - subCount
}

// lowOf is the least value of bucket i.
func lowOf(i int) int64 {
	if i < 2*subCount {
		return int64(i)
	}
	j := i - 2*subCount
	e := j/subCount + 1
	return int64(j%subCount+subCount) << e
}

// Record adds one latency.
func (h *Histogram) Record(d time.Duration) {
	v := max(d.Microseconds(), 0)
	if h.counts == nil {
		h.counts = map[int]uint64{}
	}
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if h.n == 0 || v > h.max {
		h.max = v
	}
	h.counts[bucketOf(v)]++
	h.n++
	h.sum += float64(v)
}

// Merge adds o's samples to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	if h.counts == nil {
		h.counts = map[int]uint64{}
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if h.n == 0 || o.max > h.max {
		h.max = o.max
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
}

// Count is the number of samples.
func (h *Histogram) Count() uint64 { return h.n }

// Quantile is the latency in milliseconds below which a share q of the samples lie: the
// middle of the bucket that holds the sample of rank ceil(q*n), within the exact min and
// max. 0 without samples.
func (h *Histogram) Quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	idx := slices.Sorted(maps.Keys(h.counts))
	var seen uint64
	for _, i := range idx {
		seen += h.counts[i]
		if seen >= rank {
			mid := (lowOf(i) + lowOf(i+1) - 1) / 2
			return float64(min(max(mid, h.min), h.max)) / 1000
		}
	}
	return float64(h.max) / 1000
}

// Bucket is a range of latencies, in milliseconds, and how many samples fell in it.
type Bucket struct {
	LowMS, HighMS float64 // HighMS excluded
	Count         uint64
}

// Buckets lists the non-empty buckets, fastest first.
func (h *Histogram) Buckets() []Bucket {
	var out []Bucket
	for _, i := range slices.Sorted(maps.Keys(h.counts)) {
		out = append(out, Bucket{LowMS: float64(lowOf(i)) / 1000, HighMS: float64(lowOf(i+1)) / 1000, Count: h.counts[i]})
	}
	return out
}

// Min and Max are exact, in milliseconds; Mean too.
func (h *Histogram) Min() float64 { return float64(h.min) / 1000 }
func (h *Histogram) Max() float64 { return float64(h.max) / 1000 }
func (h *Histogram) Mean() float64 {
	if h.n == 0 {
		return 0
	}
	return h.sum / float64(h.n) / 1000
}

// histJSON is the lossless form in the --out file: every non-empty bucket as [index,
// count], the exact min, max and sum in microseconds.
type histJSON struct {
	Unit    string      `json:"unit"`
	SubBits int         `json:"sub_bucket_bits"`
	Count   uint64      `json:"count"`
	MinUS   int64       `json:"min_us"`
	MaxUS   int64       `json:"max_us"`
	SumUS   float64     `json:"sum_us"`
	Buckets [][2]uint64 `json:"buckets"`
}

func (h *Histogram) MarshalJSON() ([]byte, error) {
	j := histJSON{Unit: "us", SubBits: subBits, Count: h.n, MinUS: h.min, MaxUS: h.max, SumUS: h.sum, Buckets: [][2]uint64{}}
	for _, i := range slices.Sorted(maps.Keys(h.counts)) {
		j.Buckets = append(j.Buckets, [2]uint64{uint64(i), h.counts[i]})
	}
	return json.Marshal(j)
}

func (h *Histogram) UnmarshalJSON(b []byte) error {
	var j histJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if j.SubBits != subBits || j.Unit != "us" {
		return fmt.Errorf("histogram of another layout (unit %q, sub_bucket_bits %d; want us, %d)", j.Unit, j.SubBits, subBits)
	}
	*h = Histogram{counts: map[int]uint64{}, min: j.MinUS, max: j.MaxUS, sum: j.SumUS}
	for _, b := range j.Buckets {
		h.counts[int(b[0])] += b[1]
		h.n += b[1]
	}
	if h.n != j.Count {
		return fmt.Errorf("histogram count %d does not match its buckets (%d)", j.Count, h.n)
	}
	return nil
}
