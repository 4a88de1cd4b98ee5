package refsut

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// boomServer is an upstream whose tool fails with a JSON-RPC error, which the mock server
// package does not produce (its errors are isError results).
func boomServer(t *testing.T) string {
	s := server.NewMCPServer("boom", "1")
	s.AddTool(mcp.Tool{Name: "boom", InputSchema: mcp.ToolInputSchema{Type: "object"}},
		func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return nil, errors.New("boom happened")
		})
	hs := httptest.NewServer(server.NewStreamableHTTPServer(s))
	t.Cleanup(hs.Close)
	return hs.URL + "/mcp"
}

// TestToolCallErrors checks every JSON-RPC error of docs/muster-contract.md §3.6, code and text.
func TestToolCallErrors(t *testing.T) {
	e := newEnv(t)
	idpA := e.idp("idp-a", idp.Config{})
	alpha := e.mcp(idpA, "mcp:read", textTool("op", "a"))
	failing := e.mcp(nil, "", mcpserver.ToolConfig{Name: "fails", Responses: []mcpserver.ResponseConfig{{Error: "it failed"}}})
	s := startSUT(t, sutOptions{oauth: true, servers: map[string]map[string]any{
		"alpha": httpSpec(alpha.URL()), "bang": httpSpec(boomServer(t)), "pub": httpSpec(failing.URL()),
	}})
	a, b := s.connect(t), s.connect(t)

	type tc struct {
		name, tool string
		code       int
		msg        string
	}
	check := func(c *mcpClient, cases []tc) {
		t.Helper()
		for _, k := range cases {
			e, _ := c.rawCall(t, k.tool)
			if e == nil || e.Code != k.code || e.Message != k.msg {
				t.Errorf("%s: got %+v, want %d %q", k.name, e, k.code, k.msg)
			}
		}
	}
	check(b, []tc{
		{"unknown tool", "x_nosuch", -32602, "tool 'x_nosuch' not found: tool not found"},
		{"core tool the reference does not have", "core_workflow_list", -32602, "tool 'core_workflow_list' not found: tool not found"},
		{"protected tool nobody connected", "x_alpha_op", -32602, "tool 'x_alpha_op' not found: tool not found"},
		{"upstream JSON-RPC error", "x_bang_boom", -32603, "tool execution failed: failed to call tool: internal error: boom happened"},
	})
	a.login(t, "x_alpha_authenticate", nil, "alpha")
	check(b, []tc{
		{"protected tool another session connected", "x_alpha_op", -32603, "not authenticated to server alpha"},
	})
	// An upstream isError result passes through unchanged, as a result.
	_, res := b.mustCall(t, "x_pub_fails", nil)
	if !res.IsError || resultText(res) != "it failed" {
		t.Errorf("isError result: %+v", res)
	}
	// Core tools fail as isError results.
	for _, k := range []struct {
		tool string
		args map[string]any
		text string
	}{
		{"core_mcpserver_get", map[string]any{"name": "nosuch"}, "Failed to get MCP server: MCP server nosuch not found"},
		{"core_mcpserver_get", nil, "name argument is required"},
		{"core_auth_login", map[string]any{"server": "nosuch"}, "Server 'nosuch' not found"},
	} {
		txt, res := b.mustCall(t, k.tool, k.args)
		if !res.IsError || txt != k.text {
			t.Errorf("%s %v: %q (isError %v), want %q", k.tool, k.args, txt, res.IsError, k.text)
		}
	}
}

// noRedirect stops at the IdP's redirect so a test can call the callback itself.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// authorize runs the IdP part of a login and returns the callback URL it redirects to.
func authorize(t *testing.T, authURL string) *url.URL {
	t.Helper()
	resp, err := noRedirect.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("IdP answered %d without redirect", resp.StatusCode)
	}
	return loc
}

func get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestCallbackFailures: every failure answers 400 with its page and stores nothing.
func TestCallbackFailures(t *testing.T) {
	e := newEnv(t)
	idpA := e.idp("idp-a", idp.Config{})
	alpha := e.mcp(idpA, "mcp:read", textTool("op", "a"))
	s := startSUT(t, sutOptions{oauth: true, servers: map[string]map[string]any{"alpha": httpSpec(alpha.URL())}})
	c := s.connect(t)
	challenge := func() *url.URL {
		txt, _ := c.mustCall(t, "x_alpha_authenticate", nil)
		return authorize(t, authURL(t, txt)) // a real code and a real state
	}
	forged := base64.URLEncoding.EncodeToString([]byte(`{"session_id":"` + c.GetSessionId() + `","server_name":"alpha","nonce":"bm90LWlzc3VlZA==","created_at":"2026-01-01T00:00:00Z","issuer":"` + idpA.Issuer() + `"}`))
	cases := []struct {
		name  string
		query func(cb *url.URL) url.Values
		msg   string
	}{
		{"error from the IdP", func(cb *url.URL) url.Values {
			return url.Values{"error": {"access_denied"}, "state": {cb.Query().Get("state")}}
		}, msgDenied},
		{"missing code", func(cb *url.URL) url.Values { return url.Values{"state": {cb.Query().Get("state")}} }, msgMissing},
		{"missing state", func(cb *url.URL) url.Values { return url.Values{"code": {cb.Query().Get("code")}} }, msgMissing},
		{"state never issued", func(cb *url.URL) url.Values {
			return url.Values{"code": {cb.Query().Get("code")}, "state": {forged}}
		}, msgExpired},
		{"state not base64", func(cb *url.URL) url.Values {
			return url.Values{"code": {cb.Query().Get("code")}, "state": {"%%%"}}
		}, msgExpired},
		{"code the IdP never issued", func(cb *url.URL) url.Values {
			return url.Values{"code": {"bogus"}, "state": {cb.Query().Get("state")}}
		}, msgExchange},
	}
	for _, k := range cases {
		t.Run(k.name, func(t *testing.T) {
			cb := challenge()
			target := *cb
			target.RawQuery = k.query(cb).Encode()
			resp, body := get(t, target.String())
			checkPage(t, resp, body, http.StatusBadRequest, "Authentication Failed - Muster", `<p class="message">`+k.msg+`</p>`)
		})
	}
	t.Run("state used twice", func(t *testing.T) {
		cb := challenge()
		resp, body := get(t, cb.String())
		checkPage(t, resp, body, http.StatusOK, "Authentication Successful - Muster", `<span class="server-name">alpha</span>`)
		resp, body = get(t, cb.String())
		checkPage(t, resp, body, http.StatusBadRequest, "Authentication Failed - Muster", msgExpired)
		// Clean up: this one did store a token; log out so the check below holds.
		c.mustCall(t, "core_auth_logout", map[string]any{"server": "alpha"})
	})
	// Nothing was stored by any failure: the next login call still challenges.
	if txt, _ := c.mustCall(t, "x_alpha_authenticate", nil); !strings.HasPrefix(txt, "Authentication Required") {
		t.Errorf("a failed callback stored a token: %q", txt)
	}
}

func checkPage(t *testing.T, resp *http.Response, body string, status int, title, fragment string) {
	t.Helper()
	if resp.StatusCode != status || !strings.Contains(body, "<title>"+title+"</title>") || !strings.Contains(body, fragment) {
		t.Errorf("status %d body %s; want %d %q %q", resp.StatusCode, body, status, title, fragment)
	}
	for k, v := range map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store, no-cache, must-revalidate",
	} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

// statusRecorder notes the HTTP status of every response the transport gets.
type statusRecorder struct{ statuses []int }

func (r *statusRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		r.statuses = append(r.statuses, resp.StatusCode)
	}
	return resp, err
}

// TestSessionIDs: ids the aggregator never issued, or deleted, get 404.
func TestSessionIDs(t *testing.T) {
	s := startSUT(t, sutOptions{})
	send := func(id string) int {
		rec := &statusRecorder{}
		tr, err := transport.NewStreamableHTTP(s.base+"/mcp", transport.WithSession(id), transport.WithHTTPBasicClient(&http.Client{Transport: rec}))
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		_, _ = tr.SendRequest(context.Background(), transport.JSONRPCRequest{JSONRPC: mcp.JSONRPC_VERSION, ID: mcp.NewRequestId(int64(1)), Method: string(mcp.MethodToolsList)})
		if len(rec.statuses) == 0 {
			t.Fatal("no response")
		}
		return rec.statuses[0]
	}
	if got := send("mcp-session-" + uuid.NewString()); got != http.StatusNotFound {
		t.Errorf("never-issued id: %d, want 404", got)
	}
	c := s.connect(t)
	id := c.GetSessionId()
	if got := send(id); got != http.StatusOK {
		t.Errorf("issued id: %d, want 200", got)
	}
	req, _ := http.NewRequest(http.MethodDelete, s.base+"/mcp", nil)
	req.Header.Set("Mcp-Session-Id", id)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := send(id); got != http.StatusNotFound {
		t.Errorf("deleted id: %d, want 404", got)
	}
}

// TestSurface: initialize, /health, the CIMD document (docs/muster-contract.md §3.2, §1.2, §4.4).
func TestSurface(t *testing.T) {
	s := startSUT(t, sutOptions{oauth: true})
	c := s.connect(t)
	caps := c.GetServerCapabilities()
	if got := mustJSON(caps); got != `{"prompts":{"listChanged":true},"resources":{"subscribe":true,"listChanged":true},"tools":{"listChanged":true}}` {
		t.Errorf("capabilities %s", got)
	}
	resp, body := get(t, s.base+"/health")
	if resp.StatusCode != 200 || body != `{"status":"ok"}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("/health: %d %q", resp.StatusCode, body)
	}
	resp, body = get(t, s.base+"/.well-known/oauth-client.json")
	want := `{"client_id":"` + s.base + `/.well-known/oauth-client.json","client_name":"Muster MCP Aggregator","client_uri":"https://github.com/giantswarm/muster","redirect_uris":["` + s.base + `/oauth/proxy/callback"],"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"none","scope":"openid profile email","software_id":"giantswarm-muster","software_version":"1.0.0"}`
	if resp.StatusCode != 200 || body != want || resp.Header.Get("Cache-Control") != "public, max-age=3600" || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("CIMD: %d %s %v", resp.StatusCode, body, resp.Header)
	}
	post, err := http.Post(s.base+"/.well-known/oauth-client.json", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	if post.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST CIMD: %d", post.StatusCode)
	}
	for method, want := range map[string]string{"prompts/list": `{"prompts":[]}`, "resources/templates/list": `{"resourceTemplates":[]}`, "ping": `{}`} {
		resp, err := c.GetTransport().SendRequest(context.Background(), transport.JSONRPCRequest{JSONRPC: mcp.JSONRPC_VERSION, ID: mcp.NewRequestId(int64(7)), Method: method})
		if err != nil || string(resp.Result) != want {
			t.Errorf("%s: %v %v, want %s", method, resp, err, want)
		}
	}
	rl, err := c.ListResources(context.Background(), mcp.ListResourcesRequest{})
	if err != nil || len(rl.Resources) != 1 || rl.Resources[0].URI != "auth://status" {
		t.Errorf("resources/list: %+v %v", rl, err)
	}
}

// TestInitializeResult reads the raw initialize result: version negotiation and serverInfo.
func TestInitializeResult(t *testing.T) {
	s := startSUT(t, sutOptions{})
	for asked, want := range map[string]string{"2024-11-05": "2024-11-05", "2025-06-18": "2025-06-18", "1999-01-01": "2025-06-18"} {
		tr, err := transport.NewStreamableHTTP(s.base + "/mcp")
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		resp, err := tr.SendRequest(context.Background(), transport.JSONRPCRequest{
			JSONRPC: mcp.JSONRPC_VERSION, ID: mcp.NewRequestId(int64(1)), Method: string(mcp.MethodInitialize),
			Params: map[string]any{"protocolVersion": asked, "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "t", "version": "0"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			ProtocolVersion string         `json:"protocolVersion"`
			ServerInfo      map[string]any `json:"serverInfo"`
		}
		if err := json.Unmarshal(resp.Result, &res); err != nil {
			t.Fatal(err)
		}
		if res.ProtocolVersion != want || mustJSON(res.ServerInfo) != `{"name":"muster-aggregator","version":"1.0.0"}` {
			t.Errorf("initialize %s: result %s", asked, resp.Result)
		}
		if !strings.HasPrefix(tr.GetSessionId(), "mcp-session-") {
			t.Errorf("session id %q", tr.GetSessionId())
		}
	}
}

// lockedServer answers 401 to MCP requests; with issuer set it publishes a PRM naming it.
func lockedServer(t *testing.T, issuer string) string {
	mux := http.NewServeMux()
	if issuer != "" {
		mux.HandleFunc("/.well-known/oauth-protected-resource", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"resource": "r", "authorization_servers": []string{issuer}})
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return hs.URL + "/mcp"
}

// TestLoginFailures: the isError texts of §3.7 when a login cannot even start.
func TestLoginFailures(t *testing.T) {
	noIssuer := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(noIssuer.Close)
	cases := []struct {
		name  string
		oauth bool
		url   string
		text  string
	}{
		{"OAuth proxy disabled", false, lockedServer(t, ""), "OAuth is not configured. Server locked requires authentication but OAuth proxy is not enabled. Enable OAuth proxy in the configuration to authenticate to remote MCP servers."},
		{"no PRM", true, lockedServer(t, ""), "Cannot authenticate to locked: unable to discover OAuth authorization server. The server's /.well-known/oauth-protected-resource endpoint may not be available."},
		{"no AS metadata", true, lockedServer(t, noIssuer.URL), "Failed to create authentication challenge: failed to generate auth URL: failed to fetch OAuth metadata: failed to discover OAuth metadata for " + noIssuer.URL + ": "},
	}
	for _, k := range cases {
		t.Run(k.name, func(t *testing.T) {
			s := startSUT(t, sutOptions{oauth: k.oauth, servers: map[string]map[string]any{"locked": httpSpec(k.url)}})
			txt, res := s.connect(t).mustCall(t, "x_locked_authenticate", nil)
			if !res.IsError || !strings.HasPrefix(txt, k.text) {
				t.Errorf("got %q (isError %v), want prefix %q", txt, res.IsError, k.text)
			}
		})
	}
}
