package oauthclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"golang.org/x/oauth2"
)

// Registration methods (Config.Registration, Registration.Method).
const (
	RegisterPreregistered = "preregistered"
	RegisterCIMD          = "cimd"
	RegisterDCR           = "dcr"
)

// Config configures a Client. The zero value is a public client that registers itself
// (CIMD when the authorization server supports it, else DCR) and logs in as whoever the
// authorization server picks.
type Config struct {
	// ClientID and ClientSecret of a pre-registered client; an empty secret makes it public.
	ClientID, ClientSecret string
	// Registration forces a method: RegisterPreregistered, RegisterCIMD or RegisterDCR.
	// Empty: pre-registered when ClientID is set, else CIMD when the authorization server
	// advertises client_id_metadata_document_supported, else DCR.
	Registration string
	// ClientMetadataURL is a client ID metadata document published elsewhere, used as the
	// client_id under CIMD instead of the document the client serves on 127.0.0.1.
	ClientMetadataURL string
	// RedirectURI overrides http://127.0.0.1:<port>/callback on the client's loopback server.
	RedirectURI string
	// ClientName is sent in registrations and as the MCP clientInfo (default "muster-test").
	ClientName string
	// Scope requested, space-separated. Empty: the challenge's scope, else the PRM's
	// scopes_supported, else no scope parameter (the MCP scope selection strategy).
	Scope string
	// Issuer picks one of the PRM's authorization_servers (default the first).
	Issuer string
	// User is how the headless browser logs in.
	User User
	// Protocol pins the MCP protocol revision (e.g. "2025-06-18"); empty negotiates.
	Protocol string
	// Faults make the client misbehave on purpose.
	Faults Faults
	// HTTPClient supplies the transport (TLS roots and the like); default a clone of
	// http.DefaultTransport. Its redirect policy, jar and timeout are not used.
	HTTPClient *http.Client
	// Timeout of each OAuth request (default 30s).
	Timeout time.Duration
	// OnPhase sees every phase as it is recorded (for live debug output).
	OnPhase func(Phase)
	// MaxReauthorizations bounds the new authorizations one MCP request may trigger after
	// 401/403 challenges (default 2, so at most three tokens are tried per request).
	MaxReauthorizations int
}

// User drives the headless login.
type User struct {
	// Subject is sent as login_hint and fills subject-like fields of a login form
	// (subject, username, login, email, user) that Credentials does not name.
	Subject string
	// Credentials fill login form fields by name (e.g. username, password).
	Credentials map[string]string
	// Params are extra authorization request parameters: a server's URL-parameter login
	// shortcut such as tenant_id and sub.
	Params map[string]string
	// Deny presses a deny/cancel button on a consent form instead of approving.
	Deny bool
}

// Faults make one part of the flow misbehave, for negative checks against a server.
type Faults struct {
	SkipPKCE       bool   // no code_challenge, no code_verifier
	PlainPKCE      bool   // code_challenge_method=plain (the verifier as challenge)
	WrongVerifier  bool   // a code_verifier other than the one the challenge was made from
	OmitResource   bool   // no RFC 8707 resource parameter
	Resource       string // this resource instead of the PRM's
	OmitState      bool   // no state parameter
	WrongState     bool   // the callback's state is replaced, as by a forged redirect
	IgnoreState    bool   // do not compare the callback's state
	IgnoreIss      bool   // do not check the RFC 9207 iss parameter
	IgnoreProblems bool   // log in despite fatal discovery problems
}

// Client is an OAuth client of one MCP server (one resource), with its own loopback
// server for the redirect URI and client metadata document. It is safe for concurrent use.
type Client struct {
	cfg  Config
	log  *phaseLog
	base http.RoundTripper
	http *http.Client // records phases; follows no redirects

	mu      sync.Mutex // guards the fields below; held across a (re)authorization
	loop    *loopback
	disc    *Discovery
	reg     *Registration
	tok     *oauth2.Token
	scopes  []string // requested
	granted []string
	closed  bool
}

// New returns a client; Close releases its loopback server.
func New(cfg Config) (*Client, error) {
	if cfg.ClientName == "" {
		cfg.ClientName = "muster-test"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.MaxReauthorizations <= 0 {
		cfg.MaxReauthorizations = 2
	}
	switch cfg.Registration {
	case "", RegisterCIMD, RegisterDCR:
	case RegisterPreregistered:
		if cfg.ClientID == "" {
			return nil, errors.New("oauthclient: a pre-registered client needs a ClientID")
		}
	default:
		return nil, fmt.Errorf("oauthclient: registration %q: want %s, %s or %s", cfg.Registration, RegisterPreregistered, RegisterCIMD, RegisterDCR)
	}
	if cfg.Protocol != "" && !mcp.IsValidProtocolVersion(cfg.Protocol) {
		return nil, fmt.Errorf("oauthclient: protocol %q: want one of %s", cfg.Protocol, strings.Join(mcp.ValidProtocolVersions, ", "))
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	var rt http.RoundTripper = base
	if cfg.HTTPClient != nil && cfg.HTTPClient.Transport != nil {
		rt = cfg.HTTPClient.Transport
	}
	log := &phaseLog{observe: cfg.OnPhase}
	c := &Client{cfg: cfg, log: log, base: rt}
	c.http = &http.Client{
		Transport:     &recorder{base: rt, log: log},
		Timeout:       cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// Close stops the loopback server. Sessions opened by the client should be closed first.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.loop != nil {
		err := c.loop.close()
		c.loop = nil
		return err
	}
	return nil
}

// Phases returns every phase recorded so far.
func (c *Client) Phases() []Phase { return c.log.since(0) }

// record adds a phase that is not one HTTP request.
func (c *Client) record(name, detail string, start time.Time, err error) {
	p := Phase{Name: name, Detail: detail, Duration: time.Since(start)}
	if err != nil {
		p.Error = err.Error()
	}
	c.log.add(p)
}

// Result is the outcome of a login.
type Result struct {
	Discovery    *Discovery    `json:"discovery"`
	Registration *Registration `json:"client"`
	// RequestedScope is what the authorization request asked for ("" when none).
	RequestedScope string `json:"requested_scope"`
	// Scope is what the token response granted, or RequestedScope when it said nothing.
	Scope     string    `json:"scope"`
	TokenType string    `json:"token_type"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// ExpiresIn is the lifetime in seconds the token response gave (0: none).
	ExpiresIn       int64 `json:"expires_in,omitempty"`
	HasRefreshToken bool  `json:"has_refresh_token"`
	// Claims of the access token when it is a JWT (not verified: the client is not its
	// audience).
	Claims map[string]any `json:"claims,omitempty"`
	// Phases of the whole login, discovery's included (Discovery.Phases is then empty).
	Phases []Phase `json:"phases"`
	// Token is the token itself (not in JSON).
	Token *oauth2.Token `json:"-"`
}

// Login discovers the server's authorization server, registers, logs in headlessly and
// exchanges the code for a token, which the client keeps for its sessions.
func (c *Client) Login(ctx context.Context, serverURL string) (*Result, error) {
	start := c.log.len()
	c.mu.Lock()
	defer c.mu.Unlock()
	d, err := c.discover(ctx, serverURL, nil)
	if err != nil {
		return c.failed(d, start), err
	}
	c.disc = d
	res, err := c.authorizeLocked(ctx, c.initialScopes(d))
	if res == nil {
		res = c.failed(d, start)
	}
	res.Discovery = d
	d.Phases = nil // the result's phases hold them all
	res.Phases = c.log.since(start)
	return res, err
}

func (c *Client) failed(d *Discovery, start int) *Result {
	return &Result{Discovery: d, Phases: c.log.since(start)}
}

// FirstScope is the scope a client asks for after discovery d, by the MCP scope selection
// strategy (the challenge's scope, else the metadata's scopes_supported); "" for none.
func (c *Client) FirstScope(d *Discovery) string { return strings.Join(c.initialScopes(d), " ") }

// initialScopes applies the MCP scope selection strategy unless Config.Scope is set.
func (c *Client) initialScopes(d *Discovery) []string {
	switch {
	case c.cfg.Scope != "":
		return strings.Fields(c.cfg.Scope)
	case d.WWWAuthenticate != nil && d.WWWAuthenticate.Scope != "":
		return strings.Fields(d.WWWAuthenticate.Scope)
	case d.PRM != nil && len(d.PRM.ScopesSupported) > 0:
		return slices.Clone(d.PRM.ScopesSupported)
	}
	return nil
}

// authorizeLocked registers if needed and runs one authorization with scopes.
func (c *Client) authorizeLocked(ctx context.Context, scopes []string) (*Result, error) {
	d := c.disc
	if p := d.Fatal(); p != nil && !c.cfg.Faults.IgnoreProblems {
		return nil, fmt.Errorf("discovery: %s: %s", p.Code, p.Message)
	}
	if d.AS == nil {
		return nil, errors.New("discovery found no authorization server metadata")
	}
	if c.closed {
		return nil, errors.New("oauthclient: client is closed")
	}
	if c.reg == nil {
		reg, err := c.register(ctx, d)
		if err != nil {
			return nil, err
		}
		c.reg = reg
	}
	tok, err := c.authorizationCode(ctx, d, c.reg, scopes)
	if err != nil {
		return &Result{Registration: c.reg, RequestedScope: strings.Join(scopes, " ")}, err
	}
	c.tok, c.scopes = tok, scopes
	c.granted = grantedScopes(tok, scopes)
	return c.describe(tok), nil
}

func grantedScopes(tok *oauth2.Token, requested []string) []string {
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		return strings.Fields(s)
	}
	return slices.Clone(requested)
}

func (c *Client) describe(tok *oauth2.Token) *Result {
	res := &Result{
		Registration: c.reg, RequestedScope: strings.Join(c.scopes, " "), Scope: strings.Join(c.granted, " "),
		TokenType: tok.Type(), ExpiresAt: tok.Expiry, ExpiresIn: tok.ExpiresIn,
		HasRefreshToken: tok.RefreshToken != "", Token: tok,
	}
	start := time.Now()
	claims, err := decodeClaims(tok.AccessToken)
	if claims != nil || err != nil {
		c.record(PhaseClaims, "access token is a JWT", start, err)
	}
	res.Claims = claims
	return res
}
