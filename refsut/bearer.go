package refsut

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
)

// gatewayAlgs are the signature algorithms a gateway token may use: asymmetric only, so a
// token cannot be forged with a public key used as an HMAC secret, and never "none".
var gatewayAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// clockLeeway absorbs the second granularity of exp and nbf.
const clockLeeway = 5 * time.Second

// jwksMinRefetch bounds how often an unknown kid makes the gateway fetch the JWKS again, so
// a flood of forged tokens does not become a flood of requests to the IdP.
const jwksMinRefetch = 5 * time.Second

// tokenValidator checks the gateway's own bearer tokens (protected mode): JWT access tokens
// of the trusted IdP, verified locally against its JWKS. There is no introspection, so a
// token revoked at the IdP stays valid until it expires, as with any stateless resource
// server.
type tokenValidator struct {
	a   *Aggregator
	cfg ServerAuthConfig

	mu      sync.Mutex
	keys    *jose.JSONWebKeySet
	fetched time.Time
}

type gatewayClaims struct {
	jwt.Claims
	ClientID string `json:"client_id"`
}

// validate returns the token's subject, or why the token is refused (an
// error_description for the challenge).
func (v *tokenValidator) validate(ctx context.Context, raw string) (string, error) {
	tok, err := jwt.ParseSigned(raw)
	if err != nil {
		return "", errors.New("the access token is not a signed JWT")
	}
	if len(tok.Headers) != 1 || !slices.Contains(gatewayAlgs, tok.Headers[0].Algorithm) {
		return "", errors.New("the access token's signature algorithm is not accepted")
	}
	hdr := tok.Headers[0]
	var claims gatewayClaims
	if err := v.verify(ctx, tok, hdr, &claims); err != nil {
		return "", err
	}
	if strings.TrimSuffix(claims.Issuer, "/") != v.cfg.Issuer {
		return "", fmt.Errorf("the access token was issued by %q, not by the IdP this gateway trusts", claims.Issuer)
	}
	if claims.Expiry == nil {
		return "", errors.New("the access token has no exp claim")
	}
	switch err := claims.ValidateWithLeeway(jwt.Expected{Time: time.Now()}, clockLeeway); {
	case errors.Is(err, jwt.ErrExpired):
		return "", errors.New("the access token expired")
	case errors.Is(err, jwt.ErrNotValidYet), errors.Is(err, jwt.ErrIssuedInTheFuture):
		return "", errors.New("the access token is not valid yet")
	case err != nil:
		return "", fmt.Errorf("the access token's claims are invalid: %v", err)
	}
	if !slices.ContainsFunc(claims.Audience, v.acceptedAudience) {
		return "", fmt.Errorf("the access token's audience %v does not name this gateway (%s)", []string(claims.Audience), v.cfg.Resource)
	}
	if claims.Subject == "" {
		return "", errors.New("the access token has no sub claim")
	}
	return claims.Subject, nil
}

func (v *tokenValidator) acceptedAudience(aud string) bool {
	return aud == v.cfg.Resource || slices.Contains(v.cfg.Audiences, aud)
}

// verify checks the signature with a key of the IdP's JWKS, fetching the set again once
// when the token names a key it does not hold (the IdP may have rotated its keys).
func (v *tokenValidator) verify(ctx context.Context, tok *jwt.JSONWebToken, hdr jose.Header, into *gatewayClaims) error {
	for attempt := 0; attempt < 2; attempt++ {
		set, err := v.jwks(ctx, attempt > 0)
		if err != nil {
			return fmt.Errorf("the IdP's keys are not available: %v", err)
		}
		keys := set.Keys
		if hdr.KeyID != "" {
			keys = set.Key(hdr.KeyID)
		}
		for _, k := range keys {
			if k.Algorithm != "" && k.Algorithm != hdr.Algorithm {
				continue // a key that names its algorithm verifies only that one (RFC 7517 §4.4)
			}
			if tok.Claims(k.Public().Key, into) == nil {
				return nil
			}
		}
		if len(keys) > 0 {
			break // the key is known: the signature is wrong, not the key set stale
		}
	}
	return errors.New("the access token's signature does not verify with the IdP's keys")
}

// jwks returns the IdP's key set, fetched at first use and again when refresh is asked
// and the last fetch is old enough.
func (v *tokenValidator) jwks(ctx context.Context, refresh bool) (*jose.JSONWebKeySet, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.keys != nil && (!refresh || time.Since(v.fetched) < jwksMinRefetch) {
		return v.keys, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	md, err := v.a.metadata(ctx, v.cfg.Issuer)
	if err != nil {
		return nil, err
	}
	if md.JWKSURI == "" {
		return nil, fmt.Errorf("the metadata of %s has no jwks_uri", v.cfg.Issuer)
	}
	var set jose.JSONWebKeySet
	if err := v.a.getJSON(ctx, md.JWKSURI, &set); err != nil {
		return nil, err
	}
	v.keys, v.fetched = &set, time.Now()
	return v.keys, nil
}
