package oauthclient

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/go-jose/go-jose/v3/jwt"
	"golang.org/x/oauth2"
)

// ErrNoToken is returned by Token before any login.
var ErrNoToken = errors.New("oauthclient: not logged in")

// Token returns the current access token, refreshed first when it has expired.
func (c *Client) Token(ctx context.Context) (*oauth2.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok == nil {
		return nil, ErrNoToken
	}
	if c.tok.Valid() {
		return c.tok, nil
	}
	return c.refreshLocked(ctx)
}

// currentToken is the token as it is, expired or not (nil before a login).
func (c *Client) currentToken() *oauth2.Token {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tok
}

// Refresh exchanges the refresh token for a new access token now, expired or not.
func (c *Client) Refresh(ctx context.Context) (*oauth2.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok == nil {
		return nil, ErrNoToken
	}
	return c.refreshLocked(ctx)
}

// Scopes returns the scopes the current token was granted (as the token response said,
// else as requested).
func (c *Client) Scopes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.granted...)
}

func (c *Client) refreshLocked(ctx context.Context) (*oauth2.Token, error) {
	if c.tok.RefreshToken == "" {
		return nil, errors.New("the access token expired and there is no refresh token")
	}
	conf := c.oauthConfig(c.disc, c.reg, c.scopes)
	rctx := c.oauthCtx(ctx, PhaseRefresh)
	if !c.cfg.Faults.OmitResource {
		// RFC 8707 §2.2: the resource belongs on refresh requests too.
		rctx = withExtraForm(rctx, url.Values{"resource": {c.resource(c.disc)}})
	}
	tok, err := conf.TokenSource(rctx, &oauth2.Token{RefreshToken: c.tok.RefreshToken}).Token()
	if err != nil {
		return nil, tokenError("refresh request", err)
	}
	c.tok = tok
	c.granted = grantedScopes(tok, c.scopes)
	return tok, nil
}

// decodeClaims returns the claims of a JWT access token without verifying it (the client
// is not its audience and may not know the keys); nil for an opaque token.
func decodeClaims(token string) (map[string]any, error) {
	if strings.Count(token, ".") != 2 {
		return nil, nil
	}
	parsed, err := jwt.ParseSigned(token)
	if err != nil {
		return nil, nil // three dot-separated parts but no JWS: an opaque token after all
	}
	claims := map[string]any{}
	if err := parsed.UnsafeClaimsWithoutVerification(&claims); err != nil {
		return nil, err
	}
	return claims, nil
}
