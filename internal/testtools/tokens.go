package testtools

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v3/jwt"

	"github.com/muster-test/muster-test/internal/executor"
	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/scenario"
)

// mintToken mints a JWT at a mock IdP, well formed or deliberately not, and keeps it under
// its name for test_http_request's token argument. The argument names follow newer
// muster's tool of the same name; scope, expires_in, not_before, alg and sign_with are
// ours, for negative checks.
func mintToken(_ context.Context, run *executor.State, args map[string]any) (map[string]any, error) {
	w, names, _, err := idps(run, args)
	if err != nil {
		return nil, err
	}
	s, _ := w.Env.IdP(names[0])
	name, sub := executor.StringArg(args, "name"), executor.StringArg(args, "sub")
	claims := map[string]any{}
	if extra, ok := args["claims"].(map[string]any); ok {
		// Any other claim the server reads (a tenant, a role); the named arguments win.
		maps.Copy(claims, extra)
	}
	claims["sub"], claims["client_id"] = sub, s.ClientID()
	for _, k := range []string{"iss", "email", "scope"} {
		if v := executor.StringArg(args, k); v != "" {
			claims[k] = v
		}
	}
	claims["aud"] = w.SUT.Endpoint // the SUT is the resource the token is for, unless aud says otherwise
	if aud := executor.StringArg(args, "aud"); aud != "" {
		claims["aud"] = aud
	}
	if v, ok := args["email_verified"].(bool); ok {
		claims["email_verified"] = v
	}
	if g, ok := args["groups"].([]any); ok {
		claims["groups"] = g
	}
	if act, ok := args["act"].(map[string]any); ok && len(act) > 0 {
		claims["act"] = act
	}
	life, _ := scenario.ToolDuration(args["expires_in"]) // checked against the declaration
	nbf, _ := scenario.ToolDuration(args["not_before"])
	signWith := executor.StringArg(args, "sign_with")
	switch alg := executor.StringArg(args, "alg"); alg {
	case "", s.SigningAlgorithm():
	case "none":
		signWith = idp.SignWithNone
	default:
		return nil, fmt.Errorf("alg %q: the mock IdP signs %s, or none for an unsigned token", alg, s.SigningAlgorithm())
	}
	if _, given := args["expires_in"]; given && life == 0 {
		life = -time.Second // expires_in: 0 asks for a token that is no longer valid
	}
	token, err := s.MintJWT(idp.MintOptions{Claims: claims, ExpiresIn: life, NotBefore: nbf,
		Type: executor.StringArg(args, "typ"), SignWith: signWith})
	if err != nil {
		return nil, err
	}
	if life == 0 {
		life = time.Hour
	}
	ownIssuer := claims["iss"] == nil || claims["iss"] == s.Issuer()
	if (signWith == "" || signWith == idp.SignWithIdP) && ownIssuer && life > 0 && nbf <= 0 {
		// Signed by the IdP's key as its own: the IdP issued it, so its introspection
		// answers for it too, as a server that checks revocation will ask.
		aud, _ := claims["aud"].(string)
		if err := s.InjectToken(token, idp.InjectOptions{Subject: sub, ClientID: s.ClientID(),
			Scopes: strings.Fields(executor.StringArg(args, "scope")), Audience: []string{aud}, ExpiresIn: life}); err != nil {
			return nil, fmt.Errorf("record the minted token at IdP %s: %w", names[0], err)
		}
	}
	w.mu.Lock()
	w.minted[name] = token
	w.mu.Unlock()
	return map[string]any{"success": true, "name": name, "subject": sub, "token": token, "claims": tokenClaims(token)}, nil
}

// tokenClaims decodes a JWT's claims without verifying it, for answers; nil for a token
// that is not a JWT.
func tokenClaims(token string) map[string]any {
	parsed, err := jwt.ParseSigned(token)
	if err != nil {
		return nil
	}
	var claims map[string]any
	if err := parsed.UnsafeClaimsWithoutVerification(&claims); err != nil {
		return nil
	}
	return claims
}

// bearerFor is the token a request of the current user carries: the token argument (a
// minted token's name, or a literal token; "" for none) when given, else the user's login
// token in direct mode (none before a login).
func (w *World) bearerFor(run *executor.State, args map[string]any) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if v, given := args["token"]; given {
		t, _ := v.(string)
		if minted, ok := w.minted[t]; ok {
			return minted
		}
		return strings.TrimSpace(t)
	}
	return w.tokens[run.CurrentUser()]
}
