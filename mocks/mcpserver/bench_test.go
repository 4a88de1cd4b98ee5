package mcpserver_test

import (
	"context"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// BenchmarkProtectedToolCalls measures tool calls per second through a protected
// streamable-HTTP mock (JWT verified, introspected and scope-checked on every request)
// from 16 concurrent session-based clients.
func BenchmarkProtectedToolCalls(b *testing.B) {
	const clients = 16
	a := newAuthority(b)
	s := startServer(b, protectedConfig(b, mcpserver.TypeStreamableHTTP, a, "mcp:read", "mcp-api"))
	jwt, err := a.MintJWT(authtestGrant("alice", "mcp:read"))
	if err != nil {
		b.Fatal(err)
	}
	httpClient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxIdleConns: clients}}
	b.Cleanup(httpClient.CloseIdleConnections)
	pool := make(chan *client.Client, clients)
	for range clients {
		tr, err := transport.NewStreamableHTTP(s.URL(), transport.WithHTTPBasicClient(httpClient),
			transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + jwt}), transport.WithHTTPLogger(quiet))
		if err != nil {
			b.Fatal(err)
		}
		c := client.NewClient(tr, client.WithProtocolVersion(mcp.ProtocolVersion20250618))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := c.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Initialize(ctx, mcp.InitializeRequest{}); err != nil {
			b.Fatal(err)
		}
		cancel()
		b.Cleanup(func() { _ = c.Close() })
		pool <- c
	}
	b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c := <-pool
		defer func() { pool <- c }()
		for pb.Next() {
			text, isErr, err := call(context.Background(), c, "greet", map[string]any{"name": "bench"})
			if err != nil || isErr || text != "hello bench" {
				b.Errorf("call: %q %v %v", text, isErr, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
	if n := len(s.CallsTo("greet")); n < b.N {
		b.Errorf("%d calls logged, %d made", n, b.N)
	}
}
