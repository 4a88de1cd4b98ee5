package idp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"gopkg.in/yaml.v3"
)

// Config configures one mock IdP. Zero values take the documented defaults, so
// Config{} is a working IdP with one client and one user.
//
// The yaml tags name the keys of the same settings in a scenario file's
// mock_oauth_servers entry and in ConfigFromYAML's documents; fields tagged "-" can only be
// set from Go (a scenario file's trusted_issuers name other IdPs of the scenario, which
// only a runner can resolve to running servers).
type Config struct {
	Name string `yaml:"name"`
	// Issuer defaults to http(s)://localhost:<port>; the server still listens on 127.0.0.1.
	Issuer string `yaml:"issuer"`
	// Port to listen on; 0 picks a free one.
	Port int `yaml:"-"`
	// Scopes the IdP knows (default openid, profile, email). Every client may request them.
	Scopes []string `yaml:"scopes"`
	// AutoApprove skips the consent page.
	AutoApprove bool `yaml:"auto_approve"`
	// PKCERequired rejects authorization requests without an S256 code_challenge.
	PKCERequired bool `yaml:"pkce_required"`
	// TokenLifetime of access tokens (default 1h).
	TokenLifetime time.Duration `yaml:"token_lifetime"`
	// RefreshTokenLifetime (default 24h), independent of TokenLifetime.
	RefreshTokenLifetime time.Duration `yaml:"refresh_token_lifetime"`
	// ClientID of the pre-registered client (default "test-client"). It has no redirect
	// URIs configured, so it accepts any loopback redirect URI and nothing else.
	ClientID string `yaml:"client_id"`
	// ClientSecret of the pre-registered client; empty makes it a public client.
	ClientSecret string `yaml:"client_secret"`
	// SimulateError makes every /token request fail: a standard OAuth error code is answered
	// as itself with its usual status; any other text as 500 server_error with the text as
	// error_description.
	SimulateError string `yaml:"simulate_error"`
	// UseMockClock freezes the clock; it then moves only with Clock().Advance.
	UseMockClock bool `yaml:"use_mock_clock"`
	// UseTLS serves HTTPS with a generated CA (CACertPEM).
	UseTLS bool `yaml:"use_tls"`
	// SignTokens issues RFC 9068 JWT access tokens instead of opaque ones.
	SignTokens bool `yaml:"sign_tokens"`
	// TrustedIssuers whose tokens RFC 8693 token exchange accepts as subject tokens.
	TrustedIssuers []TrustedIssuer `yaml:"-"`
	// Users who can log in (default one user, test-user-123).
	Users []User `yaml:"users"`
	// IssueRefreshTokens with every authorization-code grant (default true).
	IssueRefreshTokens *bool `yaml:"-"`
	// Registration is RegistrationOpen (the default: anyone may register a client through
	// RFC 7591, asking for any grant) or RegistrationClosed (the metadata offers no
	// registration endpoint, and POST /register is refused).
	Registration string `yaml:"registration"`
	// ConsentCSRF binds the consent form to the browser that fetched it: the form carries a
	// token derived from a cookie the IdP sets, and a POST without that pair is refused
	// (403 access_denied). Off, the form accepts any POST, from any page.
	ConsentCSRF bool `yaml:"consent_csrf"`
	// SigningAlgorithm of ID tokens, JWT access tokens and minted tokens: AlgRS256 (the
	// default, which every OpenID client must accept) or AlgES256 (a P-256 key: made in
	// microseconds where an RSA key takes tens of milliseconds, and cheaper signatures).
	// Not a key of scenario files (yet).
	SigningAlgorithm string `yaml:"-"`
	// Faults planned from the start, as if injected with InjectFault before the first
	// request.
	Faults []Fault `yaml:"faults"`
}

// Signing algorithms.
const (
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
)

// Registration modes.
const (
	RegistrationOpen   = "open"
	RegistrationClosed = "closed"
)

// User is a subject the IdP can log in, with claims that appear in ID tokens, userinfo,
// introspection and JWT access tokens.
type User struct {
	Subject string         `yaml:"subject"`
	Claims  map[string]any `yaml:"claims"`
	// Scopes this user may be granted; a requested scope outside them is left out of the
	// grant (RFC 6749 §3.3), so the login, not the client, decides who gets e.g. admin.
	// Nil: every scope the client may request. Not a key of scenario files (yet).
	Scopes []string `yaml:"-"`
}

// mayHave reports whether the user may be granted scope.
func (u User) mayHave(scope string) bool {
	return u.Scopes == nil || slices.Contains(u.Scopes, scope)
}

// TrustedIssuer is an issuer whose tokens the token-exchange grant accepts. Set Server to
// trust another mock IdP (its issuer, JWKS and introspection are used), or set Issuer plus
// JWKS (JWT subject tokens) and/or Introspect (opaque subject tokens) for anything else.
// Introspect is also asked whether a JWT access token is still active, which is the only
// way to see that it was revoked; without it a revoked JWT passes until it expires.
type TrustedIssuer struct {
	ConnectorID string
	Issuer      string
	Server      *Server
	JWKS        func(ctx context.Context) (*jose.JSONWebKeySet, error)
	Introspect  func(ctx context.Context, token string) (Introspection, error)
}

// DefaultSubject is the subject of the default user.
const DefaultSubject = "test-user-123"

func (c Config) withDefaults() Config {
	if len(c.Scopes) == 0 {
		c.Scopes = []string{"openid", "profile", "email"}
	}
	if c.TokenLifetime <= 0 {
		c.TokenLifetime = time.Hour
	}
	if c.RefreshTokenLifetime <= 0 {
		c.RefreshTokenLifetime = 24 * time.Hour
	}
	if c.ClientID == "" {
		c.ClientID = "test-client"
	}
	if len(c.Users) == 0 {
		c.Users = []User{{Subject: DefaultSubject, Claims: map[string]any{
			"name": "Test User", "email": "test-user-123@example.com", "email_verified": true,
		}}}
	}
	if c.Registration == "" {
		c.Registration = RegistrationOpen
	}
	if c.SigningAlgorithm == "" {
		c.SigningAlgorithm = AlgRS256
	}
	if c.IssueRefreshTokens == nil {
		t := true
		c.IssueRefreshTokens = &t
	}
	return c
}

func (c Config) validate() error {
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("idp: port %d out of range", c.Port)
	}
	if c.SigningAlgorithm != "" && c.SigningAlgorithm != AlgRS256 && c.SigningAlgorithm != AlgES256 {
		return fmt.Errorf("idp: signing algorithm %q: want %s or %s", c.SigningAlgorithm, AlgRS256, AlgES256)
	}
	if c.Registration != "" && c.Registration != RegistrationOpen && c.Registration != RegistrationClosed {
		return fmt.Errorf("idp: registration %q: want %s or %s", c.Registration, RegistrationOpen, RegistrationClosed)
	}
	for i, f := range c.Faults {
		if err := f.Check(); err != nil {
			return fmt.Errorf("idp: faults[%d]: %w", i, err)
		}
	}
	for i, u := range c.Users {
		if u.Subject == "" {
			return fmt.Errorf("idp: users[%d]: subject is empty", i)
		}
	}
	for i, t := range c.TrustedIssuers {
		if t.Server == nil && (t.Issuer == "" || (t.JWKS == nil && t.Introspect == nil)) {
			return fmt.Errorf("idp: trusted_issuers[%d]: needs Server, or Issuer with JWKS or Introspect", i)
		}
	}
	return nil
}

// ConfigFromYAML reads a Config from YAML written with its fields' yaml tags (one
// mock_oauth_servers entry of a scenario file, without trusted_issuers). Unknown keys are
// errors; durations are Go duration strings ("90s", "1h"); a zero duration, like an absent
// one, takes the default.
func ConfigFromYAML(data []byte) (Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return Config{}, fmt.Errorf("idp config: empty document")
		}
		return Config{}, fmt.Errorf("idp config: %w", err)
	}
	if cfg.TokenLifetime < 0 || cfg.RefreshTokenLifetime < 0 {
		return Config{}, fmt.Errorf("idp config: token_lifetime and refresh_token_lifetime must not be negative")
	}
	return cfg, cfg.validate()
}
