package env

import (
	"context"
	"time"

	jose "github.com/go-jose/go-jose/v3"

	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// authority lets a protected mock MCP server trust a mock IdP. The mocks know nothing of
// each other; this adapter is the only place they meet, and it passes the IdP's clock
// through so advancing it expires tokens at the server too.
type authority struct {
	s      *idp.Server
	scopes []string // the IdP's configured scopes, as the scenario declared them
}

func (a authority) Issuer() string   { return a.s.Issuer() }
func (a authority) Scopes() []string { return a.scopes }
func (a authority) Now() time.Time   { return a.s.Clock().Now() }

func (a authority) JWKS() *jose.JSONWebKeySet {
	set := a.s.JWKS()
	return &set
}

func (a authority) Introspect(ctx context.Context, token string) (mcpserver.TokenInfo, error) {
	in, err := a.s.Introspect(ctx, token)
	if err != nil {
		return mcpserver.TokenInfo{}, err
	}
	return mcpserver.TokenInfo{Active: in.Active && in.TokenUse != "refresh_token", Subject: in.Subject, Scopes: in.Scope,
		Audience: in.Audience, ClientID: in.ClientID, ExpiresAt: in.ExpiresAt, Claims: in.Claims}, nil
}
