package bearer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
)

// Validator checks tokens against one Authority. The zero value with Authority set checks
// everything; it is safe for concurrent use.
type Validator struct {
	Authority Authority
	// LocalOnly validates JWTs with the JWKS alone and never introspects: no revocation
	// check, and opaque tokens are refused (a stateless resource server).
	LocalOnly bool
	// IgnoreExpiry skips the local exp check: a deliberate fault of the reference server.
	IgnoreExpiry bool

	// verified remembers JWTs whose signature checked out, with the key that signed them:
	// a client sends the same token on every request, and the signature check dominates
	// the cost of a call. Time checks and introspection still run every time.
	mu       sync.Mutex
	verified map[string]verifiedJWT
}

type verifiedJWT struct {
	kid    string
	key    any
	claims jwtClaims
	all    map[string]any
}

// maxVerified bounds the cache; it is emptied when full (tokens are few in a scenario).
const maxVerified = 4096

// Validate checks a JWT's signature, algorithm, issuer and lifetime locally, then asks the
// authority whether the token is still active (revocation) unless LocalOnly. Opaque tokens
// rely on introspection alone. The error describes why a token is refused; it is the
// error_description of an invalid_token challenge.
func (v *Validator) Validate(ctx context.Context, token string) (TokenInfo, error) {
	now := v.Authority.Now()
	var info TokenInfo
	isJWT := false
	if jwks := v.Authority.JWKS(); jwks != nil && len(jwks.Keys) > 0 && strings.Count(token, ".") == 2 {
		parsed, err := jwt.ParseSigned(token)
		if err == nil {
			isJWT = true
			if info, err = v.verifyJWT(token, parsed, jwks); err != nil {
				return info, err
			}
			// Judged before introspection so the description names the cause.
			if err := v.expired(info, now); err != nil {
				return info, err
			}
		}
	}
	if v.LocalOnly {
		if !isJWT {
			return info, errors.New("the access token is not a JWT signed by a key of the issuer's JWKS")
		}
		info.Active = true
		return info, nil
	}
	intro, err := v.Authority.Introspect(ctx, token)
	if err != nil {
		return info, fmt.Errorf("token introspection failed: %v", err)
	}
	if !intro.Active {
		return info, errors.New("the access token is not active (unknown, revoked or expired)")
	}
	if !isJWT {
		info = intro
	} else {
		mergeMissing(&info, intro)
	}
	if err := v.expired(info, now); err != nil {
		return info, err
	}
	info.Active = true
	return info, nil
}

func (v *Validator) expired(info TokenInfo, now time.Time) error {
	if !v.IgnoreExpiry && !info.ExpiresAt.IsZero() && !now.Before(info.ExpiresAt) {
		return fmt.Errorf("the access token expired at %s", info.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// jwtClaims are the access-token claims read here (RFC 9068 and common variants).
type jwtClaims struct {
	jwt.Claims
	Scope    any    `json:"scope"`
	Scp      any    `json:"scp"`
	ClientID string `json:"client_id"`
}

func (v *Validator) verifyJWT(raw string, tok *jwt.JSONWebToken, jwks *jose.JSONWebKeySet) (TokenInfo, error) {
	var info TokenInfo
	vj, err := v.checkSignature(raw, tok, jwks)
	if err != nil {
		return info, err
	}
	claims := vj.claims
	now := v.Authority.Now()
	// RFC 9068 makes iss mandatory in a JWT access token; a token without one cannot be
	// tied to the authority whose key happens to verify it.
	if claims.Issuer == "" {
		return info, errors.New("the JWT access token has no iss claim")
	}
	if want := v.Authority.Issuer(); want != "" &&
		strings.TrimSuffix(claims.Issuer, "/") != strings.TrimSuffix(want, "/") {
		return info, fmt.Errorf("token issuer %q is not %q", claims.Issuer, want)
	}
	if claims.NotBefore != nil && now.Before(claims.NotBefore.Time()) {
		return info, errors.New("the access token is not valid yet")
	}
	info.Subject = claims.Subject
	info.Audience = slices.Clone([]string(claims.Audience))
	info.ClientID = claims.ClientID
	info.Scopes = append(scopeList(claims.Scope), scopeList(claims.Scp)...)
	if claims.Expiry != nil {
		info.ExpiresAt = claims.Expiry.Time()
	}
	info.Claims = maps.Clone(vj.all)
	return info, nil
}

func (v *Validator) checkSignature(raw string, tok *jwt.JSONWebToken, jwks *jose.JSONWebKeySet) (verifiedJWT, error) {
	keys := jwks.Keys
	kid, alg := "", ""
	if len(tok.Headers) > 0 {
		kid, alg = tok.Headers[0].KeyID, tok.Headers[0].Algorithm
	}
	if kid != "" {
		if keys = jwks.Key(kid); len(keys) == 0 {
			return verifiedJWT{}, fmt.Errorf("no key %q in the issuer's JWKS", kid)
		}
		v.mu.Lock()
		vj, ok := v.verified[raw]
		v.mu.Unlock()
		if ok && sameKey(vj.key, keys[0].Key) {
			return vj, nil
		}
	}
	vj := verifiedJWT{kid: kid}
	verr := errors.New("the issuer's JWKS has no key")
	for _, k := range keys {
		// A key that names its algorithm verifies only that one (RFC 7517 §4.4).
		if k.Algorithm != "" && k.Algorithm != alg {
			verr = fmt.Errorf("algorithm %q is not the key's %q", alg, k.Algorithm)
			continue
		}
		if verr = tok.Claims(k.Public(), &vj.claims, &vj.all); verr == nil {
			vj.key = k.Key
			break
		}
	}
	if verr != nil {
		return vj, fmt.Errorf("signature check failed: %v", verr)
	}
	if kid != "" {
		v.mu.Lock()
		if v.verified == nil || len(v.verified) >= maxVerified {
			v.verified = map[string]verifiedJWT{}
		}
		v.verified[raw] = vj
		v.mu.Unlock()
	}
	return vj, nil
}

// sameKey reports whether the JWKS still holds the very key a token was verified with
// (identity, not equality: a rotated key under the same kid is a different value).
func sameKey(a, b any) bool {
	if a == nil || b == nil || !reflect.TypeOf(a).Comparable() || reflect.TypeOf(a) != reflect.TypeOf(b) {
		return false
	}
	return a == b
}

func scopeList(v any) []string {
	switch x := v.(type) {
	case string:
		return strings.Fields(x)
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// mergeMissing fills what the JWT did not say from introspection.
func mergeMissing(info *TokenInfo, intro TokenInfo) {
	if info.Subject == "" {
		info.Subject = intro.Subject
	}
	if len(info.Scopes) == 0 {
		info.Scopes = intro.Scopes
	}
	if len(info.Audience) == 0 {
		info.Audience = intro.Audience
	}
	if info.ClientID == "" {
		info.ClientID = intro.ClientID
	}
	if info.ExpiresAt.IsZero() || (!intro.ExpiresAt.IsZero() && intro.ExpiresAt.Before(info.ExpiresAt)) {
		info.ExpiresAt = intro.ExpiresAt
	}
}
