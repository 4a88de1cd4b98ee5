package mcpclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/muster-test/muster-test/internal/executor"
	"github.com/muster-test/muster-test/internal/result"
)

var _ executor.Session = (*Session)(nil)

func TestCallToolOutcomes(t *testing.T) {
	srv := newTestServer(t, newToolServer())
	s := connect(t, srv.URL, Options{})

	tests := []struct {
		name string
		tool string
		args map[string]any
		want result.Result
	}{
		{
			name: "success keeps texts in order and _meta",
			tool: "echo", args: map[string]any{"name": "bob"},
			want: result.Result{Texts: []string{"hello", "bob"},
				Meta: map[string]any{"giantswarm.io/auth_required": []any{map[string]any{"server": "alpha"}}}},
		},
		{
			name: "isError result fails with its text",
			tool: "refuse",
			want: result.Result{Failed: true, Texts: []string{"refused: bad input"}},
		},
		{
			name: "unknown tool fails with the server's exact message and -32602",
			tool: "nosuch",
			want: result.Result{Failed: true, Code: mcp.INVALID_PARAMS, Texts: []string{"tool 'nosuch' not found: tool not found"}},
		},
		{
			name: "handler error fails with its message and -32603",
			tool: "boom",
			want: result.Result{Failed: true, Code: mcp.INTERNAL_ERROR, Texts: []string{"boom happened"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.CallTool(ctxT(t), tc.tool, tc.args)
			if err != nil {
				t.Fatalf("CallTool(%s) error: %v", tc.tool, err)
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("CallTool(%s) = %#v, want %#v", tc.tool, *got, tc.want)
			}
		})
	}
	if s.MetaTools() {
		t.Error("MetaTools() = true for a server without call_tool")
	}
}

func TestCallToolCannotRun(t *testing.T) {
	tests := []struct {
		name    string
		opts    []server.StreamableHTTPOption
		breakIt func(t *testing.T, srv *testServer, s *Session)
		wantIs  error // nil: any error
	}{
		{
			name:    "server gone mid-session",
			breakIt: func(_ *testing.T, srv *testServer, _ *Session) { srv.stop() },
		},
		{
			name: "session deleted behind the client's back (404)",
			opts: []server.StreamableHTTPOption{server.WithStateful(true)},
			breakIt: func(t *testing.T, srv *testServer, s *Session) {
				req, err := http.NewRequest(http.MethodDelete, srv.URL, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Mcp-Session-Id", s.ID())
				hc := &http.Client{Transport: &http.Transport{}}
				defer hc.CloseIdleConnections()
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			},
			wantIs: transport.ErrSessionTerminated,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t, newToolServer(), tc.opts...)
			// The session protocol: a stateless session has no session to delete.
			s := connect(t, srv.URL, Options{Protocol: mcp.ProtocolVersion20251125})
			if r, err := s.CallTool(ctxT(t), "echo", nil); err != nil || r.Failed {
				t.Fatalf("first call = %+v, %v; want success", r, err)
			}
			tc.breakIt(t, srv, s)
			r, err := s.CallTool(ctxT(t), "echo", nil)
			if err == nil {
				t.Fatalf("CallTool after the break = %+v, want a Go error", r)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("error %v, want one wrapping %v", err, tc.wantIs)
			}
		})
	}
}

func TestCallToolTimeout(t *testing.T) {
	s0 := newToolServer()
	release := make(chan struct{})
	s0.AddTool(mcp.NewTool("hang"), func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		select {
		case <-ctx.Done():
		case <-release:
		}
		return mcp.NewToolResultText("late"), nil
	})
	srv := newTestServer(t, s0)
	t.Cleanup(func() { close(release) })
	s := connect(t, srv.URL, Options{Timeout: 300 * time.Millisecond})
	start := time.Now()
	r, err := s.CallTool(ctxT(t), "hang", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("CallTool(hang) = %+v, %v; want a deadline error", r, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the call took %v despite Timeout 300ms", d)
	}
}

func TestConnectFails(t *testing.T) {
	srv := newTestServer(t, newToolServer())
	url := srv.URL
	srv.stop()
	s, err := Connect(ctxT(t), url, Options{})
	if err == nil {
		s.Close()
		t.Fatal("Connect to a stopped server succeeded")
	}
	if left := waitClientGoroutinesGone(); left != "" {
		t.Errorf("a failed Connect left goroutines:\n%s", left)
	}
}

func TestSessionIDAndHeaders(t *testing.T) {
	srv := newTestServer(t, newToolServer())
	s := connect(t, srv.URL, Options{Headers: map[string]string{"X-Muster-Test": "user-alice"}, Protocol: mcp.ProtocolVersion20251125})
	if !strings.HasPrefix(s.ID(), "mcp-session-") {
		t.Fatalf("ID() = %q, want an mcp-session-… id", s.ID())
	}
	r, err := s.CallTool(ctxT(t), "whoami", nil)
	if err != nil || r.Failed {
		t.Fatalf("whoami = %+v, %v", r, err)
	}
	if r.Text() != s.ID() {
		t.Errorf("the server saw session %q, ID() = %q", r.Text(), s.ID())
	}
	var posts int
	for _, req := range srv.requests() {
		if req.method != http.MethodPost {
			continue
		}
		posts++
		if got := req.header.Get("X-Muster-Test"); got != "user-alice" {
			t.Errorf("POST without the extra header (got %q)", got)
		}
	}
	if posts == 0 {
		t.Error("the server saw no POST")
	}
}

func TestCloseDeletesSession(t *testing.T) {
	srv := newTestServer(t, newToolServer())
	s := connect(t, srv.URL, Options{Protocol: mcp.ProtocolVersion20251125})
	if _, err := s.CallTool(ctxT(t), "echo", nil); err != nil {
		t.Fatal(err)
	}
	// The GET listener and the connections must exist before Close, or the goroutine
	// check after it proves nothing.
	waitFor(t, "the session's GET stream", func() bool {
		return slices.ContainsFunc(srv.requests(), func(r seenRequest) bool { return r.method == http.MethodGet })
	})
	if clientGoroutines() == "" {
		t.Fatal("no client goroutine found while the session is open: the leak check cannot work")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !slices.ContainsFunc(srv.requests(), func(r seenRequest) bool {
		return r.method == http.MethodDelete && r.session == s.ID()
	}) {
		t.Errorf("no DELETE for session %s; the server saw %v", s.ID(), srv.requests())
	}
	if left := waitClientGoroutinesGone(); left != "" {
		t.Errorf("goroutines left after Close:\n%s", left)
	}
	if _, err := s.CallTool(ctxT(t), "echo", nil); err == nil {
		t.Error("CallTool after Close succeeded")
	}
}

// TestCloseWithinAbandonsAnUnansweredDelete: a SUT that accepts the session DELETE but
// never answers (frozen) holds Close for no longer than the given context.
func TestCloseWithinAbandonsAnUnansweredDelete(t *testing.T) {
	h := server.NewStreamableHTTPServer(newToolServer())
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { close(release); ts.CloseClientConnections(); ts.Close() })
	s := connect(t, ts.URL, Options{Protocol: mcp.ProtocolVersion20251125})
	if _, err := s.CallTool(ctxT(t), "echo", nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if s.CloseWithin(ctx) {
		t.Error("CloseWithin reported a completed close, but the DELETE was never answered")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("CloseWithin took %s with a 200ms bound", took)
	}
	if left := waitClientGoroutinesGone(); left != "" {
		t.Errorf("goroutines left after CloseWithin:\n%s", left)
	}
}

// TestToolsChangedCallback: the notification comes on the GET stream of the session
// protocol, and on a subscriptions/listen stream on the stateless one.
func TestToolsChangedCallback(t *testing.T) {
	for _, protocol := range []string{mcp.ProtocolVersion20251125, mcp.ProtocolVersion20260728} {
		t.Run(protocol, func(t *testing.T) {
			srv := newTestServer(t, newToolServer())
			var log traceLog
			s := connect(t, srv.URL, Options{Protocol: protocol, Trace: log.add})
			fired := toolsChanged(s)
			// The listen stream is set up by a request of its own; a tool added before the
			// server acknowledged it would be announced to nobody.
			if protocol == mcp.ProtocolVersion20260728 {
				waitFor(t, "the acknowledged subscription", func() bool {
					_, ok := log.find("<- SSE message ", "notifications/subscriptions/acknowledged", "toolsListChanged")
					return ok
				})
			}
			addToolAndWait(t, srv, "late_tool", fired)
			names, err := s.ListTools(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(names, "late_tool") {
				t.Errorf("ListTools = %v, want late_tool in it", names)
			}
		})
	}
}

func TestListToolsPages(t *testing.T) {
	s0 := server.NewMCPServer("test", "1", server.WithToolCapabilities(true), server.WithPaginationLimit(2))
	want := []string{"a", "b", "c", "d", "e"}
	for _, n := range want {
		s0.AddTool(mcp.NewTool(n), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return mcp.NewToolResultText(n), nil
		})
	}
	srv := newTestServer(t, s0)
	s := connect(t, srv.URL, Options{})
	got, err := s.ListTools(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("ListTools = %v, want %v", got, want)
	}
}

func TestReadResource(t *testing.T) {
	s0 := server.NewMCPServer("test", "1", server.WithResourceCapabilities(false, false))
	const status = `{"servers":[{"name":"alpha","status":"auth_required"}]}`
	s0.AddResource(mcp.NewResource("auth://status", "status"), func(_ context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
		return []mcp.ResourceContents{mcp.TextResourceContents{URI: req.Params.URI, MIMEType: "application/json", Text: status}}, nil
	})
	srv := newTestServer(t, s0)
	s := connect(t, srv.URL, Options{})
	got, err := s.ReadResource(ctxT(t), "auth://status")
	if err != nil || got != status {
		t.Errorf("ReadResource(auth://status) = %q, %v; want %q", got, err, status)
	}
	if got, err := s.ReadResource(ctxT(t), "auth://nosuch"); err == nil {
		t.Errorf("ReadResource(auth://nosuch) = %q, want an error", got)
	}
}

func TestConcurrentCalls(t *testing.T) {
	srv := newTestServer(t, newToolServer())
	s := connect(t, srv.URL, Options{Trace: func(string) {}})
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	ctx := ctxT(t)
	for i := range n {
		wg.Go(func() {
			r, err := s.CallTool(ctx, "echo", map[string]any{"name": i})
			switch {
			case err != nil:
				errs <- err
			case r.Failed || len(r.Texts) != 2 || r.Texts[1] != fmt.Sprint(i):
				errs <- fmt.Errorf("call %d got %+v", i, r)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestTransportErrorSaysItOnce: a call to a SUT that went away fails with the transport's
// reason, stated once (mcp-go's streamable HTTP transport wraps its own "failed to send
// request" twice), and the error still wraps the HTTP client's (a refused dial, or an EOF
// on a kept-alive connection the server closed).
func TestTransportErrorSaysItOnce(t *testing.T) {
	srv := newTestServer(t, newToolServer())
	s := connect(t, srv.URL, Options{Protocol: mcp.ProtocolVersion20251125})
	srv.stop()
	_, err := s.CallTool(ctxT(t), "echo", nil)
	if err == nil {
		t.Fatal("a call to a stopped server succeeded")
	}
	msg := err.Error()
	if n := strings.Count(msg, "failed to send request"); n != 1 {
		t.Errorf("error %q says \"failed to send request\" %d times, want once", msg, n)
	}
	var ue *url.Error
	if !errors.As(err, &ue) || !strings.Contains(msg, ue.Err.Error()) {
		t.Errorf("error %q does not wrap and state the HTTP client's error", msg)
	}
}
