package mcpclient

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
)

func TestTraceRecordsTraffic(t *testing.T) {
	srv := newTestServer(t, newToolServer())
	var log traceLog
	s := connect(t, srv.URL, Options{Trace: log.add, Protocol: mcp.ProtocolVersion20251125})
	fired := toolsChanged(s)
	if _, err := s.CallTool(ctxT(t), "echo", map[string]any{"name": "tracy"}); err != nil {
		t.Fatal(err)
	}
	addToolAndWait(t, srv, "later", fired)

	checks := []struct {
		what   string
		prefix string
		parts  []string
	}{
		{"initialize request", "-> POST /mcp ", []string{`"method":"initialize"`}},
		{"tools/call request", "-> POST /mcp ", []string{`"method":"tools/call"`, `"name":"echo"`, `"tracy"`}},
		{"tools/call response", "<- 200 ", []string{`"text":"tracy"`}},
		{"GET stream", "-> GET /mcp", nil},
		// The notification comes on the GET stream or at the front of a POST answered
		// as SSE; it is reported as an SSE event either way, before the callback runs.
		{"notification event", "<- SSE message ", []string{"notifications/tools/list_changed"}},
	}
	for _, c := range checks {
		if _, ok := log.find(c.prefix, c.parts...); !ok {
			t.Errorf("no trace line for the %s (%q + %q); trace:\n%s", c.what, c.prefix, c.parts, log.String())
		}
	}
}

func TestSSETap(t *testing.T) {
	tests := []struct {
		name   string
		chunks []string
		want   []string
	}{
		{
			name:   "events split across reads",
			chunks: []string{"event: mess", "age\ndata: {\"a\"", ":1}\n\n", "data: {\"b\":2}\r\n\r\n"},
			want:   []string{`<- SSE message {"a":1}`, `<- SSE message {"b":2}`},
		},
		{
			name:   "multi-line data, id and comments ignored",
			chunks: []string{": ping\nid: 7\nevent: note\ndata: one\ndata: two\n\n"},
			want:   []string{"<- SSE note one two"},
		},
		{
			name:   "an event cut off by the end of the stream is still reported",
			chunks: []string{"data: {\"last\":true}"},
			want:   []string{`<- SSE message {"last":true}`},
		},
		{
			name:   "events without data are not reported",
			chunks: []string{"event: message\n\n: keepalive\n\n"},
			want:   nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			tap := &sseTap{body: io.NopCloser(&chunkReader{chunks: slices.Clone(tc.chunks)}), emit: func(s string) { got = append(got, s) }}
			passed, err := io.ReadAll(tap)
			if err != nil {
				t.Fatal(err)
			}
			if string(passed) != strings.Join(tc.chunks, "") {
				t.Errorf("the tap changed the stream: %q", passed)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("events = %q, want %q", got, tc.want)
			}
		})
	}
}

// chunkReader returns one chunk per Read, as a network stream might.
type chunkReader struct{ chunks []string }

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	r.chunks[0] = r.chunks[0][n:]
	if r.chunks[0] == "" {
		r.chunks = r.chunks[1:]
	}
	return n, nil
}

func TestClip(t *testing.T) {
	long := strings.Repeat("é", traceLimit) // 2 bytes a rune: the cut falls inside one
	tests := []struct {
		name string
		in   string
		want func(string) bool
	}{
		{"short body is kept, newlines flattened", "{\n  \"a\": 1\n}\n", func(s string) bool { return s == `{   "a": 1 }` }},
		{"long body is cut on a rune boundary", long, func(s string) bool {
			return strings.HasSuffix(s, " …(cut)") && len(s) <= traceLimit+len(" …(cut)") && utf8.ValidString(s)
		}},
	}
	for _, tc := range tests {
		if got := clip([]byte(tc.in)); !tc.want(got) {
			t.Errorf("%s: clip = %q (%d bytes)", tc.name, got, len(got))
		}
	}
}

// A server that notifies while it handles a call answers that POST as an SSE stream
// (muster does so once a session has had a notification): the result, the notification
// and their trace lines must all come through.
func TestCallAnsweredAsSSE(t *testing.T) {
	s0 := newToolServer()
	s0.AddTool(mcp.NewTool("notify_then_answer"), func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		if err := s0.SendNotificationToClient(ctx, mcp.MethodNotificationToolsListChanged, nil); err != nil {
			return nil, err
		}
		return mcp.NewToolResultText("done"), nil
	})
	srv := newTestServer(t, s0)
	var log traceLog
	// muster's protocol. On the stateless one this notification once failed to arrive in a
	// loaded full run (cause not pinned down); its delivery there is not this test's subject.
	s := connect(t, srv.URL, Options{Trace: log.add, Protocol: mcp.ProtocolVersion20251125})
	fired := toolsChanged(s)
	got, err := s.CallTool(ctxT(t), "notify_then_answer", nil)
	if err != nil || got.Failed || got.Text() != "done" {
		t.Fatalf("CallTool = %+v, %v; want the text done", got, err)
	}
	select {
	case <-fired:
	case <-time.After(waitLimit):
		t.Fatal("the notification sent during the call never reached the callback")
	}
	if _, ok := log.find("<- SSE message ", `"text":"done"`); !ok {
		t.Errorf("the SSE-carried result is not in the trace:\n%s", log.String())
	}
}
