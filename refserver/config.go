package refserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/muster-test/muster-test/mocks/bearer"
)

// Config describes one reference server. Exactly one of Issuer and WithAS is set.
type Config struct {
	// Port on 127.0.0.1; 0 picks a free one.
	Port int
	// Issuer of the mock IdP the server trusts; its RFC 8414 (else OpenID) metadata names
	// the JWKS and the introspection endpoint.
	Issuer string
	// WithAS mounts an authorization server, made by MountAS, on the server's own origin:
	// one process is then both the authorization server and the resource server. Its
	// users come from Policy.
	WithAS bool
	// MountAS makes WithAS's authorization server: refserver/mountidp.Mount, a mock IdP
	// (mocks/idp). This package does not import it, so that a binary serving Issuer alone
	// links no OAuth library and starts in half the time (see internal/child).
	MountAS MountAS
	// SigningAlgorithm of the mounted IdP's tokens (WithAS): ES256 when empty, as
	// its tokens are checked by this server alone, and a P-256 key costs microseconds to
	// make where an RSA key costs tens of milliseconds of every start.
	SigningAlgorithm string
	// Introspect validates every token by RFC 7662 introspection; otherwise JWTs are
	// validated with the issuer's JWKS alone (no revocation check, opaque tokens refused).
	Introspect bool
	// ContextTTL, with Introspect, is how long an active introspection answer (the
	// user's context) is reused for the same token, on the clock of token lifetimes (Now,
	// the issuer's with ClockIssuer, or the mounted IdP's); 0 introspects every request. serve's default is
	// DefaultContextTTL. A revoked token is served until its answer expires.
	ContextTTL time.Duration
	// Context is where the user's context (the claims the policy reads, such as the
	// tenant) comes from: ContextToken (the default: the token's claims, from the JWT or
	// introspection) or ContextUserInfo (the issuer's userinfo endpoint, asked with the
	// caller's token and kept per user for ContextTTL; Issuer only).
	Context string
	// UpstreamIssuer enables the upstream tools: the server holds one token per user at this
	// IdP, obtained by RFC 8693 token exchange of the caller's token and exchanged again
	// when it expired or was revoked. The server registers a client there by RFC 7591.
	UpstreamIssuer string
	// UpstreamWait is how long a tool call waits for the user's upstream token (default
	// DefaultUpstreamWait); an exchange that takes longer goes on for the next call.
	UpstreamWait time.Duration
	// Store serves the store tools (StoreTools) to every tenant: notes and files each user
	// keeps in memory and shares with other users by subject.
	Store bool
	// ClientID and ClientSecret authenticate introspection requests to Issuer (a
	// confidential client there). Without them the server registers a client by RFC 7591
	// dynamic registration at start.
	ClientID, ClientSecret string
	// Policy is the tenants, scopes and users; nil: DefaultPolicy.
	Policy *Policy
	// AuditFile receives one JSON line per tools/call, appended; empty: no audit log.
	AuditFile string
	// Faults to inject (tests only).
	Faults Faults
	// Logger for requests and decisions; nil: none.
	Logger *slog.Logger
	// MockClock freezes the mounted IdP's clock (WithAS; see idp.Config.UseMockClock):
	// token lifetimes are then judged on it, and it moves only with
	// mountidp.IdP(s).Clock().Advance.
	MockClock bool
	// Now is the clock for token lifetimes with Issuer (default time.Now).
	Now func() time.Time
	// Clock, with Issuer, is where the server's notion of now comes from (token
	// lifetimes, ContextTTL, upstream token expiry): ClockLocal (the default: Now) or
	// ClockIssuer (the issuer's clock, as the Date header of its answers tells it: a mock
	// IdP's mock clock, which a scenario moves; see issuerClock).
	Clock string
	// SelfSignedTLS serves https with a certificate for 127.0.0.1 and localhost from a
	// throw-away CA made at start (CACertPEM), so a test can trust exactly this server.
	SelfSignedTLS bool
	// WriteCA, with SelfSignedTLS, is where the CA's PEM is written before the server
	// listens: a client started later reads it from there.
	WriteCA string
}

// AuthorizationServer is the authorization server of Config.WithAS: the server serves
// its endpoints on its own origin (every path but its own) and checks tokens against it.
type AuthorizationServer interface {
	bearer.Authority
	Handler() http.Handler
	Close() error
}

// MountAS makes the authorization server of cfg.WithAS at origin (its issuer), for the
// users and scopes of the policy.
type MountAS func(cfg Config, policy Policy, origin string) (AuthorizationServer, error)

// Where the user's context comes from (Config.Context).
const (
	ContextToken    = "token"
	ContextUserInfo = "userinfo"
)

// Where the server's time comes from (Config.Clock).
const (
	ClockLocal  = "local"
	ClockIssuer = "issuer"
)

// Policy is the server's access policy: the config file (YAML, or JSON, which YAML reads).
type Policy struct {
	// Scope every request needs; the 401 challenge names it. Default "tools:call".
	Scope string `yaml:"scope"`
	// AdminScope admin_purge needs besides Scope. Default "admin".
	AdminScope string `yaml:"admin_scope"`
	// TenantClaim is the token claim naming the caller's tenant. Default "tenant_id".
	TenantClaim string `yaml:"tenant_claim"`
	// Tenants maps each tenant to the tools it may see and call.
	Tenants map[string][]string `yaml:"tenants"`
	// Users who can log in at the mounted IdP (WithAS only).
	Users []PolicyUser `yaml:"users"`
	// AutoApprove: the mounted IdP logs in the login_hint user (else the first user) at
	// once; false shows its consent form. Default true.
	AutoApprove *bool `yaml:"auto_approve"`
	// TokenLifetime of the mounted IdP's access tokens, a Go duration. Default 1h.
	TokenLifetime string `yaml:"token_lifetime"`
	// ClientID and ClientSecret of the mounted IdP's pre-registered client; default
	// test-client, public.
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
}

// PolicyUser is one user of the mounted IdP.
type PolicyUser struct {
	Subject string `yaml:"subject"`
	Tenant  string `yaml:"tenant"`
	// Admin users may be granted AdminScope; for others the IdP leaves it out of the grant.
	Admin bool `yaml:"admin"`
	// Claims are extra claims of the user's tokens (e.g. email).
	Claims map[string]any `yaml:"claims"`
}

// The tools of the reference server.
const (
	ToolEcho           = "echo"
	ToolSearch         = "search_documents"
	ToolAdminPurge     = "admin_purge"
	ToolExportReport   = "export_report"
	defaultScope       = "tools:call"
	defaultAdminScope  = "admin"
	defaultTenantClaim = "tenant_id"
)

var allTools = []string{ToolEcho, ToolSearch, ToolAdminPurge, ToolExportReport}

// DefaultPolicy: alice (tenant-a, admin) and bob (tenant-a) see echo,
// search_documents and admin_purge; carol (tenant-b) sees echo, search_documents and
// export_report.
func DefaultPolicy() *Policy {
	p := &Policy{
		Tenants: map[string][]string{
			"tenant-a": {ToolEcho, ToolSearch, ToolAdminPurge},
			"tenant-b": {ToolEcho, ToolSearch, ToolExportReport},
		},
		Users: []PolicyUser{
			{Subject: "alice", Tenant: "tenant-a", Admin: true, Claims: map[string]any{"email": "alice@example.com"}},
			{Subject: "bob", Tenant: "tenant-a", Claims: map[string]any{"email": "bob@example.com"}},
			{Subject: "carol", Tenant: "tenant-b", Claims: map[string]any{"email": "carol@example.com"}},
		},
	}
	_ = p.complete()
	return p
}

// LoadPolicy reads a policy file; keys it does not know are errors. Omitted keys take
// DefaultPolicy's values.
func LoadPolicy(path string) (*Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := ParsePolicy(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// ParsePolicy parses a policy document (see LoadPolicy).
func ParsePolicy(data []byte) (*Policy, error) {
	var p Policy
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	def := DefaultPolicy()
	if p.Tenants == nil {
		p.Tenants = def.Tenants
	}
	if p.Users == nil {
		p.Users = def.Users
	}
	if err := p.complete(); err != nil {
		return nil, err
	}
	return &p, nil
}

// complete fills defaults and checks the policy.
func (p *Policy) complete() error {
	if p.Scope == "" {
		p.Scope = defaultScope
	}
	if p.AdminScope == "" {
		p.AdminScope = defaultAdminScope
	}
	if p.TenantClaim == "" {
		p.TenantClaim = defaultTenantClaim
	}
	if p.AdminScope == p.Scope {
		return fmt.Errorf("admin_scope %q must differ from scope", p.AdminScope)
	}
	if p.AutoApprove == nil {
		t := true
		p.AutoApprove = &t
	}
	if p.TokenLifetime != "" {
		if d, err := time.ParseDuration(p.TokenLifetime); err != nil || d <= 0 {
			return fmt.Errorf("token_lifetime: %q is not a positive Go duration", p.TokenLifetime)
		}
	}
	for _, tenant := range slices.Sorted(maps.Keys(p.Tenants)) {
		for _, tool := range p.Tenants[tenant] {
			if !slices.Contains(allTools, tool) {
				return fmt.Errorf("tenants.%s: unknown tool %q (known: %v)", tenant, tool, allTools)
			}
		}
	}
	seen := map[string]bool{}
	for i, u := range p.Users {
		switch {
		case u.Subject == "":
			return fmt.Errorf("users[%d]: subject is required", i)
		case seen[u.Subject]:
			return fmt.Errorf("users[%d]: subject %q declared twice", i, u.Subject)
		case u.Tenant == "":
			return fmt.Errorf("users[%d] (%s): tenant is required", i, u.Subject)
		case p.Tenants[u.Tenant] == nil:
			return fmt.Errorf("users[%d] (%s): tenant %q is not under tenants", i, u.Subject, u.Tenant)
		}
		seen[u.Subject] = true
	}
	return nil
}

// ParsedTokenLifetime is TokenLifetime as a duration (0: the IdP's default); Start has
// checked that it parses.
func (p *Policy) ParsedTokenLifetime() time.Duration {
	d, _ := time.ParseDuration(p.TokenLifetime)
	return d
}

// allows reports whether tenant may see and call tool.
func (p *Policy) allows(tenant, tool string) bool {
	return tenant != "" && slices.Contains(p.Tenants[tenant], tool)
}
