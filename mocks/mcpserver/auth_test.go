package mcpserver_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/mocks/mcpserver"
	"github.com/muster-test/muster-test/mocks/mcpserver/authtest"
)

func authtestGrant(subject string, scopes ...string) authtest.Grant {
	return authtest.Grant{Subject: subject, Scopes: scopes, ClientID: "test-client", Audience: []string{"mcp-api"}}
}

func protectedConfig(t testing.TB, typ string, a mcpserver.Authority, scope, audience string) mcpserver.Config {
	cfg := parseYAMLConfig(t, testTools)
	cfg.Type = typ
	cfg.Authority = a
	cfg.OAuth = mcpserver.OAuthConfig{Required: true, MockOAuthServerRef: "idp", Scope: scope, Audience: audience}
	return cfg
}

// TestUnauthorizedChallenge checks the 401 answer to every kind of bad or missing token,
// on every protected path, header parameters parsed.
func TestUnauthorizedChallenge(t *testing.T) {
	a := newAuthority(t)
	foreign, err := a.MintForeignJWT(authtestGrant("mallory", "mcp:read"))
	if err != nil {
		t.Fatal(err)
	}
	wrongIssuer, err := a.MintJWT(authtest.Grant{Subject: "eve", Scopes: []string{"mcp:read"}, Issuer: "http://elsewhere"})
	if err != nil {
		t.Fatal(err)
	}
	for _, typ := range []string{mcpserver.TypeStreamableHTTP, mcpserver.TypeSSE} {
		for _, scope := range []string{"mcp:read", ""} {
			s := startServer(t, protectedConfig(t, typ, a, scope, ""))
			endpoint := strings.TrimPrefix(s.URL(), s.BaseURL())
			wantPRM := s.BaseURL() + "/.well-known/oauth-protected-resource" + endpoint
			if s.PRMURL() != wantPRM {
				t.Errorf("PRMURL() = %q, want %q", s.PRMURL(), wantPRM)
			}
			requests := []struct {
				name, method, path, auth string
			}{
				{"no header", http.MethodPost, endpoint, ""},
				{"basic scheme", http.MethodPost, endpoint, "Basic dXNlcjpwYXNz"},
				{"garbage token", http.MethodPost, endpoint, "Bearer not-a-token"},
				{"foreign signature", http.MethodPost, endpoint, "Bearer " + foreign},
				{"wrong issuer", http.MethodPost, endpoint, "Bearer " + wrongIssuer},
				{"GET without token", http.MethodGet, endpoint, ""},
				{"DELETE without token", http.MethodDelete, endpoint, ""},
				{"unknown path", http.MethodGet, "/other", ""},
			}
			if typ == mcpserver.TypeSSE {
				requests = append(requests, struct{ name, method, path, auth string }{"message endpoint", http.MethodPost, "/message?sessionId=x", ""})
			}
			for _, r := range requests {
				t.Run(typ+"/scope="+scope+"/"+r.name, func(t *testing.T) {
					req, _ := http.NewRequest(r.method, s.BaseURL()+r.path, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
					req.Header.Set("Content-Type", "application/json")
					if r.auth != "" {
						req.Header.Set("Authorization", r.auth)
					}
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					if resp.StatusCode != http.StatusUnauthorized {
						t.Fatalf("status %d, want 401", resp.StatusCode)
					}
					ch, err := parseChallenge(resp.Header.Get("WWW-Authenticate"))
					if err != nil {
						t.Fatal(err)
					}
					if ch.scheme != "Bearer" || ch.params["resource_metadata"] != wantPRM ||
						ch.params["error"] != "invalid_token" || ch.params["error_description"] == "" {
						t.Errorf("challenge %+v", ch)
					}
					if got, has := ch.params["scope"]; (scope != "") != has || got != scope {
						t.Errorf("scope param %q (present %v), want %q", got, has, scope)
					}
				})
			}
		}
	}
}

// TestAuthorizationRequiredErrorForClient: an mcp-go client without a token learns the
// metadata URL from the 401.
func TestAuthorizationRequiredErrorForClient(t *testing.T) {
	s := startServer(t, protectedConfig(t, mcpserver.TypeStreamableHTTP, newAuthority(t), "mcp:read", ""))
	_, err := connect(t, legacyHTTP, s.URL(), nil)
	are, ok := isAuthRequired(err)
	if !ok {
		t.Fatalf("connect error %v, want AuthorizationRequiredError", err)
	}
	if are.ResourceMetadataURL != s.PRMURL() {
		t.Errorf("resource metadata %q, want %q", are.ResourceMetadataURL, s.PRMURL())
	}
}

// TestProtectedResourceMetadata reads every PRM location, without a token, and compares
// the whole document.
func TestProtectedResourceMetadata(t *testing.T) {
	a := newAuthority(t)
	for _, typ := range []string{mcpserver.TypeStreamableHTTP, mcpserver.TypeSSE} {
		for _, scope := range []string{"mcp:read", ""} {
			s := startServer(t, protectedConfig(t, typ, a, scope, ""))
			wantScopes := []any{"mcp:read"}
			if scope == "" {
				wantScopes = []any{"openid", "profile", "mcp:read"}
			}
			endpoint := strings.TrimPrefix(s.URL(), s.BaseURL())
			locations := map[string]string{
				s.PRMURL(): s.URL(),
				s.BaseURL() + "/.well-known/oauth-protected-resource": s.BaseURL(),
			}
			if typ == mcpserver.TypeSSE {
				locations[s.BaseURL()+endpoint+"/.well-known/oauth-protected-resource"] = s.URL()
			}
			for loc, resource := range locations {
				t.Run(typ+"/scope="+scope+"/"+loc, func(t *testing.T) {
					resp, err := http.Get(loc)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						t.Fatalf("status %d", resp.StatusCode)
					}
					var doc map[string]any
					if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
						t.Fatal(err)
					}
					want := map[string]any{
						"resource":                 resource,
						"authorization_servers":    []any{a.Issuer()},
						"scopes_supported":         wantScopes,
						"bearer_methods_supported": []any{"header"},
					}
					if !reflect.DeepEqual(doc, want) {
						t.Errorf("PRM\n got  %v\n want %v", doc, want)
					}
				})
			}
		}
	}
	t.Run("unprotected server has none", func(t *testing.T) {
		s := startServer(t, parseYAMLConfig(t, testTools))
		resp, err := http.Get(s.BaseURL() + "/.well-known/oauth-protected-resource")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || s.PRMURL() != "" {
			t.Errorf("status %d, PRMURL %q", resp.StatusCode, s.PRMURL())
		}
	})
}

// TestTokenAcceptance covers scope and audience decisions with raw requests, so that the
// status and header are seen as sent.
func TestTokenAcceptance(t *testing.T) {
	a := newAuthority(t)
	cases := []struct {
		name       string
		scope      string
		audience   string
		grant      authtest.Grant
		opaque     bool
		wantStatus int
		wantError  string
	}{
		{"jwt with scope", "mcp:read", "", authtestGrant("alice", "openid", "mcp:read"), false, 200, ""},
		{"opaque with scope", "mcp:read", "", authtestGrant("alice", "mcp:read"), true, 200, ""},
		{"jwt without scope", "mcp:read", "", authtestGrant("alice", "openid"), false, 403, "insufficient_scope"},
		{"opaque without scope", "mcp:read", "", authtestGrant("alice", "openid"), true, 403, "insufficient_scope"},
		{"two scopes required, one held", "mcp:read mcp:write", "", authtestGrant("alice", "mcp:read"), false, 403, "insufficient_scope"},
		{"two scopes required, both held", "mcp:read mcp:write", "", authtestGrant("alice", "mcp:write", "mcp:read"), false, 200, ""},
		{"audience matches", "", "mcp-api", authtestGrant("alice"), false, 200, ""},
		{"audience mismatch jwt", "", "other-api", authtestGrant("alice"), false, 401, "invalid_token"},
		{"audience mismatch opaque", "", "other-api", authtestGrant("alice"), true, 401, "invalid_token"},
		{"no audience in token", "", "mcp-api", authtest.Grant{Subject: "alice"}, false, 401, "invalid_token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, protectedConfig(t, mcpserver.TypeStreamableHTTP, a, tc.scope, tc.audience))
			tok := a.MintOpaque(tc.grant)
			if !tc.opaque {
				var err error
				if tok, err = a.MintJWT(tc.grant); err != nil {
					t.Fatal(err)
				}
			}
			resp := rawInitialize(t, s.URL(), tok)
			if resp.StatusCode != tc.wantStatus {
				body, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tc.wantStatus, body)
			}
			if tc.wantStatus == 200 {
				if resp.Header.Get("Mcp-Session-Id") == "" {
					t.Error("initialize answered without a session id")
				}
				return
			}
			ch, err := parseChallenge(resp.Header.Get("WWW-Authenticate"))
			if err != nil {
				t.Fatal(err)
			}
			if ch.scheme != "Bearer" || ch.params["error"] != tc.wantError {
				t.Errorf("challenge %+v, want error %s", ch, tc.wantError)
			}
			if tc.wantStatus == 403 && ch.params["scope"] != tc.scope {
				t.Errorf("scope param %q, want %q", ch.params["scope"], tc.scope)
			}
			if tc.wantStatus == 401 && ch.params["resource_metadata"] != s.PRMURL() {
				t.Errorf("resource_metadata %q", ch.params["resource_metadata"])
			}
		})
	}
}

// TestJWTIssuer: RFC 9068 requires iss in a JWT access token, so a token without one is
// refused even though the authority's key verifies it and introspection knows it.
func TestJWTIssuer(t *testing.T) {
	a := newAuthority(t)
	s := startServer(t, protectedConfig(t, mcpserver.TypeStreamableHTTP, a, "", ""))
	cases := []struct {
		name       string
		extra      map[string]any
		issuer     string
		wantStatus int
		wantDesc   string
	}{
		{"authority's issuer", nil, "", 200, ""},
		{"issuer with trailing slash", nil, a.Issuer() + "/", 200, ""},
		{"no iss claim", map[string]any{"iss": nil}, "", 401, "no iss claim"},
		{"empty iss claim", map[string]any{"iss": ""}, "", 401, "no iss claim"},
		{"another issuer", nil, "http://elsewhere", 401, "http://elsewhere"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := authtestGrant("alice", "mcp:read")
			g.Issuer, g.Extra = tc.issuer, tc.extra
			tok, err := a.MintJWT(g)
			if err != nil {
				t.Fatal(err)
			}
			resp := rawInitialize(t, s.URL(), tok)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if tc.wantStatus == 200 {
				return
			}
			ch, err := parseChallenge(resp.Header.Get("WWW-Authenticate"))
			if err != nil {
				t.Fatal(err)
			}
			if ch.params["error"] != "invalid_token" || !strings.Contains(ch.params["error_description"], tc.wantDesc) {
				t.Errorf("challenge %+v, want invalid_token mentioning %q", ch.params, tc.wantDesc)
			}
		})
	}
}

// TestTokenLifecycle: a session keeps working until the token expires on the authority's
// clock or is revoked; then every request gets 401, and a fresh token works again.
func TestTokenLifecycle(t *testing.T) {
	cases := []struct {
		name            string
		opaque          bool
		revoke          bool
		rotate          bool
		lenientIntrospc bool // introspection says active: the server must judge expiry itself
	}{
		{name: "jwt signing key rotated away", opaque: false, rotate: true},
		{name: "jwt expires", opaque: false},
		{name: "jwt expires, introspection ignores expiry", opaque: false, lenientIntrospc: true},
		{name: "opaque expires", opaque: true},
		{name: "opaque expires, introspection ignores expiry", opaque: true, lenientIntrospc: true},
		{name: "jwt revoked", opaque: false, revoke: true},
		{name: "opaque revoked", opaque: true, revoke: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := newAuthority(t)
			a.IntrospectionIgnoresExpiry(tc.lenientIntrospc)
			s := startServer(t, protectedConfig(t, mcpserver.TypeStreamableHTTP, a, "mcp:read", ""))
			mint := func() string {
				g := authtestGrant("alice", "mcp:read")
				g.Lifetime = time.Minute
				if tc.opaque {
					return a.MintOpaque(g)
				}
				tok, err := a.MintJWT(g)
				if err != nil {
					t.Fatal(err)
				}
				return tok
			}
			tok := &bearer{}
			first := mint()
			tok.set(first)
			c := mustConnect(t, legacyHTTP, s.URL(), tok)
			if text, isErr := mustCall(t, c, "greet", nil); isErr || text != "hello world" {
				t.Fatalf("before: %q %v", text, isErr)
			}
			a.Advance(30 * time.Second)
			if _, isErr := mustCall(t, c, "greet", nil); isErr {
				t.Fatal("call failed inside the lifetime")
			}
			switch {
			case tc.revoke:
				a.Revoke(first)
			case tc.rotate:
				if err := a.RotateKey(); err != nil {
					t.Fatal(err)
				}
			default:
				a.Advance(31 * time.Second)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, _, err := call(ctx, c, "greet", nil)
			if _, ok := isAuthRequired(err); !ok {
				t.Fatalf("after: error %v, want 401", err)
			}
			resp := rawInitialize(t, s.URL(), first)
			ch, _ := parseChallenge(resp.Header.Get("WWW-Authenticate"))
			if resp.StatusCode != 401 || ch.params["error"] != "invalid_token" {
				t.Errorf("raw after: %d %+v", resp.StatusCode, ch)
			}
			// A token minted on the advanced clock is not born expired.
			tok.set(mint())
			if text, isErr := mustCall(t, c, "greet", nil); isErr || text != "hello world" {
				t.Fatalf("with a new token: %q %v", text, isErr)
			}
		})
	}
}

// TestCallerIdentity: the call log and echo_token report what the token said.
func TestCallerIdentity(t *testing.T) {
	a := newAuthority(t)
	for _, typ := range []string{mcpserver.TypeStreamableHTTP, mcpserver.TypeSSE} {
		t.Run(typ, func(t *testing.T) {
			s := startServer(t, protectedConfig(t, typ, a, "mcp:read", "mcp-api"))
			c, jwt := connectAsAlice(t, a, typ, s)
			text, isErr := mustCall(t, c, "whoami", map[string]any{"x": 1})
			if isErr {
				t.Fatal(text)
			}
			jsonEqual(t, text, map[string]any{
				"response":  map[string]any{"ok": true},
				"token":     jwt,
				"subject":   "alice",
				"scopes":    []string{"openid", "mcp:read"},
				"audience":  []string{"mcp-api"},
				"client_id": "test-client",
			})
			calls := s.CallsTo("whoami")
			if len(calls) != 1 {
				t.Fatalf("calls %+v", calls)
			}
			got := calls[0]
			if got.Subject != "alice" || got.Token != jwt || got.ClientID != "test-client" ||
				!slices.Equal(got.Scopes, []string{"openid", "mcp:read"}) || !slices.Equal(got.Audience, []string{"mcp-api"}) ||
				got.Arguments["x"] != float64(1) || got.Time.IsZero() {
				t.Errorf("call %+v", got)
			}
		})
	}
}

func TestEchoTokenUnprotected(t *testing.T) {
	s := startServer(t, parseYAMLConfig(t, testTools))
	c := mustConnect(t, legacyHTTP, s.URL(), &bearer{tok: "forwarded-token"})
	text, _ := mustCall(t, c, "whoami", nil)
	jsonEqual(t, text, map[string]any{"response": map[string]any{"ok": true}, "token": "forwarded-token",
		"subject": "", "scopes": []string{}, "audience": []string{}})
}

func TestStartErrors(t *testing.T) {
	cases := map[string]mcpserver.Config{
		"stdio type":              {Type: mcpserver.TypeStdio},
		"unknown type":            {Type: "websocket"},
		"protected, no authority": {OAuth: mcpserver.OAuthConfig{Required: true}},
		"duplicate tools":         {Tools: []mcpserver.ToolConfig{{Name: "a"}, {Name: "a"}}},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			if s, err := mcpserver.Start(context.Background(), cfg); err == nil {
				_ = s.Close()
				t.Fatal("Start succeeded")
			}
		})
	}
}

// TestForeignHostRefused: a mock on loopback refuses a request naming another host (DNS
// rebinding) on every route, the metadata documents included, before any auth answer.
func TestForeignHostRefused(t *testing.T) {
	a := newAuthority(t)
	for _, typ := range []string{mcpserver.TypeStreamableHTTP, mcpserver.TypeSSE} {
		s := startServer(t, protectedConfig(t, typ, a, "mcp:read", ""))
		for _, u := range []string{s.URL(), s.PRMURL(), s.BaseURL() + "/.well-known/oauth-protected-resource"} {
			for host, want := range map[string]int{"evil.example": http.StatusForbidden, "localhost": http.StatusOK} {
				req, _ := http.NewRequest(http.MethodGet, u, nil)
				base, _ := url.Parse(s.BaseURL())
				req.Host = host + ":" + base.Port()
				if u == s.URL() && want == http.StatusOK {
					want = http.StatusUnauthorized // no token
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Errorf("%s: GET %s with Host %s: status %d, want %d", typ, u, req.Host, resp.StatusCode, want)
				}
			}
		}
	}
}
