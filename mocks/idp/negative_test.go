package idp

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"golang.org/x/oauth2"
)

// negCase is one way a client can get OAuth wrong. run drives the IdP built from setup's
// Config and returns the answer that must carry status and code (for introspection,
// wantInactive instead: 200 with active false).
type negCase struct {
	name         string
	setup        func(t *testing.T) Config
	run          func(t *testing.T, s *Server) oauthErr
	status       int
	code         string
	wantInactive bool
}

func cfgOf(c Config) func(*testing.T) Config { return func(*testing.T) Config { return c } }

// authorizeErr turns an /authorize answer into status + error code: a redirect carries the
// error in its query, anything else in its JSON body.
func authorizeErr(t *testing.T, s *Server, authURL string) oauthErr {
	res := getAuthorize(t, s, authURL)
	out := oauthErr{status: res.status, code: res.param("error")}
	if res.location == nil {
		var body map[string]any
		_ = json.Unmarshal([]byte(res.body), &body)
		out.code, _ = body["error"].(string)
	}
	return out
}

func publicCfg(s *Server) *oauth2.Config {
	return oauthConfig(s, "test-client", "", testRedirect, "openid")
}

// tokenForm is a raw authorization_code token request for the public test-client.
func tokenForm(code, verifier, redirect string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
		"redirect_uri": {redirect}, "client_id": {"test-client"}}
}

func introspectHTTP(t *testing.T, s *Server, token string) oauthErr {
	return postForm(t, s, "/introspect", url.Values{"token": {token}}, "rs", "rs-secret")
}

// confidential is a config whose pre-registered client can authenticate at /introspect.
var confidential = Config{AutoApprove: true, ClientID: "rs", ClientSecret: "rs-secret", UseMockClock: true}

func TestNegativeCatalogue(t *testing.T) {
	cases := []negCase{
		{name: "wrong PKCE verifier", setup: cfgOf(Config{AutoApprove: true}), status: 400, code: "invalid_grant",
			run: func(t *testing.T, s *Server) oauthErr {
				code := codeFor(t, s, publicCfg(s), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
				return postForm(t, s, "/token", tokenForm(code, oauth2.GenerateVerifier(), testRedirect), "", "")
			}},
		{name: "missing challenge when PKCE required", setup: cfgOf(Config{AutoApprove: true, PKCERequired: true}), status: 303, code: "invalid_request",
			run: func(t *testing.T, s *Server) oauthErr {
				return authorizeErr(t, s, publicCfg(s).AuthCodeURL("state-12345678"))
			}},
		{name: "plain PKCE method", setup: cfgOf(Config{AutoApprove: true}), status: 303, code: "invalid_request",
			run: func(t *testing.T, s *Server) oauthErr {
				return authorizeErr(t, s, publicCfg(s).AuthCodeURL("state-12345678",
					oauth2.SetAuthURLParam("code_challenge", strings.Repeat("a", 43)), oauth2.SetAuthURLParam("code_challenge_method", "plain")))
			}},
		{name: "verifier without challenge", setup: cfgOf(Config{AutoApprove: true}), status: 400, code: "invalid_grant",
			run: func(t *testing.T, s *Server) oauthErr {
				code := codeFor(t, s, publicCfg(s))
				return postForm(t, s, "/token", tokenForm(code, oauth2.GenerateVerifier(), testRedirect), "", "")
			}},
		{name: "reused authorization code", setup: cfgOf(Config{AutoApprove: true}), status: 400, code: "invalid_grant",
			run: func(t *testing.T, s *Server) oauthErr {
				v := oauth2.GenerateVerifier()
				code := codeFor(t, s, publicCfg(s), oauth2.S256ChallengeOption(v))
				if first := postForm(t, s, "/token", tokenForm(code, v, testRedirect), "", ""); first.status != 200 {
					t.Fatalf("first exchange: %+v", first)
				}
				return postForm(t, s, "/token", tokenForm(code, v, testRedirect), "", "")
			}},
		{name: "redirect_uri mismatch at token", setup: cfgOf(Config{AutoApprove: true}), status: 400, code: "invalid_grant",
			run: func(t *testing.T, s *Server) oauthErr {
				v := oauth2.GenerateVerifier()
				code := codeFor(t, s, publicCfg(s), oauth2.S256ChallengeOption(v))
				return postForm(t, s, "/token", tokenForm(code, v, "http://localhost:41577/other"), "", "")
			}},
		{name: "non-loopback redirect for the pre-registered client", setup: cfgOf(Config{AutoApprove: true}), status: 400, code: "invalid_request",
			run: func(t *testing.T, s *Server) oauthErr {
				c := oauthConfig(s, "test-client", "", "https://evil.example/cb", "openid")
				return authorizeErr(t, s, c.AuthCodeURL("state-12345678"))
			}},
		{name: "code expired under the mock clock", setup: cfgOf(Config{AutoApprove: true, UseMockClock: true}), status: 400, code: "invalid_grant",
			run: func(t *testing.T, s *Server) oauthErr {
				v := oauth2.GenerateVerifier()
				code := codeFor(t, s, publicCfg(s), oauth2.S256ChallengeOption(v))
				s.Clock().Advance(11 * time.Minute)
				return postForm(t, s, "/token", tokenForm(code, v, testRedirect), "", "")
			}},
		{name: "access token expired under the mock clock", setup: cfgOf(confidential), status: 200, wantInactive: true,
			run: func(t *testing.T, s *Server) oauthErr {
				tok, err := s.IssueToken(context.Background(), IssueOptions{Lifetime: time.Minute})
				if err != nil {
					t.Fatal(err)
				}
				if live := introspectHTTP(t, s, tok.AccessToken); live.body["active"] != true || live.body["sub"] != DefaultSubject ||
					live.body["email"] != "test-user-123@example.com" || live.body["client_id"] != "rs" {
					t.Fatalf("fresh token inactive: %+v", live)
				}
				s.Clock().Advance(time.Minute)
				return introspectHTTP(t, s, tok.AccessToken)
			}},
		{name: "refresh token reuse revokes the family", setup: cfgOf(Config{AutoApprove: true}), status: 400, code: "invalid_grant",
			run: func(t *testing.T, s *Server) oauthErr {
				tok := codeTokens(t, s)
				first := refresh(t, s, tok.RefreshToken)
				if first.status != 200 {
					t.Fatalf("first refresh: %+v", first)
				}
				if reuse := refresh(t, s, tok.RefreshToken); reuse.code != "invalid_grant" {
					t.Fatalf("reuse: %+v", reuse)
				}
				if in := mustIntrospect(t, s, first.body["access_token"].(string)); in.Active {
					t.Error("reuse left the family's newest access token active")
				}
				return refresh(t, s, first.body["refresh_token"].(string))
			}},
		{name: "refresh token expired under the mock clock", setup: cfgOf(Config{AutoApprove: true, UseMockClock: true, RefreshTokenLifetime: time.Hour}), status: 400, code: "invalid_grant",
			run: func(t *testing.T, s *Server) oauthErr {
				tok := codeTokens(t, s)
				s.Clock().Advance(time.Hour + time.Second)
				return refresh(t, s, tok.RefreshToken)
			}},
		{name: "revoked token at introspection", setup: cfgOf(confidential), status: 200, wantInactive: true,
			run: func(t *testing.T, s *Server) oauthErr {
				tok, err := s.IssueToken(context.Background(), IssueOptions{ClientID: "rs"})
				if err != nil {
					t.Fatal(err)
				}
				if r := postForm(t, s, "/revoke", url.Values{"token": {tok.AccessToken}}, "rs", "rs-secret"); r.status != 200 {
					t.Fatalf("revoke: %+v", r)
				}
				return introspectHTTP(t, s, tok.AccessToken)
			}},
		{name: "introspection without client authentication", setup: cfgOf(confidential), status: 401, code: "request_unauthorized",
			run: func(t *testing.T, s *Server) oauthErr {
				return postForm(t, s, "/introspect", url.Values{"token": {"x"}}, "", "")
			}},
		{name: "wrong client secret", setup: cfgOf(Config{ClientID: "svc", ClientSecret: "right"}), status: 401, code: "invalid_client",
			run: func(t *testing.T, s *Server) oauthErr {
				return postForm(t, s, "/token", url.Values{"grant_type": {"client_credentials"}}, "svc", "wrong")
			}},
		{name: "unsupported grant type", setup: cfgOf(Config{ClientSecret: "x"}), status: 400, code: "unsupported_grant_type",
			run: func(t *testing.T, s *Server) oauthErr {
				return postForm(t, s, "/token", url.Values{"grant_type": {"password"}, "username": {"u"}, "password": {"p"}}, "test-client", "x")
			}},
		{name: "unknown client", setup: cfgOf(Config{}), status: 401, code: "invalid_client",
			run: func(t *testing.T, s *Server) oauthErr {
				return postForm(t, s, "/token", url.Values{"grant_type": {"client_credentials"}}, "nobody", "x")
			}},
		{name: "client credentials for a public client", setup: cfgOf(Config{}), status: 400, code: "invalid_grant",
			run: func(t *testing.T, s *Server) oauthErr {
				return postForm(t, s, "/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"test-client"}}, "", "")
			}},
		{name: "CIMD document without the request's redirect URI", setup: cfgOf(Config{AutoApprove: true}), status: 400, code: "invalid_request",
			run: func(t *testing.T, s *Server) oauthErr {
				id := serveDocument(t, func(port int) string {
					return strings.Replace(musterDocument(port), "/oauth/proxy/callback", "/registered", 1)
				})
				c := oauthConfig(s, id, "", strings.Replace(id, "/.well-known/oauth-client.json", "/oauth/proxy/callback", 1), "openid")
				return authorizeErr(t, s, c.AuthCodeURL("state-12345678"))
			}},
		{name: "CIMD on a non-loopback host", setup: cfgOf(Config{AutoApprove: true}), status: 401, code: "invalid_client",
			run: func(t *testing.T, s *Server) oauthErr {
				c := oauthConfig(s, "https://client.example.com/meta.json", "", testRedirect, "openid")
				return authorizeErr(t, s, c.AuthCodeURL("state-12345678"))
			}},
		{name: "scope not allowed", setup: cfgOf(Config{AutoApprove: true}), status: 303, code: "invalid_scope",
			run: func(t *testing.T, s *Server) oauthErr {
				c := oauthConfig(s, "test-client", "", testRedirect, "openid", "admin")
				return authorizeErr(t, s, c.AuthCodeURL("state-12345678"))
			}},
		{name: "non-loopback resource", setup: cfgOf(Config{AutoApprove: true}), status: 303, code: "invalid_target",
			run: func(t *testing.T, s *Server) oauthErr {
				return authorizeErr(t, s, publicCfg(s).AuthCodeURL("state-12345678", oauth2.SetAuthURLParam("resource", "https://api.example.com/")))
			}},
		{name: "missing state", setup: cfgOf(Config{AutoApprove: true}), status: 303, code: "invalid_state",
			run: func(t *testing.T, s *Server) oauthErr {
				return authorizeErr(t, s, publicCfg(s).AuthCodeURL(""))
			}},
		{name: "token exchange from an untrusted issuer", setup: trustedSetup, status: 400, code: "invalid_grant",
			run: func(t *testing.T, s *Server) oauthErr {
				stranger := startIdP(t, Config{SignTokens: true})
				tok, _ := stranger.IssueToken(context.Background(), IssueOptions{})
				return exchange(t, s, tok.AccessToken, TokenTypeJWT)
			}},
		{name: "token exchange with a forged signature", setup: trustedSetup, status: 400, code: "invalid_grant",
			run: func(t *testing.T, s *Server) oauthErr {
				return exchange(t, s, forgeJWT(t, s.trusted[0].Issuer, s.trusted[0].Server.signKey.KeyID), TokenTypeJWT)
			}},
		{name: "token exchange with an expired subject token", setup: trustedSetup, status: 400, code: "invalid_grant",
			run: func(t *testing.T, s *Server) oauthErr {
				up := s.trusted[0].Server
				tok, _ := up.IssueToken(context.Background(), IssueOptions{Lifetime: time.Minute})
				up.Clock().Advance(2 * time.Minute)
				return exchange(t, s, tok.AccessToken, TokenTypeJWT)
			}},
		{name: "token exchange with an unknown opaque token", setup: trustedSetup, status: 400, code: "invalid_grant",
			run: func(t *testing.T, s *Server) oauthErr {
				return exchange(t, s, "opaque-garbage", TokenTypeAccessToken)
			}},
		// A JWT's signature and exp stay valid after revocation: only its issuer knows.
		{name: "token exchange with a revoked JWT subject token", setup: trustedSetup, status: 400, code: "invalid_grant",
			run: func(t *testing.T, s *Server) oauthErr {
				return exchange(t, s, revokedAt(t, s.trusted[0].Server), TokenTypeJWT)
			}},
		{name: "token exchange with a revoked JWT declared an access token", setup: trustedSetup, status: 400, code: "invalid_grant",
			run: func(t *testing.T, s *Server) oauthErr {
				return exchange(t, s, revokedAt(t, s.trusted[0].Server), TokenTypeAccessToken)
			}},
		{name: "token exchange with a revoked opaque subject token", status: 400, code: "invalid_grant",
			setup: func(t *testing.T) Config {
				return Config{TrustedIssuers: []TrustedIssuer{{ConnectorID: "up", Server: startIdP(t, Config{})}}}
			},
			run: func(t *testing.T, s *Server) oauthErr {
				return exchange(t, s, revokedAt(t, s.trusted[0].Server), TokenTypeAccessToken)
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := startIdP(t, c.setup(t))
			got := c.run(t, s)
			if got.status != c.status || got.code != c.code {
				t.Errorf("got status %d error %q (%v), want %d %q", got.status, got.code, got.body, c.status, c.code)
			}
			if c.wantInactive && got.body["active"] != false {
				t.Errorf("introspection = %v, want active false", got.body)
			}
		})
	}
}

func trustedSetup(t *testing.T) Config {
	up := startIdP(t, Config{SignTokens: true, UseMockClock: true})
	return Config{TrustedIssuers: []TrustedIssuer{{ConnectorID: "up", Server: up}}}
}

// revokedAt mints an access token at issuer and revokes it through issuer's /revoke, as
// its client would; it fails the test unless the issuer then reports it inactive.
func revokedAt(t *testing.T, issuer *Server) string {
	t.Helper()
	tok, err := issuer.IssueToken(context.Background(), IssueOptions{Scopes: []string{"openid"}})
	if err != nil {
		t.Fatal(err)
	}
	if res := postForm(t, issuer, "/revoke", url.Values{"token": {tok.AccessToken}, "client_id": {"test-client"}}, "", ""); res.status != 200 {
		t.Fatalf("revoke: %d %v", res.status, res.body)
	}
	if in := mustIntrospect(t, issuer, tok.AccessToken); in.Active {
		t.Fatalf("the issuer still reports the revoked token active: %+v", in)
	}
	return tok.AccessToken
}

// forgeJWT signs a plausible access token for issuer with a key the issuer never had.
func forgeJWT(t *testing.T, issuer, kid string) string {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]any{"iss": issuer, "sub": "mallory", "exp": time.Now().Add(time.Hour).Unix()})
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}
