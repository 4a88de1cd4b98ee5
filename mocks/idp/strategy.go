package idp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/x/errorsx"
)

// clockStrategy wraps fosite's core token strategy so that issuance and validation use
// the IdP clock (see the package doc), fills RFC 9068 claims for JWT access tokens, and
// knows the arbitrary strings registered with InjectToken.
type clockStrategy struct {
	inner oauth2.CoreStrategy
	clock *Clock
	// verifyKey is set when access tokens are JWTs; fosite's own JWT validation would
	// check exp against the wall clock, so the signature is verified here instead.
	verifyKey *jose.JSONWebKey

	mu       sync.RWMutex
	injected map[string]string // token -> storage signature
}

var _ oauth2.CoreStrategy = (*clockStrategy)(nil)

const injectedPrefix = "injected:"

func (c *clockStrategy) inject(token string) string {
	sum := sha256.Sum256([]byte(token))
	sig := injectedPrefix + hex.EncodeToString(sum[:])
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.injected == nil {
		c.injected = map[string]string{}
	}
	c.injected[token] = sig
	return sig
}

func (c *clockStrategy) injectedSig(token string) (string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	sig, ok := c.injected[token]
	return sig, ok
}

func (c *clockStrategy) AccessTokenSignature(ctx context.Context, token string) string {
	if sig, ok := c.injectedSig(token); ok {
		return sig
	}
	return c.inner.AccessTokenSignature(ctx, token)
}

func (c *clockStrategy) GenerateAccessToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	s := asSession(r)
	if s == nil {
		return "", "", errorsx.WithStack(fosite.ErrServerError.WithDebug("unexpected session type"))
	}
	s.shiftOntoClock(c.clock)
	s.IssuedAt = c.clock.Now().Truncate(time.Second)
	if c.verifyKey != nil {
		c.fillJWTClaims(s, r)
		r = audienceDefaulted{Requester: r}
	}
	return c.inner.GenerateAccessToken(ctx, r)
}

// fillJWTClaims sets the RFC 9068 claims fosite does not derive itself. A refreshed
// session is a clone of the old one, so jti and iat are reset on every issuance.
func (c *clockStrategy) fillJWTClaims(s *session, r fosite.Requester) {
	cl := s.JWTClaims
	cl.Subject = s.GetSubject()
	cl.JTI = ""
	cl.IssuedAt = s.IssuedAt
	cl.Extra = maps.Clone(s.UserClaims)
	if cl.Extra == nil {
		cl.Extra = map[string]any{}
	}
	cl.Extra["client_id"] = r.GetClient().GetID()
}

// audienceDefaulted gives a JWT access token without a granted resource its client as
// audience: RFC 9068 requires aud.
type audienceDefaulted struct{ fosite.Requester }

func (a audienceDefaulted) GetGrantedAudience() fosite.Arguments {
	if aud := a.Requester.GetGrantedAudience(); len(aud) > 0 {
		return aud
	}
	return fosite.Arguments{a.GetClient().GetID()}
}

func (c *clockStrategy) ValidateAccessToken(ctx context.Context, r fosite.Requester, token string) error {
	if err := c.checkExpiry(r, fosite.AccessToken, "Access token"); err != nil {
		return err
	}
	if _, ok := c.injectedSig(token); ok {
		return nil
	}
	if c.verifyKey != nil {
		jws, err := jose.ParseSigned(token)
		if err != nil {
			return errorsx.WithStack(fosite.ErrInvalidTokenFormat.WithWrap(err))
		}
		if _, err := jws.Verify(c.verifyKey); err != nil {
			return errorsx.WithStack(fosite.ErrTokenSignatureMismatch.WithWrap(err))
		}
		return nil
	}
	return c.inner.ValidateAccessToken(ctx, wallClockValid(r, fosite.AccessToken), token)
}

func (c *clockStrategy) RefreshTokenSignature(ctx context.Context, token string) string {
	return c.inner.RefreshTokenSignature(ctx, token)
}

func (c *clockStrategy) GenerateRefreshToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	if s := asSession(r); s != nil {
		s.shiftOntoClock(c.clock)
	}
	return c.inner.GenerateRefreshToken(ctx, r)
}

func (c *clockStrategy) ValidateRefreshToken(ctx context.Context, r fosite.Requester, token string) error {
	if err := c.checkExpiry(r, fosite.RefreshToken, "Refresh token"); err != nil {
		return err
	}
	return c.inner.ValidateRefreshToken(ctx, wallClockValid(r, fosite.RefreshToken), token)
}

func (c *clockStrategy) AuthorizeCodeSignature(ctx context.Context, token string) string {
	return c.inner.AuthorizeCodeSignature(ctx, token)
}

func (c *clockStrategy) GenerateAuthorizeCode(ctx context.Context, r fosite.Requester) (string, string, error) {
	return c.inner.GenerateAuthorizeCode(ctx, r)
}

func (c *clockStrategy) ValidateAuthorizeCode(ctx context.Context, r fosite.Requester, token string) error {
	if err := c.checkExpiry(r, fosite.AuthorizeCode, "Authorization code"); err != nil {
		return err
	}
	return c.inner.ValidateAuthorizeCode(ctx, wallClockValid(r, fosite.AuthorizeCode), token)
}

func (c *clockStrategy) checkExpiry(r fosite.Requester, tt fosite.TokenType, what string) error {
	exp := r.GetSession().GetExpiresAt(tt)
	if !exp.IsZero() && !c.clock.Now().Before(exp) {
		return errorsx.WithStack(fosite.ErrTokenExpired.WithHintf("%s expired at '%s' (IdP clock).", what, exp.Format(time.RFC3339)))
	}
	return nil
}

// wallClockValid hands fosite a view of r whose expiry is far ahead of the wall clock: the
// expiry was already checked against the IdP clock, and fosite should only check the
// token's HMAC. The stored session is not modified.
func wallClockValid(r fosite.Requester, tt fosite.TokenType) fosite.Requester {
	s := r.GetSession().Clone()
	s.SetExpiresAt(tt, time.Now().UTC().Add(24*time.Hour))
	return sessionOverride{Requester: r, s: s}
}

type sessionOverride struct {
	fosite.Requester
	s fosite.Session
}

func (o sessionOverride) GetSession() fosite.Session { return o.s }

// idTokenStrategy puts ID tokens on the IdP clock (exp; fosite stamps iat itself) and adds
// the user's claims.
type idTokenStrategy struct {
	inner openid.OpenIDConnectTokenStrategy
	clock *Clock
}

func (i *idTokenStrategy) GenerateIDToken(ctx context.Context, lifespan time.Duration, r fosite.Requester) (string, error) {
	if s := asSession(r); s != nil {
		claims := s.IDTokenClaims()
		claims.Subject = s.GetSubject()
		claims.ExpiresAt = time.Time{}
		if exp := i.clock.Now().Add(lifespan); exp.After(time.Now()) {
			claims.ExpiresAt = exp
		}
		if claims.Extra == nil {
			claims.Extra = map[string]any{}
		}
		maps.Copy(claims.Extra, s.UserClaims)
	}
	return i.inner.GenerateIDToken(ctx, lifespan, r)
}
