package refserver_test

import (
	"cmp"
	"context"
	"net/http"
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

// TestChallenges: the 401 without a token names the metadata and the scope but no error
// code; a bad token gets invalid_token, a malformed header 400 invalid_request; a token in the query string is refused even next
// to a good header; a token without the base scope gets 403 insufficient_scope.
func TestChallenges(t *testing.T) {
	e := start(t)
	prm := `resource_metadata="` + e.s.PRMURL() + `"`
	init := map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "t", "version": "1"}}

	a := e.rpc(t, "/mcp", "", "", "initialize", init)
	if a.status != 401 || a.challenge() != `Bearer `+prm+`, scope="tools:call"` {
		t.Errorf("no token: %d %q", a.status, a.challenge())
	}
	a = e.rpc(t, "/mcp", "not-a-token", "", "initialize", init)
	if a.status != 401 || !strings.Contains(a.challenge(), `error="invalid_token"`) || !strings.Contains(a.challenge(), prm) {
		t.Errorf("bad token: %d %q", a.status, a.challenge())
	}
	// A Bearer header without one well-formed token is a malformed request (RFC 6750 §3.1).
	for _, header := range []string{"Bearer ", "Bearer one two"} {
		req, _ := http.NewRequest(http.MethodPost, e.s.URL(), strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
		req.Header.Set("Authorization", header)
		a = do(t, req)
		if a.status != 400 || !strings.Contains(a.challenge(), `error="invalid_request"`) || !strings.Contains(a.challenge(), prm) {
			t.Errorf("Authorization %q: %d %q", header, a.status, a.challenge())
		}
	}
	good := e.alice(t)
	a = e.rpc(t, "/mcp?access_token="+good, good, "", "initialize", init)
	if a.status != 400 || !strings.Contains(a.challenge(), `error="invalid_request"`) {
		t.Errorf("token in query: %d %q", a.status, a.challenge())
	}
	a = e.rpc(t, "/mcp", e.token(t, grant{sub: "alice", scopes: []string{"openid"}}), "", "initialize", init)
	if a.status != 403 || !strings.Contains(a.challenge(), `error="insufficient_scope"`) ||
		!strings.Contains(a.challenge(), `scope="tools:call"`) || !strings.Contains(a.challenge(), prm) {
		t.Errorf("no base scope: %d %q", a.status, a.challenge())
	}
	if a := e.rpc(t, "/mcp", good, "", "initialize", init); a.status != 200 {
		t.Errorf("good token: %d %v", a.status, a.body)
	}
}

// TestProtectedResourceMetadata: both well-known forms name the MCP endpoint and the
// issuer, and the challenge's resource_metadata is the path-inserted one.
func TestProtectedResourceMetadata(t *testing.T) {
	e := start(t)
	for _, path := range []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"} {
		req, _ := http.NewRequest(http.MethodGet, e.s.Origin()+path, nil)
		a := do(t, req)
		if a.status != 200 || a.body["resource"] != e.s.URL() {
			t.Errorf("%s: %d %v", path, a.status, a.body)
		}
		if as, _ := a.body["authorization_servers"].([]any); len(as) != 1 || as[0] != e.s.Origin() {
			t.Errorf("%s: authorization_servers %v, want [%s]", path, a.body["authorization_servers"], e.s.Origin())
		}
	}
	if want := e.s.Origin() + "/.well-known/oauth-protected-resource/mcp"; e.s.PRMURL() != want {
		t.Errorf("PRMURL %s, want %s", e.s.PRMURL(), want)
	}
	if e.s.URL() != e.s.Origin()+"/mcp" || !strings.HasPrefix(e.s.URL(), "http://127.0.0.1:") {
		t.Errorf("URL %s", e.s.URL())
	}
}

// TestTokenChecks: each bad token is refused with invalid_token and a description naming
// the cause; a good one for the same user passes.
func TestTokenChecks(t *testing.T) {
	e := start(t)
	other, err := idp.Start(context.Background(), idp.Config{SignTokens: true, Users: []idp.User{{Subject: "alice"}}, Scopes: []string{"tools:call"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = other.Close() })
	foreign, err := other.IssueToken(context.Background(), idp.IssueOptions{Subject: "alice", Scopes: []string{"tools:call"}, Audience: []string{e.s.URL()}})
	if err != nil {
		t.Fatal(err)
	}
	shortLived := e.token(t, grant{sub: "alice", lifetime: time.Minute})
	cases := map[string]struct{ token, cause string }{
		"wrong audience":  {e.token(t, grant{sub: "alice", aud: []string{"http://127.0.0.1:1/mcp"}}), "audience"},
		"other issuer":    {foreign.AccessToken, "JWKS"},
		"not a JWT":       {"opaque-string", "not a JWT"},
		"tampered":        {shortLived[:len(shortLived)-4] + "AAAA", "signature"},
		"alg none header": {"eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.", "algorithm 'none'"},
	}
	for name, c := range cases {
		a := e.rpc(t, "/mcp", c.token, "", "tools/list", nil)
		if a.status != 401 || !strings.Contains(a.challenge(), `error="invalid_token"`) || !strings.Contains(a.challenge(), c.cause) {
			t.Errorf("%s: %d %q, want 401 invalid_token naming %q", name, a.status, a.challenge(), c.cause)
		}
	}
	session := e.initialize(t, shortLived)
	mountidp.IdP(e.s).Clock().Advance(2 * time.Minute)
	if a := e.rpc(t, "/mcp", shortLived, session, "tools/list", nil); a.status != 401 || !strings.Contains(a.challenge(), "expired") {
		t.Errorf("expired: %d %q", a.status, a.challenge())
	}
}

// TestTenantTools walks the three users: tools/list is filtered per tenant, tools/call is
// re-checked, the admin tool needs the admin scope, and every call is audited.
func TestTenantTools(t *testing.T) {
	e := start(t)
	alice := e.connect(t, e.alice(t))
	bobToken := e.token(t, grant{sub: "bob"})
	bob := e.connect(t, bobToken)
	carol := e.connect(t, e.token(t, grant{sub: "carol"}))

	for name, c := range map[string]struct {
		got  []string
		want string
	}{"alice": {toolNames(t, alice), "admin_purge echo search_documents"},
		"bob":   {toolNames(t, bob), "admin_purge echo search_documents"},
		"carol": {toolNames(t, carol), "echo export_report search_documents"}} {
		if strings.Join(c.got, " ") != c.want {
			t.Errorf("%s sees %v, want %s", name, c.got, c.want)
		}
	}
	if text, isErr, err := call(carol, "export_report", map[string]any{"reportId": "r1"}); err != nil || isErr ||
		!strings.Contains(text, `"tenant":"tenant-b"`) {
		t.Errorf("carol export_report: %q %v %v", text, isErr, err)
	}
	if _, _, err := call(alice, "export_report", map[string]any{"reportId": "r1"}); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("alice export_report: %v, want tool not found", err)
	}
	if text, isErr, err := call(alice, "admin_purge", map[string]any{"confirm": true}); err != nil || isErr ||
		text != `{"purged":2,"tenant":"tenant-a"}` {
		t.Errorf("alice admin_purge: %q %v %v", text, isErr, err)
	}
	if text, _, _ := call(bob, "search_documents", map[string]any{"query": ""}); !strings.Contains(text, `"documents":[]`) {
		t.Errorf("tenant-a after purge: %s", text)
	}
	if text, _, _ := call(carol, "search_documents", map[string]any{"query": "plan"}); !strings.Contains(text, "tenant-b-doc-1") {
		t.Errorf("tenant-b untouched by tenant-a's purge: %s", text)
	}
	session := e.initialize(t, bobToken)
	a := e.rpc(t, "/mcp", bobToken, session, "tools/call", toolCall("admin_purge", map[string]any{"confirm": true}))
	if a.status != 403 || !strings.Contains(a.challenge(), `error="insufficient_scope"`) ||
		!strings.Contains(a.challenge(), `scope="tools:call admin"`) || !strings.Contains(a.challenge(), e.s.PRMURL()) {
		t.Errorf("bob admin_purge: %d %q", a.status, a.challenge())
	}
	// Without any scope, admin_purge's challenge names both scopes at once (not the base
	// scope first and admin on the retry); to a tenant without the tool, only the base one.
	for _, c := range []struct{ sub, want string }{{"alice", `scope="tools:call admin"`}, {"carol", `scope="tools:call"`}} {
		tok := e.token(t, grant{sub: c.sub, scopes: []string{"openid"}})
		a := e.rpc(t, "/mcp", tok, "", "tools/call", toolCall("admin_purge", map[string]any{}))
		if a.status != 403 || !strings.Contains(a.challenge(), c.want) {
			t.Errorf("%s admin_purge without scopes: %d %q, want %s", c.sub, a.status, a.challenge(), c.want)
		}
	}

	type row struct{ subject, tool, decision string }
	var got []row
	for _, r := range e.auditRecords(t) {
		got = append(got, row{r.Subject, r.Tool, r.Decision})
		if r.Time.IsZero() || r.Reason == "" || (r.Subject != "" && r.Tenant == "") {
			t.Errorf("incomplete audit record %+v", r)
		}
	}
	want := []row{{"carol", "export_report", "allow"}, {"alice", "export_report", "deny"}, {"alice", "admin_purge", "allow"},
		{"bob", "search_documents", "allow"}, {"carol", "search_documents", "allow"}, {"bob", "admin_purge", "deny"},
		{"alice", "admin_purge", "deny"}, {"carol", "admin_purge", "deny"}}
	if !slices.Equal(got, want) {
		t.Errorf("audit:\n got %v\nwant %v", got, want)
	}
	recs := e.auditRecords(t)
	if r := recs[1]; r.Tenant != "tenant-a" || !strings.Contains(r.Reason, "not available to tenant") {
		t.Errorf("cross-tenant denial record %+v", r)
	}
	if r := recs[5]; !strings.Contains(r.Reason, "admin") {
		t.Errorf("scope denial record %+v", r)
	}
}

// TestSessionBinding: a session opened with alice's token refuses bob's token, and still
// serves alice.
func TestSessionBinding(t *testing.T) {
	e := start(t)
	aliceToken := e.alice(t)
	session := e.initialize(t, aliceToken)
	if a := e.rpc(t, "/mcp", e.token(t, grant{sub: "bob"}), session, "tools/list", nil); a.status != 403 ||
		a.body["error"] != "access_denied" {
		t.Errorf("bob on alice's session: %d %v", a.status, a.body)
	}
	if a := e.rpc(t, "/mcp", aliceToken, session, "tools/list", nil); a.status != 200 {
		t.Errorf("alice on her session: %d %v", a.status, a.body)
	}
	// A new token for the same user (a refresh) keeps the session.
	if a := e.rpc(t, "/mcp", e.alice(t), session, "tools/list", nil); a.status != 200 {
		t.Errorf("alice's second token: %d %v", a.status, a.body)
	}
}

// TestStartErrors: a configuration without exactly one authority, or with a bad policy,
// does not start.
func TestStartErrors(t *testing.T) {
	bad := &refserver.Policy{Tenants: map[string][]string{"t": {"no_such_tool"}}}
	for name, cfg := range map[string]refserver.Config{
		"neither":          {},
		"both":             {WithAS: true, MountAS: mountidp.Mount, Issuer: "http://127.0.0.1:1"},
		"bad policy":       {WithAS: true, MountAS: mountidp.Mount, Policy: bad},
		"dead issuer":      {Issuer: "http://127.0.0.1:1"},
		"bad port":         {WithAS: true, MountAS: mountidp.Mount, Port: 70000},
		"nothing to mount": {WithAS: true},
	} {
		if s, err := refserver.Start(cfg); err == nil {
			s.Close()
			t.Errorf("%s: started", name)
		}
	}
}

// TestStatelessProtocol: a client of the 2026-07-28 protocol (no initialize, no session)
// gets the same filtering and re-check.
func TestStatelessProtocol(t *testing.T) {
	e := start(t)
	tr, err := transport.NewStreamableHTTP(e.s.URL(), transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + e.alice(t)}))
	if err != nil {
		t.Fatal(err)
	}
	c := client.NewClient(tr)
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, err := c.Initialize(context.Background(), mcp.InitializeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if res.ProtocolVersion != mcp.ProtocolVersion20260728 || c.GetSessionId() != "" {
		t.Errorf("protocol %s, session %q: not the stateless protocol", res.ProtocolVersion, c.GetSessionId())
	}
	if got := strings.Join(toolNames(t, c), " "); got != "admin_purge echo search_documents" {
		t.Errorf("alice sees %s", got)
	}
	if _, _, err := call(c, "export_report", map[string]any{"reportId": "r"}); err == nil {
		t.Error("alice called export_report")
	}
}

// TestForeignHost: a loopback request naming another host is refused on every route
// (DNS-rebinding guard), on /mcp even with a good token.
func TestForeignHost(t *testing.T) {
	e := start(t)
	for _, path := range []string{"/mcp", "/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-authorization-server"} {
		method, body := http.MethodGet, ""
		if path == "/mcp" {
			method, body = http.MethodPost, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`
		}
		req, _ := http.NewRequest(method, e.s.Origin()+path, strings.NewReader(body))
		req.Host = "rebind.example:80"
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+e.alice(t))
		if a := do(t, req); a.status != http.StatusForbidden {
			t.Errorf("%s with a foreign Host: %d %v", path, a.status, a.body)
		}
	}
}

// TestMountedIdPSigningAlgorithm: the mounted IdP signs ES256 unless told RS256, and the
// server accepts the tokens of either.
func TestMountedIdPSigningAlgorithm(t *testing.T) {
	for _, alg := range []string{"", idp.AlgRS256} {
		s, err := mountidp.Start(refserver.Config{SigningAlgorithm: alg})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		want := cmp.Or(alg, idp.AlgES256)
		if got := mountidp.IdP(s).SigningAlgorithm(); got != want {
			t.Errorf("SigningAlgorithm %q: the mounted IdP signs %s, want %s", alg, got, want)
		}
		tok, err := mountidp.IdP(s).MintJWT(idp.MintOptions{Claims: map[string]any{"sub": "alice", "aud": s.URL(), "scope": "tools:call", "tenant_id": "tenant-a"}})
		if err != nil {
			t.Fatal(err)
		}
		a := env{s: s}.rpc(t, "/mcp", tok, "", "ping", nil)
		if a.status == http.StatusUnauthorized || a.status == http.StatusForbidden {
			t.Errorf("%s token refused: %d %s", want, a.status, a.challenge())
		}
	}
}
