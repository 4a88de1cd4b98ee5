package idp

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"
)

// handleMetadata serves RFC 8414 and OIDC discovery. Endpoints are where the server is
// reachable (URL), which is the issuer unless Config.Issuer fixed another string.
func (s *Server) handleMetadata(w http.ResponseWriter, _ *http.Request) {
	base := s.url
	m := map[string]any{
		"issuer":                                         s.issuer,
		"authorization_endpoint":                         base + "/authorize",
		"token_endpoint":                                 base + "/token",
		"introspection_endpoint":                         base + "/introspect",
		"revocation_endpoint":                            base + "/revoke",
		"registration_endpoint":                          base + "/register",
		"userinfo_endpoint":                              base + "/userinfo",
		"jwks_uri":                                       base + "/jwks",
		"scopes_supported":                               s.cfg.Scopes,
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          supportedGrants,
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{"client_secret_basic", "client_secret_post", "none"},
		"introspection_endpoint_auth_methods_supported":  []string{"client_secret_basic"},
		"revocation_endpoint_auth_methods_supported":     []string{"client_secret_basic", "client_secret_post", "none"},
		"subject_types_supported":                        []string{"public"},
		"id_token_signing_alg_values_supported":          []string{s.signKey.Algorithm},
		"claims_supported":                               []string{"sub", "iss", "aud", "exp", "iat", "name", "email"},
		"client_id_metadata_document_supported":          true,
		"authorization_response_iss_parameter_supported": false,
	}
	if s.cfg.Registration == RegistrationClosed {
		delete(m, "registration_endpoint")
	}
	writeJSON(w, http.StatusOK, m)
}

func (s *Server) handleJWKS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s.JWKS())
}

// handleIntrospect is RFC 7662: fosite authenticates the caller (Basic auth of a
// confidential client, or a bearer access token) and validates the token; the answer is
// written here so that times are on the IdP clock and user claims are included.
func (s *Server) handleIntrospect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if id, _, ok := r.BasicAuth(); ok {
		entryFrom(ctx).client = id
	}
	ir, err := s.provider.NewIntrospectionRequest(ctx, r, newSession("", nil, s.signKey.KeyID))
	if err != nil {
		s.provider.WriteIntrospectionError(ctx, w, err)
		return
	}
	in := s.describe(ir.GetTokenUse(), ir.GetAccessRequester())
	entryFrom(ctx).subject = in.Subject
	body := map[string]any{
		"active": true, "token_use": in.TokenUse, "scope": strings.Join(in.Scope, " "),
		"client_id": in.ClientID, "sub": in.Subject, "iss": in.Issuer,
	}
	if len(in.Audience) > 0 {
		body["aud"] = in.Audience
	}
	if !in.ExpiresAt.IsZero() {
		body["exp"] = in.ExpiresAt.Unix()
	}
	if !in.IssuedAt.IsZero() {
		body["iat"] = in.IssuedAt.Unix()
	}
	if in.TokenUse == string(fosite.AccessToken) {
		body["token_type"] = "Bearer"
	}
	for k, v := range in.Claims {
		if _, taken := body[k]; !taken {
			body[k] = v
		}
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if id, _, ok := r.BasicAuth(); ok {
		entryFrom(ctx).client = id
	}
	err := s.provider.NewRevocationRequest(ctx, r)
	s.provider.WriteRevocationResponse(ctx, w, err)
}

func (s *Server) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	token := fosite.AccessTokenFromRequest(r)
	in, err := s.Introspect(r.Context(), token)
	if token == "" || err != nil || !in.Active || in.TokenUse != string(fosite.AccessToken) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	entryFrom(r.Context()).subject = in.Subject
	body := map[string]any{}
	for k, v := range in.Claims {
		body[k] = v
	}
	body["sub"] = in.Subject
	writeJSON(w, http.StatusOK, body)
}

// registrationRequest is the RFC 7591 metadata the IdP honours.
type registrationRequest struct {
	RedirectURIs            []string `json:"redirect_uris"`
	ClientName              string   `json:"client_name,omitempty"`
	GrantTypes              []string `json:"grant_types,omitempty"`
	ResponseTypes           []string `json:"response_types,omitempty"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
}

func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Registration == RegistrationClosed {
		// RFC 7591 §3: a server may require an initial access token; a closed IdP issues
		// none, so the answer is RFC 6750's for a missing or unknown token.
		writeOAuthError(w, http.StatusUnauthorized, "invalid_token",
			"dynamic client registration is closed: it needs an initial access token, and this IdP issues none")
		return
	}
	var req registrationRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&req); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_client_metadata", "body is not a JSON object")
		return
	}
	if len(req.RedirectURIs) == 0 {
		writeOAuthError(w, http.StatusBadRequest, "invalid_redirect_uri", "redirect_uris is required")
		return
	}
	for _, u := range req.RedirectURIs {
		p, err := url.Parse(u)
		if err != nil || p.Fragment != "" || !(p.Scheme == "https" || isLoopbackRedirect(u)) {
			writeOAuthError(w, http.StatusBadRequest, "invalid_redirect_uri", "redirect URI "+u+" must be https or http on a loopback host")
			return
		}
	}
	if req.TokenEndpointAuthMethod == "" {
		req.TokenEndpointAuthMethod = "client_secret_basic"
	}
	if !slices.Contains([]string{"client_secret_basic", "client_secret_post", "none"}, req.TokenEndpointAuthMethod) {
		writeOAuthError(w, http.StatusBadRequest, "invalid_client_metadata", "unsupported token_endpoint_auth_method "+req.TokenEndpointAuthMethod)
		return
	}
	if len(req.GrantTypes) == 0 {
		req.GrantTypes = []string{"authorization_code", "refresh_token"}
	}
	if len(req.ResponseTypes) == 0 {
		req.ResponseTypes = []string{"code"}
	}
	scopes := slices.Clone(s.cfg.Scopes)
	if req.Scope != "" {
		scopes = strings.Fields(req.Scope)
		for _, sc := range scopes {
			if !slices.Contains(s.cfg.Scopes, sc) {
				writeOAuthError(w, http.StatusBadRequest, "invalid_client_metadata", "unknown scope "+sc)
				return
			}
		}
	}
	id := "client-" + randomID(8)
	var secret string
	if req.TokenEndpointAuthMethod != "none" {
		secret = randomID(24)
	}
	s.clients.add(&fosite.DefaultOpenIDConnectClient{
		DefaultClient: &fosite.DefaultClient{
			ID: id, Secret: []byte(secret), RedirectURIs: req.RedirectURIs, GrantTypes: req.GrantTypes,
			ResponseTypes: req.ResponseTypes, Scopes: scopes, Public: secret == "",
		},
		TokenEndpointAuthMethod: req.TokenEndpointAuthMethod,
	}, false)
	entryFrom(r.Context()).client = id
	resp := map[string]any{
		"client_id": id, "client_id_issued_at": time.Now().Unix(), "client_name": req.ClientName,
		"redirect_uris": req.RedirectURIs, "grant_types": req.GrantTypes, "response_types": req.ResponseTypes,
		"token_endpoint_auth_method": req.TokenEndpointAuthMethod, "scope": strings.Join(scopes, " "),
	}
	if secret != "" {
		resp["client_secret"] = secret
		resp["client_secret_expires_at"] = 0
	}
	writeJSON(w, http.StatusCreated, resp)
}
