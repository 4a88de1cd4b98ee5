package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
)

// Authority is the authorization server a protected mock trusts. The scenario runner
// adapts its mock IdP to it.
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

	// verified remembers JWTs whose signature checked out, with the key that signed them:
	// a gateway sends the same token on every request, and the signature check dominates
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
	token, err := bearerToken(r.Header.Get("Authorization"))
	if err != nil {
		return nil, invalidToken("%v", err)
	}
	info, aerr := g.validate(r.Context(), token)
	if aerr != nil {
		return nil, aerr
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

func bearerToken(header string) (string, error) {
	if header == "" {
		return "", errors.New("missing Authorization header")
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", errors.New("the Authorization header must use the Bearer scheme")
	}
	return strings.TrimSpace(token), nil
}

// validate checks a JWT's signature, issuer and lifetime locally, then asks the authority
// whether the token is still active (revocation). Opaque tokens rely on introspection alone.
func (g *guard) validate(ctx context.Context, token string) (TokenInfo, *authError) {
	now := g.authority.Now()
	var info TokenInfo
	isJWT := false
	if jwks := g.authority.JWKS(); jwks != nil && len(jwks.Keys) > 0 && strings.Count(token, ".") == 2 {
		parsed, err := jwt.ParseSigned(token)
		if err == nil {
			isJWT = true
			if info, err = g.verifyJWT(token, parsed, jwks); err != nil {
				return info, invalidToken("%v", err)
			}
			// Judged before introspection so the description names the cause.
			if aerr := expired(info, now); aerr != nil {
				return info, aerr
			}
		}
	}
	intro, err := g.authority.Introspect(ctx, token)
	if err != nil {
		return info, invalidToken("token introspection failed: %v", err)
	}
	if !intro.Active {
		return info, invalidToken("the access token is not active (unknown, revoked or expired)")
	}
	if !isJWT {
		info = intro
	} else {
		mergeMissing(&info, intro)
	}
	if aerr := expired(info, now); aerr != nil {
		return info, aerr
	}
	info.Active = true
	return info, nil
}

func expired(info TokenInfo, now time.Time) *authError {
	if !info.ExpiresAt.IsZero() && !now.Before(info.ExpiresAt) {
		return invalidToken("the access token expired at %s", info.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// jwtClaims are the access-token claims the mock reads (RFC 9068 and common variants).
type jwtClaims struct {
	jwt.Claims
	Scope    any    `json:"scope"`
	Scp      any    `json:"scp"`
	ClientID string `json:"client_id"`
}

func (g *guard) verifyJWT(raw string, tok *jwt.JSONWebToken, jwks *jose.JSONWebKeySet) (TokenInfo, error) {
	var info TokenInfo
	v, err := g.checkSignature(raw, tok, jwks)
	if err != nil {
		return info, err
	}
	claims := v.claims
	now := g.authority.Now()
	// RFC 9068 makes iss mandatory in a JWT access token; a token without one cannot be
	// tied to the authority whose key happens to verify it.
	if claims.Issuer == "" {
		return info, errors.New("the JWT access token has no iss claim")
	}
	if want := g.authority.Issuer(); want != "" &&
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
	info.Claims = maps.Clone(v.all)
	return info, nil
}

func (g *guard) checkSignature(raw string, tok *jwt.JSONWebToken, jwks *jose.JSONWebKeySet) (verifiedJWT, error) {
	keys := jwks.Keys
	kid := ""
	if len(tok.Headers) > 0 {
		kid = tok.Headers[0].KeyID
	}
	if kid != "" {
		if keys = jwks.Key(kid); len(keys) == 0 {
			return verifiedJWT{}, fmt.Errorf("no key %q in the issuer's JWKS", kid)
		}
		g.mu.Lock()
		v, ok := g.verified[raw]
		g.mu.Unlock()
		if ok && sameKey(v.key, keys[0].Key) {
			return v, nil
		}
	}
	v := verifiedJWT{kid: kid}
	verr := errors.New("the issuer's JWKS has no key")
	for _, k := range keys {
		if verr = tok.Claims(k.Public(), &v.claims, &v.all); verr == nil {
			v.key = k.Key
			break
		}
	}
	if verr != nil {
		return v, fmt.Errorf("signature check failed: %v", verr)
	}
	if kid != "" {
		g.mu.Lock()
		if g.verified == nil || len(g.verified) >= maxVerified {
			g.verified = map[string]verifiedJWT{}
		}
		g.verified[raw] = v
		g.mu.Unlock()
	}
	return v, nil
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

// challenge writes the RFC 6750 error response with RFC 9728's resource_metadata pointer.
func (g *guard) challenge(w http.ResponseWriter, e *authError) {
	params := []string{}
	if e.status == http.StatusUnauthorized {
		params = append(params, authParam("resource_metadata", g.prmURL), authParam("error", e.code),
			authParam("error_description", e.desc))
	} else {
		params = append(params, authParam("error", e.code), authParam("error_description", e.desc),
			authParam("resource_metadata", g.prmURL))
	}
	if len(g.scopes) > 0 {
		params = append(params, authParam("scope", strings.Join(g.scopes, " ")))
	}
	w.Header().Set("WWW-Authenticate", "Bearer "+strings.Join(params, ", "))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": e.code, "error_description": e.desc})
}

// authParam quotes a value for an auth-param. RFC 6750 §3 forbids '"' and '\' in these
// values, so they are replaced rather than escaped.
func authParam(name, value string) string {
	value = strings.NewReplacer(`"`, "'", `\`, "/").Replace(value)
	return name + `="` + value + `"`
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
