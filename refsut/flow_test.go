package refsut

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// TestLoginFlow walks one session through muster's login: challenge, callback, connect.
func TestLoginFlow(t *testing.T) {
	e := newEnv(t)
	idpA := e.idp("idp-a", idp.Config{})
	pub := e.mcp(nil, "", textTool("do_pub", "hello"))
	alpha := e.mcp(idpA, "mcp:read", textTool("op", "alpha-op"), textTool("op2", "two"))
	s := startSUT(t, sutOptions{oauth: true, servers: map[string]map[string]any{"pub": httpSpec(pub.URL()), "alpha": httpSpec(alpha.URL())}})
	c := s.connect(t)

	tools := c.toolNames(t)
	for _, want := range []string{"x_pub_do_pub", "x_alpha_authenticate", "core_auth_login", "core_auth_logout", "core_mcpserver_list", "core_mcpserver_get", "core_service_list", "core_service_status"} {
		if !tools[want] {
			t.Errorf("tools/list lacks %s: %v", want, tools)
		}
	}
	if tools["x_alpha_op"] {
		t.Errorf("protected tool listed before login")
	}

	txt, res := c.mustCall(t, "x_pub_do_pub", nil)
	if txt != "hello" {
		t.Errorf("public call: %q", txt)
	}
	wantPending := mustJSON([]map[string]any{{"server": "alpha", "issuer": idpA.Issuer(), "scope": "mcp:read", "auth_tool": "core_auth_login"}})
	if got := authMeta(res); got != wantPending {
		t.Errorf("_meta before login = %s, want %s", got, wantPending)
	}

	txt, res = c.mustCall(t, "x_alpha_authenticate", nil)
	u := authURL(t, txt)
	if want := fmt.Sprintf(challengeText, "alpha", "alpha", u); txt != want || res.IsError {
		t.Errorf("challenge text:\n%q\nwant\n%q", txt, want)
	}
	checkAuthURL(t, u, s.base, idpA, c.GetSessionId(), "alpha")

	if code, body := browse(t, u); code != 200 || !strings.Contains(body, `<span class="server-name">alpha</span>`) {
		t.Fatalf("callback: %d %s", code, body)
	}
	if c.toolNames(t)["x_alpha_op"] {
		t.Errorf("the callback alone connected the server; muster connects on the next login call")
	}
	before := c.listChanges()
	txt, _ = c.mustCall(t, "x_alpha_authenticate", nil)
	if want := fmt.Sprintf(connectedText, "alpha", 2, 0, 0); txt != want {
		t.Errorf("connected text %q, want %q", txt, want)
	}
	waitFor(t, "tools/list_changed", 5*time.Second, func() bool { return c.listChanges() > before })
	tools = c.toolNames(t)
	if !tools["x_alpha_op"] || !tools["x_alpha_op2"] || tools["x_alpha_authenticate"] {
		t.Errorf("tools after connect: %v", tools)
	}
	txt, res = c.mustCall(t, "x_alpha_op", nil)
	if txt != "alpha-op" {
		t.Errorf("protected call: %q", txt)
	}
	if got := authMeta(res); got != "[]" {
		t.Errorf("_meta after login = %s, want []", got)
	}
	calls := alpha.CallsTo("op")
	if len(calls) != 1 || calls[0].Token == "" || calls[0].ClientID != s.base+"/.well-known/oauth-client.json" {
		t.Fatalf("upstream saw %+v", calls)
	}
	// The root-form PRM, which muster reads, names the server's base URL as its resource.
	if !contains(calls[0].Audience, alpha.BaseURL()) {
		t.Errorf("token audience %v lacks the RFC 8707 resource %s", calls[0].Audience, alpha.BaseURL())
	}
	// Still callable while hidden, and it opens a new upstream session each time.
	if txt, _ := c.mustCall(t, "x_alpha_authenticate", nil); !strings.HasPrefix(txt, "Successfully connected to alpha!") {
		t.Errorf("authenticate when connected: %q", txt)
	}

	for _, tc := range []struct {
		server, text string
		isError      bool
	}{
		{"alpha", "Server 'alpha' is already authenticated and connected.", false},
		{"pub", "Server 'pub' does not require authentication", true},
	} {
		txt, res := c.mustCall(t, "core_auth_login", map[string]any{"server": tc.server})
		if txt != tc.text || res.IsError != tc.isError {
			t.Errorf("core_auth_login %s = %q (isError %v), want %q (%v)", tc.server, txt, res.IsError, tc.text, tc.isError)
		}
	}
	st := c.readStatus(t)
	if st["alpha"]["status"] != "connected" || st["pub"]["status"] != "connected" || st["alpha"]["issuer"] != idpA.Issuer() {
		t.Errorf("auth://status after login: %v", st)
	}
	if n := idpA.Counters().AuthorizationCode; n != 1 {
		t.Errorf("IdP saw %d code grants, want 1", n)
	}
}

// checkAuthURL checks the authorization URL per parameter (docs/muster-contract.md §4.3).
func checkAuthURL(t *testing.T, raw, base string, issuer *idp.Server, session, server string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(raw, issuer.Issuer()+"/") {
		t.Errorf("auth URL %s is not at the IdP %s", raw, issuer.Issuer())
	}
	q := u.Query()
	want := map[string]string{
		"client_id":             base + "/.well-known/oauth-client.json",
		"redirect_uri":          base + "/oauth/proxy/callback",
		"response_type":         "code",
		"code_challenge_method": "S256",
		"scope":                 "mcp:read",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("auth URL %s = %q, want %q", k, q.Get(k), v)
		}
	}
	if len(q.Get("code_challenge")) != 43 {
		t.Errorf("code_challenge %q is not an S256 challenge", q.Get("code_challenge"))
	}
	b, err := base64.URLEncoding.DecodeString(q.Get("state"))
	if err != nil {
		t.Fatalf("state is not padded base64url: %v", err)
	}
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if st["session_id"] != session || st["server_name"] != server || st["issuer"] != issuer.Issuer() || st["nonce"] == "" || st["created_at"] == nil {
		t.Errorf("state payload %v", st)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestSSO: one login covers every server of that issuer in that session, and nothing else.
func TestSSO(t *testing.T) {
	e := newEnv(t)
	idpA := e.idp("idp-a", idp.Config{})
	idpB := e.idp("idp-b", idp.Config{})
	alpha := e.mcp(idpA, "mcp:read", textTool("op", "a"))
	beta := e.mcp(idpA, "mcp:read", textTool("do_beta", "b"))
	gamma := e.mcp(idpB, "mcp:read", textTool("op", "g"))
	s := startSUT(t, sutOptions{oauth: true, servers: map[string]map[string]any{
		"alpha": httpSpec(alpha.URL()), "beta": httpSpec(beta.URL()), "gamma": httpSpec(gamma.URL()),
	}})
	a := s.connect(t)
	a.login(t, "x_alpha_authenticate", nil, "alpha")

	txt, _ := a.mustCall(t, "x_beta_authenticate", nil)
	if want := fmt.Sprintf(connectedText, "beta", 1, 0, 0); txt != want {
		t.Fatalf("SSO to beta: %q", txt)
	}
	if n := idpA.Counters().Authorize; n != 1 {
		t.Errorf("SSO went through the IdP: %d authorize requests", n)
	}
	a.mustCall(t, "x_alpha_op", nil)
	a.mustCall(t, "x_beta_do_beta", nil)
	if ta, tb := alpha.CallsTo("op"), beta.CallsTo("do_beta"); len(ta) != 1 || len(tb) != 1 || ta[0].Token != tb[0].Token {
		t.Errorf("alpha and beta did not get the same token: %+v %+v", ta, tb)
	}

	// Another issuer: a challenge at that issuer.
	txt, _ = a.mustCall(t, "core_auth_login", map[string]any{"server": "gamma"})
	if !strings.HasPrefix(authURL(t, txt), idpB.Issuer()+"/") {
		t.Errorf("gamma login: %q", txt)
	}
	// Another session: no SSO at all.
	b := s.connect(t)
	txt, _ = b.mustCall(t, "core_auth_login", map[string]any{"server": "beta"})
	checkAuthURL(t, authURL(t, txt), s.base, idpA, b.GetSessionId(), "beta")
	if b.toolNames(t)["x_beta_do_beta"] {
		t.Errorf("session B sees beta's tools")
	}
	if st := b.readStatus(t); st["alpha"]["status"] != "auth_required" || st["alpha"]["auth_tool"] != "x_alpha_authenticate" {
		t.Errorf("session B's auth://status: %v", st)
	}
	if st := a.readStatus(t); st["alpha"]["status"] != "connected" || st["gamma"]["status"] != "auth_required" {
		t.Errorf("session A's auth://status: %v", st)
	}
}

// TestLogout: logout forgets the session's token for the issuer and hides the tools again.
func TestLogout(t *testing.T) {
	e := newEnv(t)
	idpA := e.idp("idp-a", idp.Config{})
	alpha := e.mcp(idpA, "mcp:read", textTool("op", "a"))
	s := startSUT(t, sutOptions{oauth: true, servers: map[string]map[string]any{"alpha": httpSpec(alpha.URL())}})
	c := s.connect(t)
	c.login(t, "core_auth_login", map[string]any{"server": "alpha"}, "alpha")
	before := c.listChanges()
	if txt, _ := c.mustCall(t, "core_auth_logout", map[string]any{"server": "alpha"}); txt != "Successfully logged out from alpha." {
		t.Errorf("logout: %q", txt)
	}
	waitFor(t, "tools/list_changed after logout", 5*time.Second, func() bool { return c.listChanges() > before })
	if tools := c.toolNames(t); tools["x_alpha_op"] || !tools["x_alpha_authenticate"] {
		t.Errorf("tools after logout: %v", tools)
	}
	if e, _ := c.rawCall(t, "x_alpha_op"); e == nil || e.Code != -32603 || e.Message != "not authenticated to server alpha" {
		t.Errorf("call after logout: %+v", e)
	}
	txt, res := c.mustCall(t, "core_auth_login", map[string]any{"server": "alpha"})
	authURL(t, txt)
	if got := authMeta(res); !strings.Contains(got, `"server":"alpha"`) {
		t.Errorf("_meta after logout: %s", got)
	}
}

// TestNaming: muster's prefix rule, toolPrefix, and definitions passed through.
func TestNaming(t *testing.T) {
	e := newEnv(t)
	schema := map[string]any{"type": "object", "properties": map[string]any{"n": map[string]any{"type": "number"}}, "required": []any{"n"}}
	pub := e.mcp(nil, "", mcpserver.ToolConfig{Name: "pub_op", Description: "already prefixed", InputSchema: schema}, textTool("do_pub", "x"))
	other := e.mcp(nil, "", textTool("thing", "y"))
	spec := httpSpec(other.URL())
	spec["toolPrefix"] = "pp"
	s := startSUT(t, sutOptions{servers: map[string]map[string]any{"pub": httpSpec(pub.URL()), "other": spec}})
	c := s.connect(t)
	res, err := c.ListTools(t.Context(), mcpListTools())
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]string{}
	for _, tool := range res.Tools {
		b, _ := json.Marshal(tool)
		byName[tool.Name] = string(b)
	}
	for _, want := range []string{"x_pub_op", "x_pub_do_pub", "x_pp_thing"} {
		if byName[want] == "" {
			t.Errorf("%s missing: %v", want, byName)
		}
	}
	if byName["x_pub_pub_op"] != "" || byName["x_other_thing"] != "" {
		t.Errorf("wrong prefixing: %v", byName)
	}
	if d := byName["x_pub_op"]; !strings.Contains(d, `"description":"already prefixed"`) || !strings.Contains(d, `"required":["n"]`) {
		t.Errorf("definition not passed through: %s", d)
	}
	if d := byName["core_mcpserver_list"]; !strings.Contains(d, `"annotations":{}`) {
		t.Errorf("core tool annotations: %s", d)
	}
}

// TestUpstreamToolChanges: tools/list_changed from an upstream reaches the aggregated list,
// for every session (public server) or for the sessions connected to it (protected server).
func TestUpstreamToolChanges(t *testing.T) {
	e := newEnv(t)
	idpA := e.idp("idp-a", idp.Config{})
	pub := e.mcp(nil, "", textTool("do_pub", "x"))
	alpha := e.mcp(idpA, "mcp:read", textTool("op", "a"))
	s := startSUT(t, sutOptions{oauth: true, servers: map[string]map[string]any{"pub": httpSpec(pub.URL()), "alpha": httpSpec(alpha.URL())}})
	a, b := s.connect(t), s.connect(t)
	a.login(t, "x_alpha_authenticate", nil, "alpha")

	shows := func(c *mcpClient, name string, want bool) func() bool {
		return func() bool { return c.toolNames(t)[name] == want }
	}
	if err := pub.AddTool(textTool("fresh", "new")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "x_pub_fresh in session A", 5*time.Second, shows(a, "x_pub_fresh", true))
	waitFor(t, "x_pub_fresh in session B", 5*time.Second, shows(b, "x_pub_fresh", true))
	if txt, _ := b.mustCall(t, "x_pub_fresh", nil); txt != "new" {
		t.Errorf("new public tool: %q", txt)
	}
	pub.RemoveTool("do_pub")
	waitFor(t, "x_pub_do_pub gone", 5*time.Second, shows(b, "x_pub_do_pub", false))

	if err := alpha.AddTool(textTool("later", "l")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "x_alpha_later in session A", 5*time.Second, shows(a, "x_alpha_later", true))
	if txt, _ := a.mustCall(t, "x_alpha_later", nil); txt != "l" {
		t.Errorf("new protected tool: %q", txt)
	}
	if b.toolNames(t)["x_alpha_later"] {
		t.Errorf("session B sees a protected tool it never connected")
	}
}
