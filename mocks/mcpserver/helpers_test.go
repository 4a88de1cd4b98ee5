package mcpserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/muster-test/muster-test/mocks/mcpserver"
	"github.com/muster-test/muster-test/mocks/mcpserver/authtest"
)

// testTools is the tool set most tests serve, written as a scenario file would.
const testTools = `
tools:
  - name: greet
    description: Greets someone
    input_schema:
      type: object
      properties:
        name: {type: string, default: world}
        count: {type: integer}
    responses:
      - condition: {count: 42}
        response: {answer: "{{ count }}", who: "{{ .name }}"}
      - response: "hello {{ name }}"
  - name: fail
    responses:
      - error: "boom for {{ name }}"
  - name: slow
    responses:
      - delay: 1h
        response: never
  - name: whoami
    echo_token: true
    responses:
      - response: {ok: true}
`

// parseYAMLConfig parses a scenario-style config through the public parser.
func parseYAMLConfig(t testing.TB, doc string) mcpserver.Config {
	t.Helper()
	cfg, err := mcpserver.ConfigFromYAML([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func startServer(t testing.TB, cfg mcpserver.Config) *mcpserver.Server {
	t.Helper()
	s, err := mcpserver.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func newAuthority(t testing.TB) *authtest.Authority {
	t.Helper()
	a, err := authtest.New("http://localhost:1/issuer", "openid", "profile", "mcp:read")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// bearer holds the token a client sends; tests swap it mid-session.
type bearer struct {
	mu  sync.Mutex
	tok string
}

func (b *bearer) set(tok string) {
	b.mu.Lock()
	b.tok = tok
	b.mu.Unlock()
}

func (b *bearer) headers(context.Context) map[string]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tok == "" {
		return nil
	}
	return map[string]string{"Authorization": "Bearer " + b.tok}
}

var quiet = slog.New(slog.DiscardHandler)

// clientKind names the ways the tests talk to a mock.
type clientKind string

const (
	legacyHTTP clientKind = "streamable-http legacy (2025-06-18)"
	modernHTTP clientKind = "streamable-http default (stateless first)"
	sseClient  clientKind = "sse"
)

// connect starts and initializes an mcp-go client of the given kind. The session-based
// clients listen for server notifications.
func connect(t testing.TB, kind clientKind, url string, tok *bearer) (*client.Client, error) {
	t.Helper()
	if tok == nil {
		tok = &bearer{}
	}
	var c *client.Client
	switch kind {
	case legacyHTTP, modernHTTP:
		opts := []transport.StreamableHTTPCOption{transport.WithHTTPHeaderFunc(tok.headers), transport.WithHTTPLogger(quiet)}
		if kind == legacyHTTP {
			opts = append(opts, transport.WithContinuousListening())
		}
		tr, err := transport.NewStreamableHTTP(url, opts...)
		if err != nil {
			return nil, err
		}
		if kind == legacyHTTP {
			c = client.NewClient(tr, client.WithProtocolVersion(mcp.ProtocolVersion20250618))
		} else {
			c = client.NewClient(tr)
		}
	case sseClient:
		tr, err := transport.NewSSE(url, transport.WithHeaderFunc(tok.headers), transport.WithSSELogger(quiet))
		if err != nil {
			return nil, err
		}
		c = client.NewClient(tr, client.WithProtocolVersion(mcp.ProtocolVersion20250618))
	default:
		return nil, fmt.Errorf("unknown client kind %q", kind)
	}
	// The SSE stream and the listening GET live as long as Start's context: the test's.
	life, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	if err := c.Start(life); err != nil {
		_ = c.Close()
		return nil, err
	}
	ctx, cancel := context.WithTimeout(life, 10*time.Second)
	defer cancel()
	if _, err := c.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{
		ClientInfo: mcp.Implementation{Name: "mcpserver-test", Version: "1"},
	}}); err != nil {
		_ = c.Close()
		return nil, err
	}
	t.Cleanup(func() { _ = c.Close() })
	return c, nil
}

func mustConnect(t testing.TB, kind clientKind, url string, tok *bearer) *client.Client {
	t.Helper()
	c, err := connect(t, kind, url, tok)
	if err != nil {
		t.Fatalf("connect %s: %v", kind, err)
	}
	return c
}

// call calls a tool and returns its text and isError flag.
func call(ctx context.Context, c *client.Client, tool string, args map[string]any) (string, bool, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	req.Params.Arguments = args
	res, err := c.CallTool(ctx, req)
	if err != nil {
		return "", false, err
	}
	var texts []string
	for _, content := range res.Content {
		if tc, ok := content.(mcp.TextContent); ok {
			texts = append(texts, tc.Text)
		}
	}
	return strings.Join(texts, ""), res.IsError, nil
}

func mustCall(t testing.TB, c *client.Client, tool string, args map[string]any) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	text, isErr, err := call(ctx, c, tool, args)
	if err != nil {
		t.Fatalf("call %s: %v", tool, err)
	}
	return text, isErr
}

// jsonEqual compares a JSON text with an expected value after decoding both.
func jsonEqual(t testing.TB, text string, want any) {
	t.Helper()
	var got any
	if err := json.Unmarshal([]byte(text), &got); err != nil {
		t.Fatalf("not JSON: %q: %v", text, err)
	}
	wantJSON, _ := json.Marshal(want)
	var wantV any
	_ = json.Unmarshal(wantJSON, &wantV)
	gotJSON, _ := json.Marshal(got)
	normWant, _ := json.Marshal(wantV)
	if string(gotJSON) != string(normWant) {
		t.Fatalf("JSON mismatch:\n got  %s\n want %s", gotJSON, normWant)
	}
}

// challenge is a parsed WWW-Authenticate header.
type challenge struct {
	scheme string
	params map[string]string
}

// parseChallenge parses one RFC 7235 challenge: a scheme followed by comma-separated
// auth-params whose values are tokens or quoted-strings.
func parseChallenge(h string) (challenge, error) {
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	c := challenge{scheme: scheme, params: map[string]string{}}
	for rest = strings.TrimSpace(rest); rest != ""; {
		name, after, ok := strings.Cut(rest, "=")
		if !ok {
			return c, fmt.Errorf("param without '=' in %q", rest)
		}
		name = strings.ToLower(strings.TrimSpace(name))
		after = strings.TrimLeft(after, " ")
		var value string
		if strings.HasPrefix(after, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(after) && after[i] != '"'; i++ {
				if after[i] == '\\' && i+1 < len(after) {
					i++
				}
				b.WriteByte(after[i])
			}
			if i >= len(after) {
				return c, fmt.Errorf("unterminated quoted string in %q", h)
			}
			value, after = b.String(), after[i+1:]
		} else {
			end := strings.IndexByte(after, ',')
			if end < 0 {
				end = len(after)
			}
			value, after = strings.TrimSpace(after[:end]), after[end:]
		}
		if _, dup := c.params[name]; dup {
			return c, fmt.Errorf("duplicate param %q", name)
		}
		c.params[name] = value
		after = strings.TrimSpace(after)
		if after != "" && !strings.HasPrefix(after, ",") {
			return c, fmt.Errorf("expected ',' before %q", after)
		}
		rest = strings.TrimSpace(strings.TrimPrefix(after, ","))
	}
	return c, nil
}

// rawInitialize posts an initialize request with an optional bearer token and returns
// the response (body drained and closed by the caller's cleanup).
func rawInitialize(t testing.TB, url, token string) *http.Response {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = resp.Body.Close() })
	return resp
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for delay := time.Millisecond; !cond(); delay = min(delay*2, 100*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-time.After(delay)
	}
}

func isAuthRequired(err error) (*transport.AuthorizationRequiredError, bool) {
	var are *transport.AuthorizationRequiredError
	ok := errors.As(err, &are)
	return are, ok
}

func startRelayed(t testing.TB, cfg mcpserver.Config) *mcpserver.Relayed {
	t.Helper()
	r, err := mcpserver.StartRelayed(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}
