package load

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/testtools"
	"github.com/muster-test/muster-test/workloads"
)

// The generator's ceiling (make bench; figures in BENCHMARKS.md). Each benchmark is one
// load run of a few seconds, reported with b.ReportMetric; b.N is not used, a run's own
// duration is the measurement.

func builtin(b *testing.B, name string) []byte {
	data, err := fs.ReadFile(workloads.FS, name+".yaml")
	if err != nil {
		b.Fatal(err)
	}
	return data
}

func benchRun(b *testing.B, src string, users int, tune func(*Options)) *Report {
	w, diags := testtools.Loader().ParseWorkload("bench.yaml", []byte(src))
	if w == nil {
		b.Fatalf("workload: %v", diags)
	}
	o := options(w)
	o.Users, o.Duration, o.Warmup = users, 5*time.Second, time.Second
	if tune != nil {
		tune(o)
	}
	var r *Report
	for b.Loop() {
		var err error
		if r, _, err = Run(context.Background(), o); err != nil {
			b.Fatal(err)
		}
	}
	if r.Run.Errors > 0 {
		b.Errorf("%d errors: %v", r.Run.Errors, r.Run.ByKind)
	}
	b.ReportMetric(r.RPS, "calls/s")
	b.ReportMetric(r.WorkflowsPS, "workflows/s")
	b.ReportMetric(r.CPUPer1000, "cpu-ms/1000calls")
	b.ReportMetric(r.Run.P50MS, "p50-ms")
	b.ReportMetric(r.Run.P95MS, "p95-ms")
	b.ReportMetric(r.Setup.LoginsPerS, "logins/s")
	b.ReportMetric(r.Setup.Login.P95MS, "login-p95-ms")
	b.ReportMetric(r.Setup.Seconds, "setup-s")
	return r
}

// BenchmarkDirectRefserver: the built-in direct-mode workload, 50 users looping against
// the reference protected server (a process of its own); this process is the generator
// and the mock IdP, which is idle once the users are logged in.
func BenchmarkDirectRefserver(b *testing.B) {
	benchRun(b, string(builtin(b, "refserver-direct")), 50, nil)
}

// BenchmarkGatewayMock: 50 users calling one mock tool without delay through the
// reference SUT; the mock is in this process, so its CPU is in the generator's figure.
func BenchmarkGatewayMock(b *testing.B) {
	w := strings.Replace(counterWorkload, "weight: 4", "weight: 100", 1)
	benchRun(b, w[:strings.Index(w, "  - name: broken")], 50, nil)
}

// BenchmarkMockDelay50ms: a mock tool answering after 50 ms, 50 users through the
// reference SUT: the measured p50 should be 50 ms plus the path's own few ms.
func BenchmarkMockDelay50ms(b *testing.B) {
	w := strings.Replace(counterWorkload, "responses: [{response: {ok: true, n: 7}}]",
		"responses: [{response: {ok: true, n: 7}, delay: 50ms}]", 1)
	benchRun(b, w[:strings.Index(w, "  - name: pair")], 50, nil)
}

// BenchmarkLogin200: 200 users created and logged in through the real flow (direct
// mode); the figure that matters is setup-s.
func BenchmarkLogin200(b *testing.B) {
	benchRun(b, string(builtin(b, "refserver-direct")), 200, func(o *Options) { o.Duration, o.Warmup = time.Second, 0 })
}
