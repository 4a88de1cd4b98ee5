// Package authtest provides a self-contained mcpserver.Authority for tests: it mints
// go-jose-signed JWT access tokens and opaque tokens, keeps an in-memory introspection
// table with revocation, and runs on a clock that only moves when told to.
package authtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"

	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// Authority is an in-memory authorization server. Safe for concurrent use.
type Authority struct {
	issuer string
	scopes []string

	mu      sync.Mutex
	signer  jose.Signer
	jwks    *jose.JSONWebKeySet
	now     time.Time
	tokens  map[string]mcpserver.TokenInfo // every token minted, by value
	revoked map[string]bool
	// lenient: introspection ignores expiry, as fosite does when only the IdP's mock
	// clock has moved (fosite judges expiry by the real clock).
	lenient bool
}

var _ mcpserver.Authority = (*Authority)(nil)

// New creates an authority with a fresh ES256 key, its clock set to the current time.
func New(issuer string, scopes ...string) (*Authority, error) {
	a := &Authority{
		issuer:  issuer,
		scopes:  scopes,
		now:     time.Now().Truncate(time.Second),
		tokens:  map[string]mcpserver.TokenInfo{},
		revoked: map[string]bool{},
	}
	if err := a.RotateKey(); err != nil {
		return nil, err
	}
	return a, nil
}

// RotateKey replaces the signing key (and its kid) by a new one; the JWKS then holds only
// the new key, so JWTs signed before no longer verify.
func (a *Authority) RotateKey() error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	kid := randomHex(8)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", kid))
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.signer = signer
	a.jwks = &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &key.PublicKey, KeyID: kid, Algorithm: string(jose.ES256), Use: "sig",
	}}}
	return nil
}

// Grant describes a token to mint.
type Grant struct {
	Subject  string
	Scopes   []string
	Audience []string
	ClientID string
	Lifetime time.Duration // default 1h
	Issuer   string        // default: the authority's issuer
	// Extra claims of a JWT, overriding the standard ones; a nil value removes that claim
	// (Extra{"iss": nil} mints a JWT without an issuer).
	Extra map[string]any
}

// MintJWT signs an access token valid for g.Lifetime from the authority's clock.
func (a *Authority) MintJWT(g Grant) (string, error) {
	info := a.info(g)
	claims := map[string]any{
		"iss":       a.issuer,
		"sub":       info.Subject,
		"aud":       info.Audience,
		"scope":     strings.Join(info.Scopes, " "),
		"client_id": info.ClientID,
		"iat":       jwt.NewNumericDate(a.Now()),
		"exp":       jwt.NewNumericDate(info.ExpiresAt),
		"jti":       randomHex(8),
	}
	if g.Issuer != "" {
		claims["iss"] = g.Issuer
	}
	for k, v := range g.Extra {
		if v == nil {
			delete(claims, k)
			continue
		}
		claims[k] = v
	}
	a.mu.Lock()
	signer := a.signer
	a.mu.Unlock()
	tok, err := jwt.Signed(signer).Claims(claims).CompactSerialize()
	if err != nil {
		return "", err
	}
	a.store(tok, info)
	return tok, nil
}

// MintOpaque issues a random token known only through introspection.
func (a *Authority) MintOpaque(g Grant) string {
	tok := "opaque-" + randomHex(16)
	a.store(tok, a.info(g))
	return tok
}

// MintForeignJWT signs a token with a key that is not in the JWKS.
func (a *Authority) MintForeignJWT(g Grant) (string, error) {
	other, err := New(a.issuer, a.scopes...)
	if err != nil {
		return "", err
	}
	other.SetNow(a.Now())
	return other.MintJWT(g)
}

func (a *Authority) info(g Grant) mcpserver.TokenInfo {
	if g.Lifetime == 0 {
		g.Lifetime = time.Hour
	}
	return mcpserver.TokenInfo{
		Active:    true,
		Subject:   g.Subject,
		Scopes:    slices.Clone(g.Scopes),
		Audience:  slices.Clone(g.Audience),
		ClientID:  g.ClientID,
		ExpiresAt: a.Now().Add(g.Lifetime),
	}
}

func (a *Authority) store(tok string, info mcpserver.TokenInfo) {
	a.mu.Lock()
	a.tokens[tok] = info
	a.mu.Unlock()
}

// Revoke makes introspection report the token inactive.
func (a *Authority) Revoke(token string) {
	a.mu.Lock()
	a.revoked[token] = true
	a.mu.Unlock()
}

// IntrospectionIgnoresExpiry makes Introspect report expired tokens as active, so that
// a test can prove the resource server checks expiry against Now() itself.
func (a *Authority) IntrospectionIgnoresExpiry(ignore bool) {
	a.mu.Lock()
	a.lenient = ignore
	a.mu.Unlock()
}

// Advance moves the clock forward.
func (a *Authority) Advance(d time.Duration) {
	a.mu.Lock()
	a.now = a.now.Add(d)
	a.mu.Unlock()
}

// SetNow sets the clock.
func (a *Authority) SetNow(t time.Time) {
	a.mu.Lock()
	a.now = t
	a.mu.Unlock()
}

// Issuer implements mcpserver.Authority.
func (a *Authority) Issuer() string { return a.issuer }

// Scopes implements mcpserver.Authority.
func (a *Authority) Scopes() []string { return slices.Clone(a.scopes) }

// Now implements mcpserver.Authority.
func (a *Authority) Now() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now
}

// JWKS implements mcpserver.Authority.
func (a *Authority) JWKS() *jose.JSONWebKeySet {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.jwks
}

// Introspect implements mcpserver.Authority. It reports a token inactive when unknown,
// revoked or (unless IntrospectionIgnoresExpiry) expired on the authority's clock.
func (a *Authority) Introspect(_ context.Context, token string) (mcpserver.TokenInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	info, ok := a.tokens[token]
	if !ok || a.revoked[token] || (!a.lenient && !a.now.Before(info.ExpiresAt)) {
		return mcpserver.TokenInfo{Active: false}, nil
	}
	info.Scopes = slices.Clone(info.Scopes)
	info.Audience = slices.Clone(info.Audience)
	return info, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return hex.EncodeToString(b)
}
