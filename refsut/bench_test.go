package refsut

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/muster-test/muster-test/mocks/idp"
)

// BenchmarkProxiedCalls measures tool calls per second through the aggregator, 16 sessions
// calling at once, to a public upstream and to an OAuth-protected one.
func BenchmarkProxiedCalls(b *testing.B) {
	const sessions = 16
	e := newEnv(b)
	idpA := e.idp("idp-a", idp.Config{})
	pub := e.mcp(nil, "", textTool("do_pub", "alpha-op"))
	alpha := e.mcp(idpA, "mcp:read", textTool("op", "alpha-op"))
	s := startSUT(b, sutOptions{oauth: true, servers: map[string]map[string]any{"pub": httpSpec(pub.URL()), "alpha": httpSpec(alpha.URL())}})
	clients := make([]*mcpClient, sessions)
	for i := range clients {
		clients[i] = s.connect(b)
		clients[i].login(b, "x_alpha_authenticate", nil, "alpha")
	}
	for _, tool := range []string{"x_pub_do_pub", "x_alpha_op"} {
		b.Run(tool, func(b *testing.B) {
			var next, failed atomic.Int64
			var wg sync.WaitGroup
			start := time.Now()
			b.ResetTimer()
			for _, c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						res, err := c.call(b, tool, nil)
						if err != nil || resultText(res) != "alpha-op" {
							failed.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			if n := failed.Load(); n > 0 {
				b.Fatalf("%d calls failed", n)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "calls/s")
		})
	}
}
