// Package bearer is the resource-server half of OAuth that the protected mock servers
// share (mocks/mcpserver, and the reference protected server): it validates bearer tokens
// against an Authority, locally for JWTs (signature, algorithm, issuer, lifetime) and by
// RFC 7662 introspection, and writes RFC 6750 challenges with RFC 9728's resource_metadata.
// Audience and scope policy stay with each server: they differ between them.
package bearer

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v3"
)

// Authority is the authorization server a protected mock trusts.
type Authority interface {
	// Issuer is published as the PRM's authorization_servers entry; a JWT access token
	// must carry an iss claim naming it.
	Issuer() string
	// Scopes are the IdP's scopes, published as the PRM's scopes_supported when the server
	// requires no particular scope.
	Scopes() []string
	// Now is the IdP's clock (possibly a mock one); expiry is judged against it.
	Now() time.Time
	// JWKS holds the keys JWT access tokens are signed with; nil or empty when the IdP
	// issues opaque tokens only.
	JWKS() *jose.JSONWebKeySet
	// Introspect reports on a token (RFC 7662). It is consulted for every request: it is
	// the only check for opaque tokens and the revocation check for JWTs. An inactive or
	// unknown token is TokenInfo{Active: false} with a nil error; an error means the
	// authority could not answer.
	Introspect(ctx context.Context, token string) (TokenInfo, error)
}

// TokenInfo is what an Authority knows about a token.
type TokenInfo struct {
	Active    bool
	Subject   string
	Scopes    []string
	Audience  []string
	ClientID  string
	ExpiresAt time.Time // zero: unknown
	Claims    map[string]any
}

// FromHeader returns the token of an `Authorization: Bearer` header value.
func FromHeader(header string) (string, error) {
	if header == "" {
		return "", errors.New("missing Authorization header")
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", errors.New("the Authorization header must use the Bearer scheme")
	}
	return strings.TrimSpace(token), nil
}

// Challenge is an RFC 6750 error response with RFC 9728's pointer to the resource metadata.
type Challenge struct {
	Status int
	// Error is the RFC 6750 code (invalid_token, insufficient_scope, invalid_request);
	// empty for a request that carried no credentials at all (RFC 6750 §3.1).
	Error            string
	Description      string
	ResourceMetadata string
	Scope            string
}

// Header is the WWW-Authenticate value. A 401 names the metadata first, since that is
// what a client needs to start a login; other statuses lead with the error.
func (c Challenge) Header() string {
	var params []string
	errs := []string{}
	if c.Error != "" {
		errs = append(errs, authParam("error", c.Error))
		if c.Description != "" {
			errs = append(errs, authParam("error_description", c.Description))
		}
	}
	rm := []string{}
	if c.ResourceMetadata != "" {
		rm = append(rm, authParam("resource_metadata", c.ResourceMetadata))
	}
	if c.Status == http.StatusUnauthorized {
		params = append(rm, errs...)
	} else {
		params = append(errs, rm...)
	}
	if c.Scope != "" {
		params = append(params, authParam("scope", c.Scope))
	}
	if len(params) == 0 {
		return "Bearer"
	}
	return "Bearer " + strings.Join(params, ", ")
}

// Write sends the challenge: the WWW-Authenticate header and WriteBody.
func (c Challenge) Write(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", c.Header())
	c.WriteBody(w)
}

// WriteBody sends the status and a JSON body naming the error, without WWW-Authenticate.
func (c Challenge) WriteBody(w http.ResponseWriter) {
	body := map[string]string{}
	if c.Error != "" {
		body["error"] = c.Error
	}
	if c.Description != "" {
		body["error_description"] = c.Description
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(c.Status)
	_ = json.NewEncoder(w).Encode(body)
}

// authParam quotes a value for an auth-param. RFC 6750 §3 forbids '"' and '\' in these
// values, so they are replaced rather than escaped.
func authParam(name, value string) string {
	value = strings.NewReplacer(`"`, "'", `\`, "/").Replace(value)
	return name + `="` + value + `"`
}
