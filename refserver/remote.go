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
	scopes     []string
	jwks       *jose.JSONWebKeySet // nil when tokens are introspected
	introspect string
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
	ScopesSupported       []string `json:"scopes_supported"`
}

// discover reads the issuer's RFC 8414 metadata (path-inserted), else its OpenID
// configuration, and the JWKS when tokens are validated locally.
func discover(ctx context.Context, cfg Config) (*remoteAuthority, error) {
	issuer := strings.TrimSuffix(cfg.Issuer, "/")
	u, err := url.Parse(issuer)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("issuer %q is not an http(s) URL", cfg.Issuer)
	}
	a := &remoteAuthority{issuer: issuer, clientID: cfg.ClientID, secret: cfg.ClientSecret, now: cfg.Now,
		http: &http.Client{Timeout: 10 * time.Second}}
	if a.now == nil {
		a.now = time.Now
	}
	rfc8414 := u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + u.Path
	var meta asMetadata
	var errs []error
	for _, where := range []string{rfc8414, issuer + "/.well-known/openid-configuration"} {
		if err = a.getJSON(ctx, where, &meta); err == nil {
			break
		}
		errs = append(errs, err)
	}
	if err != nil {
		return nil, fmt.Errorf("issuer metadata: %w", errors.Join(errs...))
	}
	if strings.TrimSuffix(meta.Issuer, "/") != issuer {
		return nil, fmt.Errorf("issuer metadata names issuer %q, not %q", meta.Issuer, cfg.Issuer)
	}
	a.scopes = meta.ScopesSupported
	if cfg.Introspect {
		if meta.IntrospectionEndpoint == "" {
			return nil, errors.New("the issuer's metadata has no introspection_endpoint")
		}
		a.introspect = meta.IntrospectionEndpoint
		if a.clientID == "" {
			if err := a.register(ctx, meta.RegistrationEndpoint); err != nil {
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

func (a *remoteAuthority) getJSON(ctx context.Context, where string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, where, nil)
	if err != nil {
		return err
	}
	return a.exchange(req, v, http.StatusOK)
}

// exchange sends req and decodes its JSON answer, which must have one of the statuses.
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
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.introspect, strings.NewReader(form.Encode()))
	if err != nil {
		return bearer.TokenInfo{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(a.clientID), url.QueryEscape(a.secret))
	var body map[string]any
	if err := a.exchange(req, &body, http.StatusOK); err != nil {
		return bearer.TokenInfo{}, fmt.Errorf("introspection: %w", err)
	}
	return introspection(body), nil
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

// register obtains introspection credentials by RFC 7591 dynamic registration, for an
// issuer that was given without a client of the server's own.
func (a *remoteAuthority) register(ctx context.Context, endpoint string) error {
	if endpoint == "" {
		return errors.New("--introspect needs --client-id and --client-secret: the issuer offers no registration_endpoint")
	}
	body, _ := json.Marshal(map[string]any{"client_name": "muster-test reference-server",
		"redirect_uris": []string{"http://127.0.0.1/unused"}, "grant_types": []string{"client_credentials"},
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
