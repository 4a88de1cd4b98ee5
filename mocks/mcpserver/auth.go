package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/muster-test/muster-test/mocks/bearer"
)

// Authority is the authorization server a protected mock trusts (see bearer.Authority).
// The scenario runner adapts its mock IdP to it.
type Authority = bearer.Authority

// TokenInfo is what an Authority knows about a token.
type TokenInfo = bearer.TokenInfo

// caller is the validated identity behind a request of a protected mock.
type caller struct {
	Token string
	TokenInfo
}

type callerKey struct{}

func withCaller(ctx context.Context, c *caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

func callerFrom(ctx context.Context) *caller {
	c, _ := ctx.Value(callerKey{}).(*caller)
	return c
}

// authError is a rejected request: status 401 (invalid_token) or 403 (insufficient_scope).
type authError struct {
	status int
	code   string
	desc   string
}

func (e *authError) Error() string { return e.code + ": " + e.desc }

func invalidToken(format string, a ...any) *authError {
	return &authError{status: http.StatusUnauthorized, code: "invalid_token", desc: fmt.Sprintf(format, a...)}
}

// guard validates bearer tokens against an Authority and answers challenges.
type guard struct {
	authority Authority
	scopes    []string
	audience  string
	prmURL    string
	validator bearer.Validator
}

// ServeHTTP-style middleware: requests with a good token reach next with the caller in
// their context; others get the challenge.
func (g *guard) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who, aerr := g.authenticate(r)
		if aerr != nil {
			g.challenge(w, aerr)
			return
		}
		next.ServeHTTP(w, r.WithContext(withCaller(r.Context(), who)))
	})
}

func (g *guard) authenticate(r *http.Request) (*caller, *authError) {
	token, err := bearer.FromHeader(r.Header.Get("Authorization"))
	if err != nil {
		return nil, invalidToken("%v", err)
	}
	info, err := g.validator.Validate(r.Context(), token)
	if err != nil {
		return nil, invalidToken("%v", err)
	}
	if g.audience != "" && !slices.Contains(info.Audience, g.audience) {
		return nil, invalidToken("token audience %q does not include %q", info.Audience, g.audience)
	}
	for _, s := range g.scopes {
		if !slices.Contains(info.Scopes, s) {
			return nil, &authError{status: http.StatusForbidden, code: "insufficient_scope",
				desc: fmt.Sprintf("token lacks the required scope %q", strings.Join(g.scopes, " "))}
		}
	}
	return &caller{Token: token, TokenInfo: info}, nil
}

// challenge writes the RFC 6750 error response with RFC 9728's resource_metadata pointer.
func (g *guard) challenge(w http.ResponseWriter, e *authError) {
	bearer.Challenge{Status: e.status, Error: e.code, Description: e.desc,
		ResourceMetadata: g.prmURL, Scope: strings.Join(g.scopes, " ")}.Write(w)
}

// prm is an RFC 9728 Protected Resource Metadata document.
type prm struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	ScopesSupported        []string `json:"scopes_supported,omitempty"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
}

// prmHandler serves the document for one resource identifier. It is public: a client
// reads it to learn where to get a token.
func (g *guard) prmHandler(resource string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		scopes := g.scopes
		if len(scopes) == 0 {
			scopes = g.authority.Scopes()
		}
		doc := prm{
			Resource:               resource,
			AuthorizationServers:   []string{g.authority.Issuer()},
			ScopesSupported:        scopes,
			BearerMethodsSupported: []string{"header"},
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		_ = json.NewEncoder(w).Encode(doc)
	})
}
