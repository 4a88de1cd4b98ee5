package idp

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/x/errorsx"
)

// RFC 8693 token type identifiers.
const (
	TokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
	TokenTypeJWT         = "urn:ietf:params:oauth:token-type:jwt"
	TokenTypeIDToken     = "urn:ietf:params:oauth:token-type:id_token"
)

// exchangeHandler is the RFC 8693 token-exchange grant, which fosite lacks, as a fosite
// token endpoint handler: client authentication, error writing and storage stay fosite's.
type exchangeHandler struct {
	s      *Server
	helper *oauth2.HandleHelper
}

func (s *Server) tokenExchangeFactory(config fosite.Configurator, storage, strategy any) any {
	return &exchangeHandler{s: s, helper: &oauth2.HandleHelper{
		AccessTokenStrategy: strategy.(oauth2.AccessTokenStrategy),
		AccessTokenStorage:  storage.(oauth2.AccessTokenStorage),
		Config:              config,
	}}
}

func (h *exchangeHandler) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool {
	return false
}

func (h *exchangeHandler) CanHandleTokenEndpointRequest(_ context.Context, r fosite.AccessRequester) bool {
	return r.GetGrantTypes().ExactOne(grantTokenExchange)
}

func (h *exchangeHandler) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	if !h.CanHandleTokenEndpointRequest(ctx, r) {
		return errorsx.WithStack(fosite.ErrUnknownRequest)
	}
	client := r.GetClient()
	if !client.GetGrantTypes().Has(grantTokenExchange) {
		return errorsx.WithStack(fosite.ErrUnauthorizedClient.WithHint("The client may not use the token-exchange grant."))
	}
	form := r.GetRequestForm()
	token, tokenType := form.Get("subject_token"), form.Get("subject_token_type")
	if token == "" || tokenType == "" {
		return errorsx.WithStack(fosite.ErrInvalidRequest.WithHint("subject_token and subject_token_type are required."))
	}
	if !slices.Contains([]string{TokenTypeAccessToken, TokenTypeJWT, TokenTypeIDToken}, tokenType) {
		return errorsx.WithStack(fosite.ErrInvalidRequest.WithHintf("Unsupported subject_token_type %q.", tokenType))
	}
	if rt := form.Get("requested_token_type"); rt != "" && rt != TokenTypeAccessToken {
		return errorsx.WithStack(fosite.ErrInvalidRequest.WithHintf("Unsupported requested_token_type %q.", rt))
	}
	subject, claims, err := h.s.verifySubjectToken(ctx, token, tokenType, form.Get("connector_id"))
	if err != nil {
		return errorsx.WithStack(fosite.ErrInvalidGrant.WithHint(err.Error()))
	}
	for _, sc := range r.GetRequestedScopes() {
		if !fosite.ExactScopeStrategy(client.GetScopes(), sc) {
			return errorsx.WithStack(fosite.ErrInvalidScope.WithHintf("The client may not request scope %q.", sc))
		}
		r.GrantScope(sc)
	}
	if err := audienceStrategy(client.GetAudience(), r.GetRequestedAudience()); err != nil {
		return err
	}
	for _, a := range r.GetRequestedAudience() {
		r.GrantAudience(a)
	}
	sess := asSession(r)
	if sess == nil {
		return errorsx.WithStack(fosite.ErrServerError.WithDebug("unexpected session type"))
	}
	sess.SetSubject(subject)
	sess.UserClaims = claims
	for k, v := range h.s.users.claims(subject) {
		sess.UserClaims[k] = v
	}
	// On the IdP clock, as the token endpoint tells expires_in: a wall-clock stamp
	// shifted later would be off by the time in between.
	sess.setClockExpiry(fosite.AccessToken, h.s.clock.Now().Add(h.s.cfg.TokenLifetime))
	return nil
}

func (h *exchangeHandler) PopulateTokenEndpointResponse(ctx context.Context, r fosite.AccessRequester, resp fosite.AccessResponder) error {
	if !h.CanHandleTokenEndpointRequest(ctx, r) {
		return errorsx.WithStack(fosite.ErrUnknownRequest)
	}
	if _, err := h.helper.IssueAccessToken(ctx, h.s.cfg.TokenLifetime, r, resp); err != nil {
		return errorsx.WithStack(fosite.ErrServerError.WithWrap(err).WithDebug(err.Error()))
	}
	resp.SetExtra("issued_token_type", TokenTypeAccessToken)
	return nil
}

// registeredClaims are JWT claims that describe the token, not the user.
var registeredClaims = []string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id",
	"scope", "scp", "azp", "nonce", "at_hash", "c_hash", "auth_time", "rat", "typ", "amr", "acr", "sid"}

// verifySubjectToken accepts a JWT signed by a trusted issuer's key (and unexpired on that
// issuer's clock when it is a mock IdP, else on ours; not revoked when it is an access
// token and the issuer can introspect), or an opaque token a trusted issuer introspects as
// an active access token. It returns the subject and the user claims.
func (s *Server) verifySubjectToken(ctx context.Context, token, tokenType, connectorID string) (string, map[string]any, error) {
	candidates := make([]TrustedIssuer, 0, len(s.trusted))
	for _, t := range s.trusted {
		if connectorID == "" || t.ConnectorID == connectorID {
			candidates = append(candidates, t)
		}
	}
	if strings.Count(token, ".") == 2 {
		return s.verifyJWTSubject(ctx, token, tokenType, candidates)
	}
	for _, t := range candidates {
		if t.Introspect == nil {
			continue
		}
		in, err := t.Introspect(ctx, token)
		if err == nil && in.Active && in.TokenUse == string(fosite.AccessToken) && in.Subject != "" {
			claims := map[string]any{}
			for k, v := range in.Claims {
				claims[k] = v
			}
			return in.Subject, claims, nil
		}
	}
	return "", nil, fmt.Errorf("the subject token is not an active token of a trusted issuer")
}

func (s *Server) verifyJWTSubject(ctx context.Context, token, tokenType string, candidates []TrustedIssuer) (string, map[string]any, error) {
	jws, err := jose.ParseSigned(token)
	if err != nil || len(jws.Signatures) != 1 {
		return "", nil, fmt.Errorf("the subject token is not a well-formed JWS")
	}
	var unverified struct {
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &unverified); err != nil {
		return "", nil, fmt.Errorf("the subject token's payload is not JSON")
	}
	idx := slices.IndexFunc(candidates, func(t TrustedIssuer) bool { return t.Issuer == unverified.Iss })
	if idx < 0 {
		return "", nil, fmt.Errorf("issuer %q is not trusted", unverified.Iss)
	}
	t := candidates[idx]
	if t.JWKS == nil {
		return "", nil, fmt.Errorf("issuer %q has no JWKS configured", t.Issuer)
	}
	set, err := t.JWKS(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("JWKS of %q: %v", t.Issuer, err)
	}
	kid := jws.Signatures[0].Header.KeyID
	keys := set.Key(kid)
	if kid == "" {
		keys = set.Keys
	}
	var payload []byte
	for _, k := range keys {
		if payload, err = jws.Verify(k); err == nil {
			break
		}
	}
	if payload == nil {
		return "", nil, fmt.Errorf("the subject token's signature does not verify with the JWKS of %q", t.Issuer)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		return "", nil, fmt.Errorf("the subject token's claims are not a JSON object")
	}
	now := s.clock.Now()
	if t.Server != nil {
		now = t.Server.Clock().Now()
	}
	exp, ok := claims["exp"].(float64)
	if !ok {
		return "", nil, fmt.Errorf("the subject token has no exp")
	}
	if !now.Before(time.Unix(int64(exp), 0)) {
		return "", nil, fmt.Errorf("the subject token expired at %s", time.Unix(int64(exp), 0).UTC().Format(time.RFC3339))
	}
	if nbf, ok := claims["nbf"].(float64); ok && now.Before(time.Unix(int64(nbf), 0)) {
		return "", nil, fmt.Errorf("the subject token is not valid yet")
	}
	sub, _ := claims["sub"].(string)
	if sub == "" {
		return "", nil, fmt.Errorf("the subject token has no sub")
	}
	if err := checkNotRevoked(ctx, t, token, tokenType, jws.Signatures[0].Header); err != nil {
		return "", nil, err
	}
	for _, k := range registeredClaims {
		delete(claims, k)
	}
	return sub, claims, nil
}

// checkNotRevoked asks the issuer of a JWT access token whether it still holds: signature
// and exp outlive a revocation, which only the issuer knows. An issuer that cannot
// introspect (JWKS only) cannot be asked. ID tokens are not asked about: they cannot be
// revoked (RFC 7009 covers access and refresh tokens), and their issuer does not store them.
func checkNotRevoked(ctx context.Context, t TrustedIssuer, token, tokenType string, h jose.Header) error {
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	typ = strings.TrimPrefix(strings.ToLower(typ), "application/")
	if t.Introspect == nil || (typ != "at+jwt" && tokenType != TokenTypeAccessToken) {
		return nil
	}
	in, err := t.Introspect(ctx, token)
	if err != nil {
		return fmt.Errorf("introspection at %q: %v", t.Issuer, err)
	}
	if !in.Active || in.TokenUse != string(fosite.AccessToken) {
		return fmt.Errorf("issuer %q reports the subject token inactive (revoked)", t.Issuer)
	}
	return nil
}
