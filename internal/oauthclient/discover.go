package oauthclient

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// ResourceMetadata is the part of an RFC 9728 Protected Resource Metadata document the
// client uses.
type ResourceMetadata struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers"`
	ScopesSupported        []string `json:"scopes_supported"`
	BearerMethodsSupported []string `json:"bearer_methods_supported"`
}

// ServerMetadata is the part of RFC 8414 / OpenID discovery metadata the client uses.
type ServerMetadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	RegistrationEndpoint                       string   `json:"registration_endpoint"`
	ScopesSupported                            []string `json:"scopes_supported"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported"`
	ClientIDMetadataDocumentSupported          bool     `json:"client_id_metadata_document_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
}

// Problem is something discovery found wrong. A fatal problem stops a login (unless
// Faults.IgnoreProblems); the others are reported only.
type Problem struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Fatal   bool   `json:"fatal"`
}

// Problem codes.
const (
	ProblemProbeFailed         = "probe_failed"
	ProblemNoChallenge         = "no_www_authenticate"
	ProblemBadChallenge        = "malformed_www_authenticate"
	ProblemNotBearer           = "not_bearer"
	ProblemUnauthenticatedOK   = "unauthenticated_request_accepted"
	ProblemUnexpectedStatus    = "unexpected_status"
	ProblemPRMUnreachable      = "resource_metadata_unreachable"
	ProblemPRMNotFound         = "prm_not_found"
	ProblemPRMInvalid          = "prm_invalid"
	ProblemResourceMismatch    = "resource_mismatch"
	ProblemNoAuthServers       = "no_authorization_servers"
	ProblemASMetadataNotFound  = "as_metadata_not_found"
	ProblemASMetadataInvalid   = "as_metadata_invalid"
	ProblemIssuerMismatch      = "issuer_mismatch"
	ProblemNoS256              = "no_s256"
	ProblemMissingEndpoint     = "missing_endpoint"
	ProblemInsecureEndpoint    = "insecure_endpoint"
	ProblemNotJSONContentType  = "not_json_content_type"
	ProblemNoCodeResponseType  = "no_code_response_type"
	ProblemDocumentTooLarge    = "document_too_large"
	ProblemSeveralAuthServers  = "several_authorization_servers"
	ProblemMetadataURLMismatch = "resource_metadata_url_mismatch"
	ProblemQueryBearerMethod   = "query_bearer_method"
)

// WWWAuthenticate is the challenge of the unauthenticated response.
type WWWAuthenticate struct {
	Raw              string            `json:"raw"`
	Scheme           string            `json:"scheme,omitempty"`
	ResourceMetadata string            `json:"resource_metadata,omitempty"`
	Scope            string            `json:"scope,omitempty"`
	Error            string            `json:"error,omitempty"`
	ErrorDescription string            `json:"error_description,omitempty"`
	Params           map[string]string `json:"params,omitempty"`
	Challenges       []Challenge       `json:"challenges,omitempty"`
}

// Discovery is what an unauthenticated client learns about a protected MCP server.
type Discovery struct {
	ServerURL string `json:"server_url"`
	// Status of the unauthenticated MCP request.
	Status          int              `json:"status"`
	WWWAuthenticate *WWWAuthenticate `json:"www_authenticate,omitempty"`
	// ProtectedResource is the PRM document used (RFC 9728).
	ProtectedResource *Document `json:"protected_resource,omitempty"`
	// AuthorizationServer is the AS metadata document used (RFC 8414 or OpenID discovery).
	AuthorizationServer *Document `json:"authorization_server,omitempty"`
	Problems            []Problem `json:"problems"`
	Phases              []Phase   `json:"phases"`

	PRM *ResourceMetadata `json:"-"`
	AS  *ServerMetadata   `json:"-"`
	// Issuer is the authorization server identifier taken from the PRM.
	Issuer string `json:"issuer,omitempty"`
}

// Fatal returns the first fatal problem, or nil.
func (d *Discovery) Fatal() *Problem {
	for i := range d.Problems {
		if d.Problems[i].Fatal {
			return &d.Problems[i]
		}
	}
	return nil
}

// HasProblem reports whether a problem with this code was found.
func (d *Discovery) HasProblem(code string) bool {
	return slices.ContainsFunc(d.Problems, func(p Problem) bool { return p.Code == code })
}

func (d *Discovery) problem(fatal bool, code, format string, a ...any) {
	d.Problems = append(d.Problems, Problem{Code: code, Message: fmt.Sprintf(format, a...), Fatal: fatal})
}

// Discover sends one unauthenticated MCP request to serverURL, then follows RFC 9728 and
// RFC 8414 to the authorization server. Whatever it finds wrong is in Problems; the error
// is for an unusable serverURL or a cancelled ctx only.
func (c *Client) Discover(ctx context.Context, serverURL string) (*Discovery, error) {
	start := c.log.len()
	d, err := c.discover(ctx, serverURL, nil)
	if d != nil {
		d.Phases = c.log.since(start)
	}
	return d, err
}

// discover runs discovery; a non-nil challenge (from a 401 or 403 the session received)
// replaces the probe.
func (c *Client) discover(ctx context.Context, serverURL string, got *rejection) (*Discovery, error) {
	su, err := url.Parse(serverURL)
	if err != nil || (su.Scheme != "http" && su.Scheme != "https") || su.Host == "" {
		return nil, fmt.Errorf("server URL %q: want an absolute http(s) URL", serverURL)
	}
	d := &Discovery{ServerURL: serverURL, Problems: []Problem{}}
	if got == nil {
		if got, err = c.probe(ctx, serverURL); err != nil {
			if ctx.Err() != nil {
				return d, ctx.Err()
			}
			d.problem(true, ProblemProbeFailed, "the unauthenticated MCP request failed: %v", err)
			return d, nil
		}
	}
	d.Status = got.status
	c.readChallenge(d, got)

	if err := c.findPRM(ctx, d, su); err != nil {
		return d, err
	}
	if d.PRM == nil {
		return d, nil
	}
	return d, c.findASMetadata(ctx, d)
}

// rejection is an MCP response that matters to discovery.
type rejection struct {
	status int
	header []string // WWW-Authenticate values
}

func (c *Client) readChallenge(d *Discovery, got *rejection) {
	switch {
	case got.status >= 200 && got.status < 300:
		d.problem(false, ProblemUnauthenticatedOK, "the MCP request without a token was answered %d", got.status)
	case got.status != http.StatusUnauthorized && got.status != http.StatusForbidden:
		d.problem(false, ProblemUnexpectedStatus, "the MCP request without a token was answered %d, not 401", got.status)
	}
	if len(got.header) == 0 {
		if got.status == http.StatusUnauthorized {
			d.problem(false, ProblemNoChallenge, "the 401 has no WWW-Authenticate header (RFC 9110 §15.5.2)")
		}
		return
	}
	raw := strings.Join(got.header, ", ")
	w := &WWWAuthenticate{Raw: raw}
	d.WWWAuthenticate = w
	chs, err := ParseWWWAuthenticate(raw)
	w.Challenges = chs
	if err != nil {
		d.problem(false, ProblemBadChallenge, "%v", err)
	}
	bearer, ok := BearerChallenge(chs)
	if !ok {
		if len(chs) > 0 {
			w.Scheme = chs[0].Scheme
		}
		d.problem(false, ProblemNotBearer, "no Bearer challenge in WWW-Authenticate: %s", raw)
		return
	}
	w.Scheme, w.Params = bearer.Scheme, bearer.Params
	w.ResourceMetadata = bearer.Param("resource_metadata")
	w.Scope = bearer.Param("scope")
	w.Error = bearer.Param("error")
	w.ErrorDescription = bearer.Param("error_description")
}

// prmCandidates lists where to look for the PRM: the challenge's resource_metadata, then
// the path-inserted well-known URL, then the root one (RFC 9728 §3.1).
func prmCandidates(su *url.URL) []string {
	origin := su.Scheme + "://" + su.Host
	path := strings.TrimSuffix(su.EscapedPath(), "/")
	var out []string
	if path != "" {
		out = append(out, origin+"/.well-known/oauth-protected-resource"+path)
	}
	return append(out, origin+"/.well-known/oauth-protected-resource")
}

func (c *Client) findPRM(ctx context.Context, d *Discovery, su *url.URL) error {
	candidates := prmCandidates(su)
	if w := d.WWWAuthenticate; w != nil && w.ResourceMetadata != "" {
		ref, err := su.Parse(w.ResourceMetadata)
		if err != nil {
			d.problem(false, ProblemBadChallenge, "resource_metadata %q is not a URL: %v", w.ResourceMetadata, err)
		} else {
			candidates = append([]string{ref.String()}, candidates...)
		}
	}
	var tried []string
	for _, u := range candidates {
		if !slices.Contains(tried, u) {
			tried = append(tried, u)
		}
	}
	fromHeader := d.WWWAuthenticate != nil && d.WWWAuthenticate.ResourceMetadata != ""
	doc, ok, err := c.firstDocument(ctx, d, PhasePRM, "protected resource metadata", ProblemPRMInvalid, tried, func(i int, err error) {
		if i == 0 && fromHeader {
			d.problem(false, ProblemPRMUnreachable, "resource_metadata from WWW-Authenticate: %v", err)
		}
	})
	switch {
	case err != nil:
		return err
	case doc == nil:
		d.problem(true, ProblemPRMNotFound, "no protected resource metadata at %s", strings.Join(tried, ", "))
		return nil
	}
	d.ProtectedResource = doc
	if ok {
		c.checkPRM(d, su, doc)
	}
	return nil
}

// firstDocument fetches the candidates in order until one is usable (ok). A document that
// exists but is too large or not a JSON object ends the search with a fatal problem (doc
// set, ok false); a 404 or an unreachable URL moves on, after skipped is told. doc is nil
// when no candidate answered.
func (c *Client) firstDocument(ctx context.Context, d *Discovery, phase, what, invalid string, candidates []string, skipped func(int, error)) (doc *Document, ok bool, err error) {
	for i, u := range candidates {
		doc, err := c.getDocument(ctx, phase, u)
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		switch {
		case err == nil:
			return doc, true, nil
		case doc != nil && len(doc.Raw) >= maxDocument:
			d.problem(true, ProblemDocumentTooLarge, "%s at %s: %v", what, u, err)
			return doc, false, nil
		case doc != nil && doc.Status == http.StatusOK:
			d.problem(true, invalid, "%s: %v", what, err)
			return doc, false, nil
		}
		if skipped != nil {
			skipped(i, err)
		}
	}
	return nil, false, nil
}

func (c *Client) checkPRM(d *Discovery, su *url.URL, doc *Document) {
	if !doc.jsonContentType() {
		d.problem(false, ProblemNotJSONContentType, "%s is served as %q, not application/json", doc.URL, doc.ContentType)
	}
	var prm ResourceMetadata
	if err := decodeInto(doc, &prm); err != nil {
		d.problem(true, ProblemPRMInvalid, "protected resource metadata at %s: %v", doc.URL, err)
		return
	}
	if prm.Resource == "" {
		d.problem(true, ProblemPRMInvalid, "protected resource metadata at %s has no resource", doc.URL)
		return
	}
	if !resourceCovers(prm.Resource, su) {
		d.problem(true, ProblemResourceMismatch, "the PRM's resource %q does not identify the server %s (RFC 9728 §3.3)", prm.Resource, su)
	}
	if w := d.WWWAuthenticate; w != nil && w.ResourceMetadata != "" && w.ResourceMetadata != doc.URL {
		d.problem(false, ProblemMetadataURLMismatch, "the PRM came from %s, not from the challenge's resource_metadata %s", doc.URL, w.ResourceMetadata)
	}
	if slices.Contains(prm.BearerMethodsSupported, "query") {
		d.problem(false, ProblemQueryBearerMethod, "the PRM's bearer_methods_supported %q offers query, which MCP forbids (OAuth 2.1 §5.1)", prm.BearerMethodsSupported)
	}
	d.PRM = &prm
	switch len(prm.AuthorizationServers) {
	case 0:
		d.problem(true, ProblemNoAuthServers, "the PRM names no authorization_servers")
		return
	case 1:
	default:
		d.problem(false, ProblemSeveralAuthServers, "the PRM names %d authorization servers; the client uses %s", len(prm.AuthorizationServers), c.pickIssuer(prm.AuthorizationServers))
	}
	d.Issuer = c.pickIssuer(prm.AuthorizationServers)
}

func (c *Client) pickIssuer(servers []string) string {
	if c.cfg.Issuer != "" && slices.Contains(servers, c.cfg.Issuer) {
		return c.cfg.Issuer
	}
	return servers[0]
}

// resourceCovers reports whether a PRM resource identifies the server URL: the same
// origin, and a path that is the server's or a parent of it (a server's PRM at the root
// names the origin).
func resourceCovers(resource string, su *url.URL) bool {
	r, err := url.Parse(resource)
	if err != nil || r.Fragment != "" {
		return false
	}
	if !strings.EqualFold(r.Scheme, su.Scheme) || !strings.EqualFold(hostPort(r), hostPort(su)) {
		return false
	}
	rp := strings.TrimSuffix(r.EscapedPath(), "/")
	sp := strings.TrimSuffix(su.EscapedPath(), "/")
	return rp == sp || strings.HasPrefix(sp, rp+"/")
}

// hostPort is the host with the scheme's default port made explicit.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// asMetadataCandidates lists the metadata URLs for an issuer, in the order the MCP
// specification gives: RFC 8414 with path insertion, OpenID discovery with path insertion,
// then OpenID discovery appended to the path; for an issuer without a path, the two root
// documents. A trailing '/' of the issuer is trimmed first.
func asMetadataCandidates(issuer string) ([]string, error) {
	u, err := url.Parse(strings.TrimSuffix(issuer, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("authorization server %q is not an absolute http(s) URL", issuer)
	}
	origin := u.Scheme + "://" + u.Host
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	if path == "" {
		return []string{origin + "/.well-known/oauth-authorization-server", origin + "/.well-known/openid-configuration"}, nil
	}
	return []string{
		origin + "/.well-known/oauth-authorization-server" + path,
		origin + "/.well-known/openid-configuration" + path,
		origin + path + "/.well-known/openid-configuration",
	}, nil
}

func (c *Client) findASMetadata(ctx context.Context, d *Discovery) error {
	if d.Issuer == "" {
		return nil
	}
	candidates, err := asMetadataCandidates(d.Issuer)
	if err != nil {
		d.problem(true, ProblemASMetadataNotFound, "%v", err)
		return nil
	}
	doc, ok, err := c.firstDocument(ctx, d, PhaseASMetadata, "authorization server metadata", ProblemASMetadataInvalid, candidates, nil)
	switch {
	case err != nil:
		return err
	case doc == nil:
		d.problem(true, ProblemASMetadataNotFound, "no authorization server metadata for %s at %s", d.Issuer, strings.Join(candidates, ", "))
		return nil
	}
	d.AuthorizationServer = doc
	if ok {
		c.checkASMetadata(d, doc)
	}
	return nil
}

func (c *Client) checkASMetadata(d *Discovery, doc *Document) {
	if !doc.jsonContentType() {
		d.problem(false, ProblemNotJSONContentType, "%s is served as %q, not application/json", doc.URL, doc.ContentType)
	}
	var as ServerMetadata
	if err := decodeInto(doc, &as); err != nil {
		d.problem(true, ProblemASMetadataInvalid, "authorization server metadata at %s: %v", doc.URL, err)
		return
	}
	d.AS = &as
	switch {
	case as.Issuer == d.Issuer:
	case strings.TrimSuffix(as.Issuer, "/") == strings.TrimSuffix(d.Issuer, "/"):
		d.problem(false, ProblemIssuerMismatch, "metadata issuer %q differs from %q by a trailing '/' (RFC 8414 §3.3 wants them identical)", as.Issuer, d.Issuer)
	default:
		d.problem(true, ProblemIssuerMismatch, "metadata issuer %q is not the authorization server %q (RFC 8414 §3.3)", as.Issuer, d.Issuer)
	}
	if !slices.Contains(as.CodeChallengeMethodsSupported, "S256") {
		d.problem(true, ProblemNoS256, "code_challenge_methods_supported %v lacks S256; an MCP client must not proceed", as.CodeChallengeMethodsSupported)
	}
	if len(as.ResponseTypesSupported) > 0 && !slices.Contains(as.ResponseTypesSupported, "code") {
		d.problem(false, ProblemNoCodeResponseType, "response_types_supported %v lacks code", as.ResponseTypesSupported)
	}
	if as.AuthorizationEndpoint == "" {
		d.problem(true, ProblemMissingEndpoint, "the metadata has no authorization_endpoint")
	}
	if as.TokenEndpoint == "" {
		d.problem(true, ProblemMissingEndpoint, "the metadata has no token_endpoint")
	}
	for _, v := range []string{as.AuthorizationEndpoint, as.TokenEndpoint, as.RegistrationEndpoint} {
		if u, err := url.Parse(v); v != "" && (err != nil || !secureURL(u)) {
			d.problem(false, ProblemInsecureEndpoint, "%s is neither https nor loopback http", v)
		}
	}
}

// secureURL accepts https, and http on a loopback host (RFC 8252 §8.3).
func secureURL(u *url.URL) bool {
	if u.Scheme == "https" {
		return true
	}
	if u.Scheme != "http" {
		return false
	}
	h := u.Hostname()
	ip := net.ParseIP(h)
	return h == "localhost" || ip != nil && ip.IsLoopback()
}
