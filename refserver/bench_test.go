package refserver_test

import (
	"net/http"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/muster-test/muster-test/refserver"
	"github.com/muster-test/muster-test/refserver/mountidp"
)

// BenchmarkToolCalls measures authenticated tools/call per second from 16 concurrent
// sessions: token validation (local JWT, or introspection at the mounted IdP), the tenant
// and scope checks, and one synchronous audit-log append per call.
func BenchmarkToolCalls(b *testing.B) {
	for _, mode := range []struct {
		name       string
		introspect bool
	}{{"jwks", false}, {"introspect", true}} {
		b.Run(mode.name, func(b *testing.B) {
			const clients = 16
			audit := filepath.Join(b.TempDir(), "audit.jsonl")
			s, err := mountidp.Start(refserver.Config{Introspect: mode.introspect, AuditFile: audit})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			e := env{s: s, audit: audit}
			token := e.alice(b)
			httpClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxIdleConns: clients}}
			b.Cleanup(httpClient.CloseIdleConnections)
			sessions := make([]*client.Client, clients)
			for i := range sessions {
				tr, err := transport.NewStreamableHTTP(s.URL(), transport.WithHTTPBasicClient(httpClient),
					transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
				if err != nil {
					b.Fatal(err)
				}
				sessions[i] = client.NewClient(tr, client.WithProtocolVersion(mcp.ProtocolVersion20250618))
				if err := sessions[i].Start(b.Context()); err != nil {
					b.Fatal(err)
				}
				if _, err := sessions[i].Initialize(b.Context(), mcp.InitializeRequest{}); err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { _ = sessions[i].Close() })
			}
			before := len(e.auditRecords(b))
			var worker atomic.Int32
			// One goroutine per session: b.SetParallelism multiplies GOMAXPROCS.
			b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				session := sessions[int(worker.Add(1)-1)%clients]
				for pb.Next() {
					if text, isErr, err := call(session, refserver.ToolEcho, map[string]any{"message": "bench"}); err != nil || isErr || text != "bench" {
						b.Errorf("echo answered %q (error result %v), error %v", text, isErr, err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
			b.StopTimer()
			if n := len(e.auditRecords(b)) - before; n != b.N {
				b.Errorf("%d calls audited, %d made", n, b.N)
			}
		})
	}
}
