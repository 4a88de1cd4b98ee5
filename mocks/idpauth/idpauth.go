// Package idpauth lets a protected mock MCP server (mocks/mcpserver) trust a mock IdP
// (mocks/idp). The two mocks know nothing of each other; this adapter is where they meet,
// and it passes the IdP's clock through, so advancing it expires tokens at the server too.
package idpauth

import (
	"context"
	"time"

	jose "github.com/go-jose/go-jose/v3"

	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// New returns s as the Authority of a protected mock server.
func New(s *idp.Server) mcpserver.Authority { return authority{s} }

type authority struct{ s *idp.Server }

func (a authority) Issuer() string   { return a.s.Issuer() }
func (a authority) Scopes() []string { return a.s.Scopes() }
func (a authority) Now() time.Time   { return a.s.Clock().Now() }

func (a authority) JWKS() *jose.JSONWebKeySet {
	set := a.s.JWKS()
	return &set
}

// Introspect reports on an access token. The IdP's introspection also answers for refresh
// tokens; a resource server must not accept those as access tokens.
func (a authority) Introspect(ctx context.Context, token string) (mcpserver.TokenInfo, error) {
	in, err := a.s.Introspect(ctx, token)
	if err != nil {
		return mcpserver.TokenInfo{}, err
	}
	return mcpserver.TokenInfo{Active: in.Active && in.TokenUse == "access_token", Subject: in.Subject, Scopes: in.Scope,
		Audience: in.Audience, ClientID: in.ClientID, ExpiresAt: in.ExpiresAt, Claims: in.Claims}, nil
}
