package refserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v3"

	"github.com/muster-test/muster-test/mocks/bearer"
)

// maxDocument caps what the server reads of a metadata, JWKS or introspection answer.
const maxDocument = 1 << 20

// remoteAuthority is an IdP reached over HTTP: its metadata and JWKS are read once at
// start, introspection is asked per request (RFC 7662).
type remoteAuthority struct {
	issuer     string
	metadata   string // where the metadata was read
	scopes     []string
	jwks       *jose.JSONWebKeySet // nil when tokens are introspected
	introspect string
	userinfo   string // userinfo_endpoint, for --context userinfo
	clientID   string
	secret     string
	now        func() time.Time
	http       *http.Client
}

type asMetadata struct {
	Issuer                string   `json:"issuer"`
	JWKSURI               string   `json:"jwks_uri"`
	IntrospectionEndpoint string   `json:"introspection_endpoint"`
	RegistrationEndpoint  string   `json:"registration_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	RevocationEndpoint    string   `json:"revocation_endpoint"`
	UserinfoEndpoint      string   `json:"userinfo_endpoint"`
	ScopesSupported       []string `json:"scopes_supported"`
}

// discover reads the issuer's metadata and the JWKS when tokens are validated locally.
func discover(ctx context.Context, cfg Config) (*remoteAuthority, error) {
	a, meta, err := connect(ctx, cfg.Issuer, cfg.ClientID, cfg.ClientSecret, cfg.Now)
	if err != nil {
		return nil, err
	}
	a.userinfo = meta.UserinfoEndpoint
	if cfg.Introspect {
		if meta.IntrospectionEndpoint == "" {
			return nil, errors.New("the issuer's metadata has no introspection_endpoint")
		}
		a.introspect = meta.IntrospectionEndpoint
		if a.clientID == "" {
			if err := a.register(ctx, meta.RegistrationEndpoint, "client_credentials"); err != nil {
				return nil, err
			}
		}
		return a, nil
	}
	if meta.JWKSURI == "" {
		return nil, errors.New("the issuer's metadata has no jwks_uri")
	}
	a.jwks = &jose.JSONWebKeySet{}
	if err := a.getJSON(ctx, meta.JWKSURI, a.jwks); err != nil {
		return nil, fmt.Errorf("issuer JWKS: %w", err)
	}
	return a, nil
}

// connect reads an issuer's RFC 8414 metadata (path-inserted), else its OpenID
// configuration.
func connect(ctx context.Context, issuerURL, clientID, secret string, now func() time.Time) (*remoteAuthority, asMetadata, error) {
	issuer := strings.TrimSuffix(issuerURL, "/")
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, asMetadata{}, fmt.Errorf("issuer %q is not an http(s) URL", issuerURL)
	}
	a := &remoteAuthority{issuer: issuer, clientID: clientID, secret: secret, now: now,
		http: &http.Client{Timeout: 10 * time.Second}}
	if a.now == nil {
		a.now = time.Now
	}
	rfc8414 := u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + u.Path
	var meta asMetadata
	var errs []error
	for _, where := range []string{rfc8414, issuer + "/.well-known/openid-configuration"} {
		if err = a.getJSON(ctx, where, &meta); err == nil {
			a.metadata = where
			break
		}
		errs = append(errs, err)
	}
	if err != nil {
		return nil, meta, fmt.Errorf("issuer metadata: %w", errors.Join(errs...))
	}
	if strings.TrimSuffix(meta.Issuer, "/") != issuer {
		return nil, meta, fmt.Errorf("issuer metadata names issuer %q, not %q", meta.Issuer, issuerURL)
	}
	a.scopes = meta.ScopesSupported
	return a, meta, nil
}

func (a *remoteAuthority) getJSON(ctx context.Context, where string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
	if err != nil {
		return err
	}
	return a.exchange(req, v, http.StatusOK)
}

// exchange sends req and decodes its JSON answer (none when v is nil), which must have one
// of the statuses.
func (a *remoteAuthority) exchange(req *http.Request, v any, statuses ...int) error {
	resp, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	what := req.Method + " " + req.URL.String()
	if !slices.Contains(statuses, resp.StatusCode) {
		return fmt.Errorf("%s: %s", what, resp.Status)
	}
	if v == nil {
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDocument)).Decode(v); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

func (a *remoteAuthority) Issuer() string            { return a.issuer }
func (a *remoteAuthority) Scopes() []string          { return a.scopes }
func (a *remoteAuthority) Now() time.Time            { return a.now() }
func (a *remoteAuthority) JWKS() *jose.JSONWebKeySet { return a.jwks }

// Introspect asks the issuer's introspection endpoint (RFC 7662).
func (a *remoteAuthority) Introspect(ctx context.Context, token string) (bearer.TokenInfo, error) {
	if a.introspect == "" {
		return bearer.TokenInfo{}, errors.New("no introspection endpoint")
	}
	var body map[string]any
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	if err := a.postForm(ctx, a.introspect, form, &body, http.StatusOK); err != nil {
		return bearer.TokenInfo{}, fmt.Errorf("introspection: %w", err)
	}
	return introspection(body), nil
}

// postForm sends a form authenticated as the server's client (client_secret_basic) and
// decodes the JSON answer, which must have one of the statuses.
func (a *remoteAuthority) postForm(ctx context.Context, endpoint string, form url.Values, v any, statuses ...int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(a.clientID), url.QueryEscape(a.secret))
	return a.exchange(req, v, statuses...)
}

// UserInfo asks the userinfo endpoint (OpenID Connect Core §5.3) about the user of token,
// which must be the one the answer names.
func (a *remoteAuthority) UserInfo(ctx context.Context, token, subject string) (map[string]any, error) {
	if a.userinfo == "" {
		return nil, errors.New("the issuer's metadata has no userinfo_endpoint")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.userinfo, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	var claims map[string]any
	if err := a.exchange(req, &claims, http.StatusOK); err != nil {
		return nil, fmt.Errorf("userinfo: %w", err)
	}
	if sub, _ := claims["sub"].(string); sub != subject {
		return nil, fmt.Errorf("userinfo: the answer is about %q, the token about %q", sub, subject)
	}
	return claims, nil
}

// introspection reads an RFC 7662 answer. The mock IdP also answers for refresh tokens
// (token_use), which a resource server must not accept.
func introspection(body map[string]any) bearer.TokenInfo {
	active, _ := body["active"].(bool)
	if use, ok := body["token_use"].(string); ok && use != "access_token" {
		active = false
	}
	info := bearer.TokenInfo{Active: active, Claims: body}
	info.Subject, _ = body["sub"].(string)
	info.ClientID, _ = body["client_id"].(string)
	if s, ok := body["scope"].(string); ok {
		info.Scopes = strings.Fields(s)
	}
	switch aud := body["aud"].(type) {
	case string:
		info.Audience = []string{aud}
	case []any:
		for _, x := range aud {
			if s, ok := x.(string); ok {
				info.Audience = append(info.Audience, s)
			}
		}
	}
	if exp, ok := body["exp"].(float64); ok {
		info.ExpiresAt = time.Unix(int64(exp), 0)
	}
	return info
}

// register obtains credentials for grants by RFC 7591 dynamic registration, for an issuer
// that was given without a client of the server's own.
func (a *remoteAuthority) register(ctx context.Context, endpoint string, grants ...string) error {
	if endpoint == "" {
		return fmt.Errorf("%s offers no registration_endpoint: the server cannot get a client there (--client-id and --client-secret)", a.issuer)
	}
	body, _ := json.Marshal(map[string]any{"client_name": "muster-test reference-server",
		"redirect_uris": []string{"http://127.0.0.1/unused"}, "grant_types": grants,
		"token_endpoint_auth_method": "client_secret_basic"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	var reg struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := a.exchange(req, &reg, http.StatusCreated, http.StatusOK); err != nil {
		return fmt.Errorf("client registration: %w", err)
	}
	if reg.ClientID == "" || reg.ClientSecret == "" {
		return errors.New("client registration: the answer has no client_id and client_secret")
	}
	a.clientID, a.secret = reg.ClientID, reg.ClientSecret
	return nil
}
