package mcpclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// waitLimit bounds every wait for an event in these tests.
const waitLimit = 10 * time.Second

// testServer is an in-process mcp-go streamable HTTP server on 127.0.0.1, recording the
// HTTP requests it gets.
type testServer struct {
	mcp *server.MCPServer
	ts  *httptest.Server
	URL string // the MCP endpoint

	mu   sync.Mutex
	seen []seenRequest
	h    http.Handler
}

// wrap puts f's handler in front of the MCP server, behind the recording.
func (srv *testServer) wrap(f func(http.Handler) http.Handler) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	srv.h = f(srv.h)
}

type seenRequest struct {
	method, session string
	header          http.Header
	body            []byte
}

// newTestServer serves s at /mcp. Tests must not run in parallel: the goroutine check
// in connect looks at the whole process.
func newTestServer(t *testing.T, s *server.MCPServer, opts ...server.StreamableHTTPOption) *testServer {
	t.Helper()
	srv := &testServer{mcp: s, h: server.NewStreamableHTTPServer(s, opts...)}
	mux := http.NewServeMux()
	mux.Handle("/mcp", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		srv.mu.Lock()
		srv.seen = append(srv.seen, seenRequest{r.Method, r.Header.Get("Mcp-Session-Id"), r.Header.Clone(), body})
		h := srv.h
		srv.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	srv.ts = httptest.NewServer(mux)
	srv.URL = srv.ts.URL + "/mcp"
	t.Cleanup(srv.stop)
	return srv
}

// stop closes the server. Open GET streams would make Close wait, so connections are
// cut first.
func (srv *testServer) stop() {
	srv.ts.CloseClientConnections()
	srv.ts.Close()
}

func (srv *testServer) requests() []seenRequest {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	return append([]seenRequest(nil), srv.seen...)
}

// newToolServer is an MCP server with the tools the call tests use.
func newToolServer() *server.MCPServer {
	s := server.NewMCPServer("test", "1", server.WithToolCapabilities(true))
	s.AddTool(mcp.NewTool("echo"), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		res := &mcp.CallToolResult{Content: []mcp.Content{
			mcp.NewTextContent("hello"),
			mcp.NewTextContent(fmt.Sprint(req.GetArguments()["name"])),
		}}
		res.Meta = mcp.NewMetaFromMap(map[string]any{"giantswarm.io/auth_required": []any{map[string]any{"server": "alpha"}}})
		return res, nil
	})
	s.AddTool(mcp.NewTool("refuse"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultError("refused: bad input"), nil
	})
	s.AddTool(mcp.NewTool("boom"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return nil, errors.New("boom happened")
	})
	s.AddTool(mcp.NewTool("whoami"), func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultText(server.ClientSessionFromContext(ctx).SessionID()), nil
	})
	return s
}

// leakChecked records the tests whose cleanup already checks for client goroutines.
var leakChecked sync.Map

// connect opens a session that the test's cleanup closes. Once all of the test's
// sessions are closed, the cleanup checks that they left no client goroutine behind.
func connect(t *testing.T, endpoint string, opts Options) *Session {
	t.Helper()
	if _, done := leakChecked.LoadOrStore(t, true); !done {
		// Registered before the first Close, so it runs after every Close (LIFO).
		t.Cleanup(func() {
			if left := waitClientGoroutinesGone(); left != "" {
				t.Errorf("goroutines of the MCP client still run after Close:\n%s", left)
			}
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	s, err := Connect(ctx, endpoint, opts)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// clientGoroutines returns the stacks of goroutines that belong to an MCP client or to
// an HTTP client connection ("" if none). Servers' goroutines are not matched: their
// frames are net/http.(*conn) and mcp-go/server.
func clientGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "mcp-go/client") || strings.Contains(g, "net/http.(*persistConn)") ||
			strings.Contains(g, "internal/mcpclient.(*sseTap)") {
			found = append(found, g)
		}
	}
	return strings.Join(found, "\n\n")
}

// waitClientGoroutinesGone polls until clientGoroutines is empty, and returns what is
// left at the deadline.
func waitClientGoroutinesGone() string {
	deadline := time.Now().Add(waitLimit)
	for {
		left := clientGoroutines()
		if left == "" || time.Now().After(deadline) {
			return left
		}
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond) // polling interval, not a wait for an event
	}
}

// toolsChanged signals each tools/list_changed the session gets (one pending at most).
func toolsChanged(s *Session) <-chan struct{} {
	fired := make(chan struct{}, 1)
	s.OnToolsChanged(func() {
		select {
		case fired <- struct{}{}:
		default:
		}
	})
	return fired
}

// addToolAndWait adds a tool to the server and waits for the session's callback.
func addToolAndWait(t *testing.T, srv *testServer, name string, fired <-chan struct{}) {
	t.Helper()
	srv.mcp.AddTool(mcp.NewTool(name), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultText(name), nil
	})
	select {
	case <-fired:
	case <-time.After(waitLimit):
		t.Fatalf("no tools/list_changed callback after the server added %s", name)
	}
}

// waitFor polls cond until it holds, failing the test after waitLimit.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond) // polling interval, not a wait for an event
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	t.Cleanup(cancel)
	return ctx
}

// traceLog collects trace lines.
type traceLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *traceLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
}

// find returns the first line with the prefix that contains every part.
func (l *traceLog) find(prefix string, parts ...string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
next:
	for _, line := range l.lines {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		for _, p := range parts {
			if !strings.Contains(line, p) {
				continue next
			}
		}
		return line, true
	}
	return "", false
}

func (l *traceLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
