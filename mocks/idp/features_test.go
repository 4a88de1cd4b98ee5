package idp

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"
)

// consentForm fetches the consent page and returns the form's fields as a browser would
// submit them (hidden and text inputs; the button is the caller's choice).
func consentForm(t *testing.T, s *Server, authURL string) url.Values {
	t.Helper()
	return consentFormIn(t, httpClient(s), authURL)
}

// consentFormIn is consentForm in browser c (whose cookie jar, if any, keeps the IdP's cookies).
func consentFormIn(t *testing.T, c *http.Client, authURL string) url.Values {
	t.Helper()
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatalf("GET authorize: %v", err)
	}
	res := readAuthorize(t, resp)
	if res.status != http.StatusOK || res.location != nil {
		t.Fatalf("consent page: status %d location %v", res.status, res.location)
	}
	doc, err := html.Parse(strings.NewReader(res.body))
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{}
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" {
			attrs := map[string]string{}
			for _, a := range n.Attr {
				attrs[a.Key] = a.Val
			}
			form.Add(attrs["name"], attrs["value"])
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return form
}

func postConsent(t *testing.T, s *Server, form url.Values) authorizeResult {
	t.Helper()
	return postConsentIn(t, httpClient(s), s, form)
}

func postConsentIn(t *testing.T, c *http.Client, s *Server, form url.Values) authorizeResult {
	t.Helper()
	resp, err := c.PostForm(s.URL()+"/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	return readAuthorize(t, resp)
}

func TestConsentPage(t *testing.T) {
	s := startIdP(t, Config{Users: aliceUsers})
	cfg := publicCfg(s)
	v := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("resource", testResource))

	t.Run("approve as alice", func(t *testing.T) {
		form := consentForm(t, s, authURL)
		if form.Get(FieldSubject) != DefaultSubject || form.Get("code_challenge") == "" || form.Get("resource") != testResource ||
			form.Has(FieldCSRF) {
			t.Fatalf("form fields = %v", form)
		}
		form.Set(FieldSubject, "alice")
		form.Set(FieldAction, ActionAllow)
		res := postConsent(t, s, form)
		if res.param("code") == "" || res.param("state") != "state-12345678" {
			t.Fatalf("approve: %d %v", res.status, res.location)
		}
		tok, err := cfg.Exchange(clientCtx(s), res.param("code"), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		if in := mustIntrospect(t, s, tok.AccessToken); in.Subject != "alice" || !slices.Equal(in.Audience, []string{testResource}) {
			t.Errorf("introspection = %+v", in)
		}
	})
	t.Run("deny", func(t *testing.T) {
		form := consentForm(t, s, authURL)
		form.Set(FieldAction, ActionDeny)
		res := postConsent(t, s, form)
		if res.param("error") != "access_denied" || res.param("state") != "state-12345678" || res.param("code") != "" {
			t.Errorf("deny: %d %v", res.status, res.location)
		}
	})
	t.Run("login_hint picks the subject", func(t *testing.T) {
		form := consentForm(t, s, cfg.AuthCodeURL("state-12345678", oauth2.SetAuthURLParam("login_hint", "alice")))
		if form.Get(FieldSubject) != "alice" {
			t.Errorf("subject field = %q", form.Get(FieldSubject))
		}
	})
}

func TestDenyNext(t *testing.T) {
	s := startIdP(t, Config{AutoApprove: true})
	s.DenyNext()
	res := getAuthorize(t, s, publicCfg(s).AuthCodeURL("state-12345678"))
	if res.param("error") != "access_denied" || res.param("state") != "state-12345678" {
		t.Fatalf("denied: %d %v", res.status, res.location)
	}
	if res := getAuthorize(t, s, publicCfg(s).AuthCodeURL("state-12345678")); res.param("code") == "" {
		t.Errorf("DenyNext denied more than once: %v", res.location)
	}
}

func TestSimulateError(t *testing.T) {
	cases := []struct {
		simulate    string
		status      int
		code        string
		description string
	}{
		{"invalid_grant", 400, "invalid_grant", ""},
		{"invalid_client", 401, "invalid_client", ""},
		{"temporarily_unavailable", 503, "temporarily_unavailable", ""},
		{"server_error", 500, "server_error", ""},
		{"the database is on fire", 500, "server_error", "the database is on fire"},
	}
	for _, c := range cases {
		t.Run(c.simulate, func(t *testing.T) {
			s := startIdP(t, Config{ClientSecret: "x", SimulateError: c.simulate})
			got := postForm(t, s, "/token", url.Values{"grant_type": {"client_credentials"}}, "test-client", "x")
			if got.status != c.status || got.code != c.code {
				t.Errorf("got %d %q, want %d %q", got.status, got.code, c.status, c.code)
			}
			if c.description != "" && got.body["error_description"] != c.description {
				t.Errorf("description = %v", got.body["error_description"])
			}
			if n := s.Counters().Token; n != 1 {
				t.Errorf("token count = %d", n)
			}
		})
	}
}

func TestFaultPlan(t *testing.T) {
	s := startIdP(t, Config{ClientSecret: "x"})
	cc := url.Values{"grant_type": {"client_credentials"}}
	s.InjectFault(Fault{Endpoint: EndpointToken, OAuthError: "temporarily_unavailable", Times: 2})
	for i := range 2 {
		if got := postForm(t, s, "/token", cc, "test-client", "x"); got.status != 503 || got.code != "temporarily_unavailable" {
			t.Fatalf("faulted request %d: %+v", i, got)
		}
	}
	if got := postForm(t, s, "/token", cc, "test-client", "x"); got.status != 200 {
		t.Fatalf("after the plan: %+v", got)
	}
	s.InjectFault(Fault{Endpoint: EndpointIntrospect, Status: 502})
	if got := postForm(t, s, "/introspect", url.Values{"token": {"x"}}, "test-client", "x"); got.status != 502 || got.code != "server_error" {
		t.Errorf("status fault: %+v", got)
	}
	const latency = 150 * time.Millisecond
	s.InjectFault(Fault{Endpoint: EndpointToken, Latency: latency})
	start := time.Now()
	got := postForm(t, s, "/token", cc, "test-client", "x")
	if took := time.Since(start); got.status != 200 || took < latency {
		t.Errorf("latency fault: status %d after %v", got.status, took)
	}
	if c := s.Counters(); c.Token != 4 || c.ClientCredentials != 4 || c.Introspect != 1 {
		t.Errorf("counters = %+v", c)
	}
}

func TestTLS(t *testing.T) {
	s := startIdP(t, Config{UseTLS: true, AutoApprove: true})
	if !strings.HasPrefix(s.Issuer(), "https://localhost:") || len(s.CACertPEM()) == 0 {
		t.Fatalf("issuer %q, CA %d bytes", s.Issuer(), len(s.CACertPEM()))
	}
	status, meta := getJSON(t, s, "/.well-known/oauth-authorization-server", "")
	if status != 200 || meta["issuer"] != s.Issuer() {
		t.Fatalf("metadata over TLS: %d %v", status, meta)
	}
	for _, host := range []string{"127.0.0.1", "[::1]"} {
		u := strings.Replace(s.URL(), "localhost", host, 1)
		resp, err := httpClient(s).Get(u + "/jwks")
		if host == "[::1]" && err != nil && strings.Contains(err.Error(), "connect") {
			continue // the server listens on 127.0.0.1 only
		}
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		resp.Body.Close()
	}
	_ = codeTokens(t, s)
	plain := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{}}}
	_, err := plain.Get(s.URL() + "/jwks")
	var unknown interface{ Error() string }
	if err == nil || !errors.As(err, &unknown) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client without the CA connected: %v", err)
	}
}

func TestJWTAccessToken(t *testing.T) {
	s := startIdP(t, Config{SignTokens: true, AutoApprove: true, Users: aliceUsers})
	tok := codeTokens(t, s, oauth2.SetAuthURLParam("resource", testResource), oauth2.SetAuthURLParam("login_hint", "alice"))
	jws, err := jose.ParseSigned(tok.AccessToken)
	if err != nil {
		t.Fatalf("access token is not a JWS: %v", err)
	}
	h := jws.Signatures[0].Header
	if h.ExtraHeaders["typ"] != "at+jwt" || h.KeyID == "" || h.Algorithm != "RS256" {
		t.Errorf("header = %+v", h)
	}
	claims := verifyJWT(t, s, tok.AccessToken)
	for _, k := range []string{"iss", "sub", "aud", "client_id", "scope", "exp", "iat", "jti"} {
		if _, ok := claims[k]; !ok {
			t.Errorf("claim %s missing: %v", k, claims)
		}
	}
	if claims["iss"] != s.Issuer() || claims["sub"] != "alice" || claims["client_id"] != "test-client" ||
		claims["scope"] != "openid" || claims["tenant"] != "wonderland" {
		t.Errorf("claims = %v", claims)
	}
	if aud, _ := claims["aud"].([]any); len(aud) != 1 || aud[0] != testResource {
		t.Errorf("aud = %v", claims["aud"])
	}
	if in := mustIntrospect(t, s, tok.AccessToken); !in.Active || in.Subject != "alice" {
		t.Errorf("introspection = %+v", in)
	}
	// A token whose payload was altered keeps its storage signature but must not verify.
	parts := strings.Split(tok.AccessToken, ".")
	forged := parts[0] + "." + strings.TrimRight(parts[1], "=") + "x." + parts[2]
	if in := mustIntrospect(t, s, forged); in.Active {
		t.Error("a tampered JWT introspected as active")
	}
	// Refresh issues a new JWT with a new jti.
	r := refresh(t, s, tok.RefreshToken)
	if r.status != 200 {
		t.Fatalf("refresh: %+v", r)
	}
	if c2 := verifyJWT(t, s, r.body["access_token"].(string)); c2["jti"] == claims["jti"] || c2["sub"] != "alice" {
		t.Errorf("refreshed claims = %v", c2)
	}
}

func TestMetadataDocuments(t *testing.T) {
	s := startIdP(t, Config{Scopes: []string{"openid", "mcp:read"}})
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		status, m := getJSON(t, s, path, "")
		if status != 200 {
			t.Fatalf("%s: %d", path, status)
		}
		want := map[string]string{
			"issuer": s.Issuer(), "authorization_endpoint": s.Issuer() + "/authorize", "token_endpoint": s.Issuer() + "/token",
			"introspection_endpoint": s.Issuer() + "/introspect", "revocation_endpoint": s.Issuer() + "/revoke",
			"registration_endpoint": s.Issuer() + "/register", "userinfo_endpoint": s.Issuer() + "/userinfo",
			"jwks_uri": s.Issuer() + "/jwks",
		}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("%s: %s = %v, want %s", path, k, m[k], v)
			}
		}
		if m["client_id_metadata_document_supported"] != true || !jsonHas(m["code_challenge_methods_supported"], "S256") ||
			jsonHas(m["code_challenge_methods_supported"], "plain") || !jsonHas(m["scopes_supported"], "mcp:read") ||
			!jsonHas(m["grant_types_supported"], grantTokenExchange) || !jsonHas(m["token_endpoint_auth_methods_supported"], "none") {
			t.Errorf("%s = %v", path, m)
		}
	}
	if !strings.HasPrefix(s.Issuer(), "http://localhost:") {
		t.Errorf("default issuer %q", s.Issuer())
	}
}

func jsonHas(v any, s string) bool {
	list, _ := v.([]any)
	return slices.Contains(list, any(s))
}

func TestClockAdvance(t *testing.T) {
	const life = 30 * time.Minute
	s := startIdP(t, Config{UseMockClock: true, TokenLifetime: life, RefreshTokenLifetime: 2 * time.Hour, AutoApprove: true, ClientSecret: "x"})
	c := s.Clock()
	t0 := c.Now()
	if c2 := c.Now(); !c2.Equal(t0) {
		t.Fatal("the mock clock moved by itself")
	}
	old := codeTokens(t, s)
	c.Advance(11 * time.Minute)
	if !c.Now().Equal(t0.Add(11 * time.Minute)) {
		t.Fatalf("Advance: %v -> %v", t0, c.Now())
	}
	// Born after the advance: lives the full lifetime from the advanced time.
	got := postForm(t, s, "/token", url.Values{"grant_type": {"client_credentials"}}, "test-client", "x")
	if ei, _ := got.body["expires_in"].(float64); time.Duration(ei)*time.Second != life {
		t.Errorf("expires_in = %v, want %v", got.body["expires_in"], life)
	}
	born := got.body["access_token"].(string)
	in := mustIntrospect(t, s, born)
	if d := in.ExpiresAt.Sub(c.Now()); d < life-time.Second || d > life {
		t.Errorf("new token expires %v after the advanced now, want %v", d, life)
	}
	if !in.IssuedAt.Equal(c.Now().Truncate(time.Second)) {
		t.Errorf("iat %v, want the advanced now %v", in.IssuedAt, c.Now())
	}
	// The old token is now past its lifetime (fosite rounds expiry to the second).
	c.Advance(life - 11*time.Minute + time.Second)
	if mustIntrospect(t, s, old.AccessToken).Active {
		t.Error("old token active after its lifetime")
	}
	if !mustIntrospect(t, s, born).Active {
		t.Error("token born after the advance expired early")
	}
	if n := s.Counters().TokensActive; n != 1 {
		t.Errorf("tokens active = %d, want 1", n)
	}
	// The refresh token outlives the access token: it has its own lifetime.
	if r := refresh(t, s, old.RefreshToken); r.status != 200 {
		t.Errorf("refresh within refresh lifetime: %+v", r)
	}
	c.Advance(time.Hour)
	if mustIntrospect(t, s, born).Active {
		t.Error("token active after its lifetime")
	}
}

func TestRevokeAllAndInjectToken(t *testing.T) {
	s := startIdP(t, Config{AutoApprove: true, UseMockClock: true})
	tok := codeTokens(t, s)
	issued, err := s.IssueToken(context.Background(), IssueOptions{Subject: "bob", Scopes: []string{"mcp:read"}, Audience: []string{testResource}, Lifetime: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.InjectToken("my-literal-token", InjectOptions{Subject: "carol", Scopes: []string{"mcp:read"}, ExpiresIn: 90 * time.Second}); err != nil {
		t.Fatal(err)
	}
	in := mustIntrospect(t, s, "my-literal-token")
	if !in.Active || in.Subject != "carol" || !slices.Equal(in.Scope, []string{"mcp:read"}) || !in.ExpiresAt.Equal(s.Clock().Now().Add(90*time.Second).Truncate(time.Second)) {
		t.Errorf("injected = %+v", in)
	}
	if in := mustIntrospect(t, s, issued.AccessToken); !in.Active || in.Subject != "bob" || !slices.Equal(in.Audience, []string{testResource}) {
		t.Errorf("issued = %+v", in)
	}
	if mustIntrospect(t, s, "my-literal-token-not").Active {
		t.Error("an unknown string is active")
	}
	if c := s.Counters(); c.TokensActive != 3 || c.TokensIssued != 3 {
		t.Errorf("counters = %+v", c)
	}
	// 3 access tokens and 1 refresh token were active.
	if n := s.RevokeAll(); n != 4 {
		t.Errorf("RevokeAll = %d, want 4", n)
	}
	for _, tk := range []string{tok.AccessToken, issued.AccessToken, "my-literal-token"} {
		if mustIntrospect(t, s, tk).Active {
			t.Errorf("%s active after RevokeAll", tk)
		}
	}
	if r := refresh(t, s, tok.RefreshToken); r.code != "invalid_grant" {
		t.Errorf("refresh after RevokeAll: %+v", r)
	}
	if n := s.Counters().TokensActive; n != 0 {
		t.Errorf("tokens active after RevokeAll = %d", n)
	}
}

func TestConfigFromYAML(t *testing.T) {
	good := `
name: mock-idp
issuer: http://localhost:9999
scopes: [openid, mcp:read]
auto_approve: true
pkce_required: true
token_lifetime: 90s
refresh_token_lifetime: 2h
client_id: c
client_secret: s
simulate_error: invalid_grant
use_mock_clock: true
use_tls: false
sign_tokens: true
registration: closed
users:
  - subject: alice
    claims: {tenant: acme}
`
	cfg, err := ConfigFromYAML([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Name != "mock-idp" || cfg.TokenLifetime != 90*time.Second || cfg.RefreshTokenLifetime != 2*time.Hour ||
		!cfg.AutoApprove || !cfg.PKCERequired || !cfg.SignTokens || !cfg.UseMockClock || cfg.ClientSecret != "s" ||
		cfg.Registration != RegistrationClosed || len(cfg.Users) != 1 || cfg.Users[0].Claims["tenant"] != "acme" || !slices.Equal(cfg.Scopes, []string{"openid", "mcp:read"}) {
		t.Errorf("cfg = %+v", cfg)
	}
	bad := map[string]string{
		"unknown key":       "name: x\ntoken_lifetyme: 1h\n",
		"bad duration":      "name: x\ntoken_lifetime: 1 hour\n",
		"negative duration": "name: x\nrefresh_token_lifetime: -1h\n",
		"runtime-only key":  "name: x\nport: 80\n",
		"user sans subject": "name: x\nusers: [{claims: {a: b}}]\n",
		"wrong type":        "name: x\nauto_approve: [1]\n",
		"registration mode": "name: x\nregistration: invite\n",
		"empty":             "",
	}
	for name, doc := range bad {
		if _, err := ConfigFromYAML([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestJWTExpiryOnMockClock(t *testing.T) {
	s := startIdP(t, Config{SignTokens: true, UseMockClock: true, ClientSecret: "x", TokenLifetime: 5 * time.Minute})
	s.Clock().Advance(2 * time.Hour)
	got := postForm(t, s, "/token", url.Values{"grant_type": {"client_credentials"}}, "test-client", "x")
	if got.status != 200 {
		t.Fatalf("token: %+v", got)
	}
	claims := verifyJWT(t, s, got.body["access_token"].(string))
	now := s.Clock().Now().Unix()
	if exp, iat := int64(claims["exp"].(float64)), int64(claims["iat"].(float64)); iat != now || exp < now+299 || exp > now+300 {
		t.Errorf("iat %d exp %d, want iat %d and exp %d", iat, exp, now, now+300)
	}
	if claims["sub"] != "test-client" {
		t.Errorf("sub = %v", claims["sub"])
	}
}

func TestFixedIssuer(t *testing.T) {
	s := startIdP(t, Config{Issuer: "https://idp.example.test", SignTokens: true, ClientSecret: "x"})
	_, m := getJSON(t, s, "/.well-known/openid-configuration", "")
	if m["issuer"] != "https://idp.example.test" || m["token_endpoint"] != s.URL()+"/token" {
		t.Errorf("metadata = %v", m)
	}
	got := postForm(t, s, "/token", url.Values{"grant_type": {"client_credentials"}}, "test-client", "x")
	if claims := verifyJWT(t, s, got.body["access_token"].(string)); claims["iss"] != "https://idp.example.test" {
		t.Errorf("iss = %v", claims["iss"])
	}
}
