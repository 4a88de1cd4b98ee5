package mcpserver_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
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

// BenchmarkRelayedSession measures what a stdio mock launch costs the runner when the SUT
// starts the relay instead of the mock: one connection, initialize and tools/list answered,
// the session ended by the relay's half-close, as the relay does on the SUT's stdin EOF.
func BenchmarkRelayedSession(b *testing.B) {
	r := startRelayed(b, parseYAMLConfig(b, "type: stdio\n"+testTools))
	const requests = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",` +
		`"capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}` + "\n" +
		`{"jsonrpc":"2.0","method":"notifications/initialized"}` + "\n" +
		`{"jsonrpc":"2.0","id":2,"method":"tools/list"}` + "\n"
	for b.Loop() {
		conn, err := net.Dial("tcp", r.Addr())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.WriteString(conn, requests); err != nil {
			b.Fatal(err)
		}
		// mcp-go serves a stdio session's requests concurrently: the answers come in any order.
		lines, answers := bufio.NewReader(conn), ""
		for range 2 {
			line, err := lines.ReadString('\n')
			if err != nil {
				b.Fatal(err)
			}
			answers += line
		}
		if !strings.Contains(answers, `"id":1,"result"`) || !strings.Contains(answers, `"id":2,"result"`) {
			b.Fatalf("answers: %q", answers)
		}
		conn.(*net.TCPConn).CloseWrite()
		if rest, err := io.ReadAll(conn); err != nil || len(rest) != 0 {
			b.Fatalf("after the half-close: %q, %v", rest, err)
		}
		conn.Close()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "sessions/s")
}
