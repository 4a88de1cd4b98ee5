package idp

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

const testResource = "http://127.0.0.1:18080/mcp"

var aliceUsers = []User{
	{Subject: "test-user-123", Claims: map[string]any{"email": "t@example.com", "tenant": "acme"}},
	{Subject: "alice", Claims: map[string]any{"email": "alice@example.com", "tenant": "wonderland"}},
}

func TestAuthorizationCodeWithPKCE(t *testing.T) {
	s := startIdP(t, Config{AutoApprove: true, PKCERequired: true, Users: aliceUsers})
	cfg := oauthConfig(s, "test-client", "", testRedirect, "openid", "profile")
	verifier := oauth2.GenerateVerifier()
	code := codeFor(t, s, cfg, oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("resource", testResource), oauth2.SetAuthURLParam("nonce", "nonce-123456789"))
	tok, err := cfg.Exchange(clientCtx(s), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Error("no refresh token with the code grant")
	}
	if life := time.Until(tok.Expiry); life < 59*time.Minute || life > 61*time.Minute {
		t.Errorf("access token lives %v, want ~1h", life)
	}
	in := mustIntrospect(t, s, tok.AccessToken)
	if !in.Active || in.Subject != "test-user-123" || in.TokenUse != "access_token" ||
		!slices.Equal(in.Audience, []string{testResource}) || !slices.Equal(in.Scope, []string{"openid", "profile"}) ||
		in.Claims["tenant"] != "acme" {
		t.Errorf("introspection = %+v", in)
	}

	idToken, _ := tok.Extra("id_token").(string)
	claims := verifyJWT(t, s, idToken)
	if claims["sub"] != "test-user-123" || claims["iss"] != s.Issuer() || claims["nonce"] != "nonce-123456789" || claims["tenant"] != "acme" {
		t.Errorf("id token claims = %v", claims)
	}

	status, info := getJSON(t, s, "/userinfo", tok.AccessToken)
	if status != http.StatusOK || info["sub"] != "test-user-123" || info["email"] != "t@example.com" {
		t.Errorf("userinfo = %d %v", status, info)
	}
	if status, _ := getJSON(t, s, "/userinfo", "not-a-token"); status != http.StatusUnauthorized {
		t.Errorf("userinfo with a bad token = %d, want 401", status)
	}
	c := s.Counters()
	if c.Authorize != 1 || c.Token != 1 || c.AuthorizationCode != 1 || c.UserInfo != 2 || c.TokensIssued != 1 || c.TokensActive != 1 {
		t.Errorf("counters = %+v", c)
	}
	reqs := s.Requests()
	if len(reqs) != 5 || reqs[2].Endpoint != EndpointJWKS || reqs[1].Endpoint != EndpointToken || reqs[1].Grant != "authorization_code" ||
		reqs[1].ClientID != "test-client" || reqs[1].Subject != "test-user-123" || reqs[1].Status != 200 ||
		reqs[1].Method != http.MethodPost || reqs[1].Path != "/token" || !strings.HasPrefix(reqs[1].UserAgent, "Go-http-client/") {
		t.Errorf("requests = %+v", reqs)
	}
}

// verifyJWT checks a JWT's signature against the IdP's published /jwks and returns its claims.
func verifyJWT(t testing.TB, s *Server, token string) map[string]any {
	t.Helper()
	resp, err := httpClient(s).Get(s.URL() + "/jwks")
	if err != nil {
		t.Fatalf("GET /jwks: %v", err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatalf("decode jwks: %v", err)
	}
	jws, err := jose.ParseSigned(token)
	if err != nil {
		t.Fatalf("parse JWT %q: %v", token, err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 || keys[0].IsPublic() == false {
		t.Fatalf("kid %q not in published JWKS", jws.Signatures[0].Header.KeyID)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func refresh(t testing.TB, s *Server, rt string) oauthErr {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
	if s.cfg.ClientSecret != "" {
		return postForm(t, s, "/token", form, s.cfg.ClientID, s.cfg.ClientSecret)
	}
	form.Set("client_id", s.cfg.ClientID)
	return postForm(t, s, "/token", form, "", "")
}

func codeTokens(t testing.TB, s *Server, opts ...oauth2.AuthCodeOption) *oauth2.Token {
	t.Helper()
	cfg := oauthConfig(s, s.cfg.ClientID, s.cfg.ClientSecret, testRedirect, "openid")
	v := oauth2.GenerateVerifier()
	code := codeFor(t, s, cfg, append(opts, oauth2.S256ChallengeOption(v))...)
	tok, err := cfg.Exchange(clientCtx(s), code, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return tok
}

func TestRefreshRotation(t *testing.T) {
	s := startIdP(t, Config{AutoApprove: true})
	tok := codeTokens(t, s, oauth2.SetAuthURLParam("resource", testResource))
	r1 := refresh(t, s, tok.RefreshToken)
	if r1.status != 200 {
		t.Fatalf("refresh: %d %v", r1.status, r1.body)
	}
	newRT, _ := r1.body["refresh_token"].(string)
	newAT, _ := r1.body["access_token"].(string)
	if newRT == "" || newRT == tok.RefreshToken || newAT == tok.AccessToken {
		t.Fatalf("refresh did not rotate: %v", r1.body)
	}
	if in := mustIntrospect(t, s, tok.AccessToken); in.Active {
		t.Error("the old access token is still active after rotation")
	}
	if in := mustIntrospect(t, s, newAT); !in.Active || !slices.Equal(in.Audience, []string{testResource}) {
		t.Errorf("refreshed token: %+v (audience must survive refresh)", in)
	}
	if c := s.Counters(); c.Refresh != 1 || c.Token != 2 {
		t.Errorf("counters = %+v", c)
	}
}

func TestClientCredentials(t *testing.T) {
	s := startIdP(t, Config{ClientID: "svc", ClientSecret: "s3cret", Scopes: []string{"mcp:read", "mcp:write"}})
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cc := clientcredentials.Config{ClientID: "svc", ClientSecret: "s3cret", TokenURL: s.URL() + "/token",
			Scopes: []string{"mcp:read"}, AuthStyle: style, EndpointParams: url.Values{"resource": {testResource}}}
		tok, err := cc.Token(clientCtx(s))
		if err != nil {
			t.Fatalf("style %v: %v", style, err)
		}
		in := mustIntrospect(t, s, tok.AccessToken)
		if !in.Active || in.Subject != "svc" || in.ClientID != "svc" || !slices.Equal(in.Scope, []string{"mcp:read"}) ||
			!slices.Equal(in.Audience, []string{testResource}) {
			t.Errorf("introspection = %+v", in)
		}
	}
	if c := s.Counters(); c.ClientCredentials != 2 {
		t.Errorf("client_credentials count = %d", c.ClientCredentials)
	}
}

// exchange posts an RFC 8693 request for client test-client (public).
func exchange(t testing.TB, s *Server, subjectToken, tokenType string) oauthErr {
	t.Helper()
	return postForm(t, s, "/token", url.Values{
		"grant_type": {grantTokenExchange}, "client_id": {"test-client"}, "subject_token": {subjectToken},
		"subject_token_type": {tokenType}, "resource": {testResource}, "scope": {"openid"},
	}, "", "")
}

func TestTokenExchange(t *testing.T) {
	jwtIssuer := startIdP(t, Config{SignTokens: true, Users: aliceUsers})
	opaqueIssuer := startIdP(t, Config{Users: aliceUsers})
	s := startIdP(t, Config{TrustedIssuers: []TrustedIssuer{
		{ConnectorID: "dex", Server: jwtIssuer},
		{ConnectorID: "other", Server: opaqueIssuer},
	}})
	cases := []struct {
		name   string
		issuer *Server
		typ    string
	}{
		{"jwt access token", jwtIssuer, TokenTypeJWT},
		{"opaque access token", opaqueIssuer, TokenTypeAccessToken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sub, err := c.issuer.IssueToken(context.Background(), IssueOptions{Subject: "alice", Scopes: []string{"openid"}})
			if err != nil {
				t.Fatal(err)
			}
			res := exchange(t, s, sub.AccessToken, c.typ)
			if res.status != 200 || res.body["issued_token_type"] != TokenTypeAccessToken {
				t.Fatalf("exchange: %d %v", res.status, res.body)
			}
			in := mustIntrospect(t, s, res.body["access_token"].(string))
			if !in.Active || in.Subject != "alice" || !slices.Equal(in.Audience, []string{testResource}) || in.Claims["tenant"] != "wonderland" {
				t.Errorf("exchanged token = %+v", in)
			}
		})
	}
	// An ID token is never stored at its issuer (introspection calls it inactive) and
	// cannot be revoked: the revocation check must leave it alone.
	t.Run("id token", func(t *testing.T) {
		up := startIdP(t, Config{AutoApprove: true, Users: aliceUsers})
		cfg := oauthConfig(up, "test-client", "", testRedirect, "openid")
		v := oauth2.GenerateVerifier()
		tok, err := cfg.Exchange(clientCtx(up), codeFor(t, up, cfg, oauth2.S256ChallengeOption(v),
			oauth2.SetAuthURLParam("login_hint", "alice")), oauth2.VerifierOption(v))
		if err != nil {
			t.Fatal(err)
		}
		idToken, _ := tok.Extra("id_token").(string)
		if in := mustIntrospect(t, up, idToken); in.Active {
			t.Fatalf("the issuer introspects its ID token as active: %+v", in)
		}
		s := startIdP(t, Config{TrustedIssuers: []TrustedIssuer{{ConnectorID: "up", Server: up}}})
		for _, typ := range []string{TokenTypeIDToken, TokenTypeJWT} {
			if res := exchange(t, s, idToken, typ); res.status != 200 {
				t.Errorf("exchange of an ID token as %s: %d %v", typ, res.status, res.body)
			}
		}
	})
	if c := s.Counters(); c.Exchange != 2 {
		t.Errorf("exchange count = %d", c.Exchange)
	}
}

// serveDocument serves a client metadata document on a loopback port; doc gets the port.
func serveDocument(t testing.TB, doc func(port int) string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	body := doc(port)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/oauth-client.json" || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	})}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return fmt.Sprintf("http://localhost:%d/.well-known/oauth-client.json", port)
}

func musterDocument(port int) string {
	return strings.ReplaceAll(`{"client_id":"http://localhost:41577/.well-known/oauth-client.json","client_name":"Muster MCP Aggregator","client_uri":"https://github.com/giantswarm/muster","redirect_uris":["http://localhost:41577/oauth/proxy/callback"],"grant_types":["authorization_code","refresh_token"],"response_types":["code"],"token_endpoint_auth_method":"none","scope":"openid profile email","software_id":"giantswarm-muster","software_version":"1.0.0"}`,
		"41577", fmt.Sprint(port))
}

func TestClientIDMetadataDocumentAsMusterSendsIt(t *testing.T) {
	s := startIdP(t, Config{AutoApprove: true, Scopes: []string{"openid", "profile", "mcp:read"}})
	clientID := serveDocument(t, musterDocument)
	redirect := strings.Replace(clientID, "/.well-known/oauth-client.json", "/oauth/proxy/callback", 1)
	// muster: S256, scope mcp:read, no resource, no nonce, public client (no secret).
	cfg := oauthConfig(s, clientID, "", redirect, "mcp:read")
	cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	v := oauth2.GenerateVerifier()
	code := codeFor(t, s, cfg, oauth2.S256ChallengeOption(v))
	tok, err := cfg.Exchange(clientCtx(s), code, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	in := mustIntrospect(t, s, tok.AccessToken)
	if !in.Active || in.ClientID != clientID || !slices.Equal(in.Scope, []string{"mcp:read"}) {
		t.Errorf("introspection = %+v", in)
	}
	// The document lists one redirect URI; any other (even loopback) is refused.
	other := oauthConfig(s, clientID, "", "http://localhost:1/other", "mcp:read")
	if res := getAuthorize(t, s, other.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v))); res.status != http.StatusBadRequest {
		t.Errorf("foreign redirect: status %d location %v", res.status, res.location)
	}
}

func TestDynamicClientRegistration(t *testing.T) {
	s := startIdP(t, Config{AutoApprove: true})
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/register", strings.NewReader(
		`{"redirect_uris":["http://127.0.0.1/cb"],"client_name":"x","token_endpoint_auth_method":"client_secret_basic","scope":"openid email"}`))
	resp, err := httpClient(s).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var reg map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&reg)
	resp.Body.Close()
	id, _ := reg["client_id"].(string)
	secret, _ := reg["client_secret"].(string)
	if resp.StatusCode != http.StatusCreated || id == "" || secret == "" {
		t.Fatalf("register: %d %v", resp.StatusCode, reg)
	}
	// RFC 8252: a registered loopback IP redirect matches on any port.
	cfg := oauthConfig(s, id, secret, "http://127.0.0.1:5555/cb", "email")
	v := oauth2.GenerateVerifier()
	code := codeFor(t, s, cfg, oauth2.S256ChallengeOption(v))
	if _, err := cfg.Exchange(clientCtx(s), code, oauth2.VerifierOption(v)); err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	bad := oauthConfig(s, id, secret, "http://127.0.0.1:5555/elsewhere", "email")
	if res := getAuthorize(t, s, bad.AuthCodeURL("state-12345678")); res.status != http.StatusBadRequest {
		t.Errorf("unregistered path: %d %v", res.status, res.location)
	}
	if res := postForm(t, s, "/register", nil, "", ""); res.status != http.StatusBadRequest || res.code != "invalid_client_metadata" {
		t.Errorf("bad registration: %+v", res)
	}
	if c := s.Counters(); c.Register != 2 {
		t.Errorf("register count = %d", c.Register)
	}
}

func TestConcurrentCodeFlows(t *testing.T) {
	s := startIdP(t, Config{AutoApprove: true, PKCERequired: true})
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := oauthConfig(s, "test-client", "", fmt.Sprintf("http://127.0.0.1:%d/cb", 20000+i), "openid")
			v := oauth2.GenerateVerifier()
			resp, err := httpClient(s).Get(cfg.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v)))
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			loc, _ := url.Parse(resp.Header.Get("Location"))
			tok, err := cfg.Exchange(clientCtx(s), loc.Query().Get("code"), oauth2.VerifierOption(v))
			if err != nil {
				errs <- err
				return
			}
			if r := refresh(t, s, tok.RefreshToken); r.status != 200 {
				errs <- fmt.Errorf("refresh: %v", r.body)
				return
			}
			if in, _ := s.Introspect(context.Background(), tok.AccessToken); in.Active {
				errs <- fmt.Errorf("rotated access token still active")
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if c := s.Counters(); c.TokensActive != n || c.AuthorizationCode != n || c.Refresh != n {
		t.Errorf("counters = %+v", c)
	}
}

func TestNoRefreshTokenWhenDisabled(t *testing.T) {
	off := false
	s := startIdP(t, Config{AutoApprove: true, IssueRefreshTokens: &off})
	if tok := codeTokens(t, s); tok.RefreshToken != "" {
		t.Errorf("refresh token issued with IssueRefreshTokens false")
	}
	// fosite's default then applies: a refresh token only for the offline_access scope.
	s2 := startIdP(t, Config{AutoApprove: true, IssueRefreshTokens: &off, Scopes: []string{"openid", "offline_access"}})
	cfg := oauthConfig(s2, "test-client", "", testRedirect, "openid", "offline_access")
	v := oauth2.GenerateVerifier()
	tok, err := cfg.Exchange(clientCtx(s2), codeFor(t, s2, cfg, oauth2.S256ChallengeOption(v)), oauth2.VerifierOption(v))
	if err != nil || tok.RefreshToken == "" {
		t.Errorf("offline_access: %v, refresh %q", err, tok.RefreshToken)
	}
}

func TestConcurrentRedemptionOfOneCode(t *testing.T) {
	s := startIdP(t, Config{AutoApprove: true})
	v := oauth2.GenerateVerifier()
	code := codeFor(t, s, oauthConfig(s, "test-client", "", testRedirect, "openid"), oauth2.S256ChallengeOption(v))
	const n = 8
	results := make(chan oauthErr, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- postForm(t, s, "/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
				"code_verifier": {v}, "redirect_uri": {testRedirect}, "client_id": {"test-client"}}, "", "")
		}()
	}
	wg.Wait()
	close(results)
	ok := 0
	for r := range results {
		switch {
		case r.status == 200:
			ok++
		case r.status != 400 || r.code != "invalid_grant":
			t.Errorf("loser answered %d %q", r.status, r.code)
		}
	}
	if ok != 1 {
		t.Errorf("%d redemptions of one code succeeded, want 1", ok)
	}
}

// TestRequestsWithoutResourceCounted: authorization and token requests without an RFC
// 8707 resource parameter are counted apart, so a scenario can hold a client to sending it
// in both.
func TestRequestsWithoutResourceCounted(t *testing.T) {
	s := startIdP(t, Config{AutoApprove: true, Users: aliceUsers})
	cfg := oauthConfig(s, "test-client", "", testRedirect, "openid")
	resource := oauth2.SetAuthURLParam("resource", testResource)
	flow := func(atAuthorize, atToken bool) {
		v := oauth2.GenerateVerifier()
		opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(v)}
		if atAuthorize {
			opts = append(opts, resource)
		}
		code := codeFor(t, s, cfg, opts...)
		opts = []oauth2.AuthCodeOption{oauth2.VerifierOption(v)}
		if atToken {
			opts = append(opts, resource)
		}
		if _, err := cfg.Exchange(clientCtx(s), code, opts...); err != nil {
			t.Fatalf("Exchange: %v", err)
		}
	}
	flow(true, true)
	flow(true, false)
	flow(false, false)
	if c := s.Counters(); c.Authorize != 3 || c.AuthorizeWithoutResource != 1 || c.Token != 3 || c.TokenWithoutResource != 2 {
		t.Errorf("counters = %+v", c)
	}
}
