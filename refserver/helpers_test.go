package refserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/refserver"
	"github.com/muster-test/muster-test/refserver/mountidp"
)

// env is a reference server with the mounted IdP (mock clock) and an audit file.
type env struct {
	s     *refserver.Server
	audit string
}

func start(t testing.TB, faults ...refserver.Fault) env {
	t.Helper()
	return startConfig(t, refserver.Config{}, faults...)
}

// startConfig starts cfg with the mounted IdP, its mock clock, an audit file and faults.
func startConfig(t testing.TB, cfg refserver.Config, faults ...refserver.Fault) env {
	t.Helper()
	fs := refserver.Faults{}
	for _, f := range faults {
		fs[f] = true
	}
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	cfg.MockClock, cfg.AuditFile, cfg.Faults = true, audit, fs
	s, err := mountidp.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return env{s: s, audit: audit}
}

// grant describes a token minted by the mounted IdP; zero fields take working defaults.
type grant struct {
	sub      string
	scopes   []string
	aud      []string
	lifetime time.Duration
}

func (e env) token(t testing.TB, g grant) string {
	t.Helper()
	if g.scopes == nil {
		g.scopes = []string{"tools:call"}
	}
	if g.aud == nil {
		g.aud = []string{e.s.URL()}
	}
	tok, err := mountidp.IdP(e.s).IssueToken(context.Background(), idp.IssueOptions{Subject: g.sub, Scopes: g.scopes,
		Audience: g.aud, Lifetime: g.lifetime})
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func (e env) alice(t testing.TB) string {
	return e.token(t, grant{sub: "alice", scopes: []string{"tools:call", "admin"}})
}

// answer is one raw HTTP exchange.
type answer struct {
	status int
	header http.Header
	body   map[string]any
}

func (a answer) challenge() string { return a.header.Get("WWW-Authenticate") }

// rpc is a raw JSON-RPC POST; headers are added as given (a session id, a token).
func (e env) rpc(t testing.TB, path, token, session, method string, params any) answer {
	t.Helper()
	msg, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	req, _ := http.NewRequest(http.MethodPost, e.s.Origin()+path, strings.NewReader(string(msg)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
		req.Header.Set("MCP-Protocol-Version", mcp.ProtocolVersion20250618)
	}
	return do(t, req)
}

func do(t testing.TB, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, body: map[string]any{}}
	_ = json.Unmarshal(raw, &a.body)
	return a
}

// initialize opens a legacy session with a raw request and returns its id.
func (e env) initialize(t testing.TB, token string) string {
	t.Helper()
	a := e.rpc(t, "/mcp", token, "", "initialize", map[string]any{"protocolVersion": mcp.ProtocolVersion20250618,
		"capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "test", "version": "1"}})
	id := a.header.Get("Mcp-Session-Id")
	if a.status != http.StatusOK || id == "" {
		t.Fatalf("initialize: %d %v %v", a.status, a.header, a.body)
	}
	return id
}

// connect opens an mcp-go client session with the token.
func (e env) connect(t testing.TB, token string) *client.Client {
	t.Helper()
	tr, err := transport.NewStreamableHTTP(e.s.URL(), transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
	if err != nil {
		t.Fatal(err)
	}
	c := client.NewClient(tr, client.WithProtocolVersion(mcp.ProtocolVersion20250618))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Initialize(ctx, mcp.InitializeRequest{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func toolNames(t testing.TB, c *client.Client) []string {
	t.Helper()
	res, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	return names
}

// call returns the tool's first text, whether it is an error result, and a JSON-RPC error.
func call(c *client.Client, tool string, args map[string]any) (string, bool, error) {
	res, err := c.CallTool(context.Background(), mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool, Arguments: args}})
	if err != nil || len(res.Content) == 0 {
		return "", false, err
	}
	return mcp.GetTextFromContent(res.Content[0]), res.IsError, nil
}

// auditRecords reads the audit file written so far.
func (e env) auditRecords(t testing.TB) []refserver.AuditRecord {
	t.Helper()
	f, err := os.Open(e.audit)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []refserver.AuditRecord
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r refserver.AuditRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}

// toolCall is the params of a tools/call.
func toolCall(name string, args map[string]any) map[string]any {
	return map[string]any{"name": name, "arguments": args}
}
