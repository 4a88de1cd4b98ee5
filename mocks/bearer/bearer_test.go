package bearer

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
)

// fakeAuthority knows one RSA key (declared RS256) and no token by introspection.
type fakeAuthority struct {
	key *rsa.PrivateKey
	now time.Time
}

func (a *fakeAuthority) Issuer() string   { return "https://issuer.test" }
func (a *fakeAuthority) Scopes() []string { return nil }
func (a *fakeAuthority) Now() time.Time   { return a.now }
func (a *fakeAuthority) JWKS() *jose.JSONWebKeySet {
	return &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &a.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}}
}
func (a *fakeAuthority) Introspect(context.Context, string) (TokenInfo, error) {
	return TokenInfo{Active: false}, nil
}

func newFake(t *testing.T) *fakeAuthority {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &fakeAuthority{key: k, now: time.Now()}
}

func (a *fakeAuthority) sign(t *testing.T, alg jose.SignatureAlgorithm, claims map[string]any) string {
	t.Helper()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: a.key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.Signed(signer).Claims(claims).CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func claimsAt(now time.Time, exp time.Duration) map[string]any {
	return map[string]any{"iss": "https://issuer.test", "sub": "alice", "aud": "https://rs.test/mcp",
		"scope": "a b", "exp": now.Add(exp).Unix(), "iat": now.Unix()}
}

func TestValidateLocalOnly(t *testing.T) {
	a := newFake(t)
	v := &Validator{Authority: a, LocalOnly: true}
	ctx := context.Background()

	info, err := v.Validate(ctx, a.sign(t, jose.RS256, claimsAt(a.now, time.Hour)))
	if err != nil || info.Subject != "alice" || strings.Join(info.Scopes, " ") != "a b" || !info.Active {
		t.Fatalf("good token: %+v %v", info, err)
	}
	// The same RSA key verifies PS256, but the JWKS declares it for RS256 only.
	if _, err := v.Validate(ctx, a.sign(t, jose.PS256, claimsAt(a.now, time.Hour))); err == nil ||
		!strings.Contains(err.Error(), `algorithm "PS256" is not the key's "RS256"`) {
		t.Fatalf("PS256 token with an RS256 key: %v", err)
	}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"k1"}`))
	payload := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://issuer.test","sub":"mallory"}`))
	if _, err := v.Validate(ctx, header+"."+payload+"."); err == nil {
		t.Fatal("alg none accepted")
	}
	if _, err := v.Validate(ctx, "opaque-token"); err == nil || !strings.Contains(err.Error(), "not a JWT") {
		t.Fatalf("opaque token with LocalOnly: %v", err)
	}
	expired := a.sign(t, jose.RS256, claimsAt(a.now, -time.Minute))
	if _, err := v.Validate(ctx, expired); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired token: %v", err)
	}
	lax := &Validator{Authority: a, LocalOnly: true, IgnoreExpiry: true}
	if _, err := lax.Validate(ctx, expired); err != nil {
		t.Fatalf("IgnoreExpiry: %v", err)
	}
	future := claimsAt(a.now, time.Hour)
	future["nbf"] = a.now.Add(time.Minute).Unix()
	if _, err := lax.Validate(ctx, a.sign(t, jose.RS256, future)); err == nil || !strings.Contains(err.Error(), "not valid yet") {
		t.Fatalf("nbf in the future: %v", err)
	}
}

func TestValidateIntrospects(t *testing.T) {
	a := newFake(t)
	v := &Validator{Authority: a}
	// The fake's introspection knows no token: a well-signed JWT counts as revoked.
	if _, err := v.Validate(context.Background(), a.sign(t, jose.RS256, claimsAt(a.now, time.Hour))); err == nil ||
		!strings.Contains(err.Error(), "not active") {
		t.Fatalf("revoked JWT: %v", err)
	}
}

func TestChallengeHeader(t *testing.T) {
	for _, tc := range []struct {
		c    Challenge
		want string
	}{
		{Challenge{Status: 401, ResourceMetadata: "http://rs/prm", Scope: "s1 s2"},
			`Bearer resource_metadata="http://rs/prm", scope="s1 s2"`},
		{Challenge{Status: 401, Error: "invalid_token", Description: `bad "token"`, ResourceMetadata: "http://rs/prm"},
			`Bearer resource_metadata="http://rs/prm", error="invalid_token", error_description="bad 'token'"`},
		{Challenge{Status: 403, Error: "insufficient_scope", Description: "d", ResourceMetadata: "http://rs/prm", Scope: "admin"},
			`Bearer error="insufficient_scope", error_description="d", resource_metadata="http://rs/prm", scope="admin"`},
		{Challenge{Status: 401}, `Bearer`},
	} {
		if got := tc.c.Header(); got != tc.want {
			t.Errorf("%+v:\n got %s\nwant %s", tc.c, got, tc.want)
		}
	}
	rec := httptest.NewRecorder()
	Challenge{Status: http.StatusForbidden, Error: "insufficient_scope", Description: "d"}.WriteBody(rec)
	if rec.Code != 403 || rec.Header().Get("WWW-Authenticate") != "" ||
		strings.TrimSpace(rec.Body.String()) != `{"error":"insufficient_scope","error_description":"d"}` {
		t.Fatalf("WriteBody: %d %q %s", rec.Code, rec.Header(), rec.Body)
	}
}

func TestFromHeader(t *testing.T) {
	for h, want := range map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", "Basic abc": "", "": "", "Bearer ": ""} {
		got, err := FromHeader(h)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("FromHeader(%q) = %q, %v; want %q", h, got, err, want)
		}
	}
}
