package refsut

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"
	"golang.org/x/oauth2"
)

// prmInfo is what the aggregator keeps of a protected resource's metadata (RFC 9728).
type prmInfo struct {
	issuer   string
	scope    string
	resource string
}

// resourceMetadataURL is the resource_metadata a 401 named, if any.
func resourceMetadataURL(err error) string {
	var are *transport.AuthorizationRequiredError
	if errors.As(err, &are) {
		return are.ResourceMetadataURL
	}
	return ""
}

// prmCandidates are the places a server's PRM may be: muster's root form first, then the
// RFC 9728 path-inserted form, then what the 401 pointed at.
func prmCandidates(serverURL, fromChallenge string) []string {
	const wk = "/.well-known/oauth-protected-resource"
	base := strings.TrimSuffix(strings.TrimSuffix(serverURL, "/"), "/mcp")
	out := []string{base + wk}
	if u, err := url.Parse(serverURL); err == nil && u.Path != "" && u.Path != "/" {
		out = append(out, u.Scheme+"://"+u.Host+wk+strings.TrimSuffix(u.Path, "/"))
	}
	if fromChallenge != "" {
		out = append(out, fromChallenge)
	}
	return out
}

// discover fetches the server's PRM unless its scope is already known (muster re-fetches
// while the scope is empty).
func (a *Aggregator) discover(ctx context.Context, s *serverState) (prmInfo, error) {
	s.mu.Lock()
	if s.prm != nil && s.prm.scope != "" {
		p := *s.prm
		s.mu.Unlock()
		return p, nil
	}
	fromChallenge := s.prmURL
	s.mu.Unlock()
	var doc struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
		ScopesSupported      []string `json:"scopes_supported"`
	}
	var lastErr error
	for _, u := range prmCandidates(s.spec.URL, fromChallenge) {
		if lastErr = a.getJSON(ctx, u, &doc); lastErr == nil && len(doc.AuthorizationServers) > 0 {
			p := prmInfo{
				issuer:   strings.TrimSuffix(doc.AuthorizationServers[0], "/"),
				scope:    strings.Join(doc.ScopesSupported, " "),
				resource: doc.Resource,
			}
			s.mu.Lock()
			s.prm = &p
			s.mu.Unlock()
			return p, nil
		}
	}
	if old, ok := s.discovered(); ok {
		return old, nil
	}
	if lastErr == nil {
		lastErr = errors.New("no authorization_servers")
	}
	return prmInfo{}, lastErr
}

// getJSON GETs a JSON document; anything but 200 is an error.
func (a *Aggregator) getJSON(ctx context.Context, u string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := a.httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(into)
}

// asMetadata is the part of RFC 8414 / OIDC discovery the proxy uses.
type asMetadata struct {
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	JWKSURI               string `json:"jwks_uri"` // protected mode's token validation
	fetched               time.Time
}

type metadataCache struct {
	mu sync.Mutex
	m  map[string]asMetadata
}

func (c *metadataCache) init() { c.m = map[string]asMetadata{} }

// metadata returns the issuer's endpoints, from RFC 8414 with OIDC discovery as fallback,
// cached for 30 minutes as muster does.
func (a *Aggregator) metadata(ctx context.Context, issuer string) (asMetadata, error) {
	a.asMeta.mu.Lock()
	md, ok := a.asMeta.m[issuer]
	a.asMeta.mu.Unlock()
	if ok && time.Since(md.fetched) < 30*time.Minute {
		return md, nil
	}
	var errs []error
	for _, p := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		md = asMetadata{}
		err := a.getJSON(ctx, issuer+p, &md)
		if err == nil && (md.AuthorizationEndpoint == "" || md.TokenEndpoint == "") {
			err = fmt.Errorf("%s%s lacks authorization_endpoint or token_endpoint", issuer, p)
		}
		if err == nil {
			md.fetched = time.Now()
			a.asMeta.mu.Lock()
			a.asMeta.m[issuer] = md
			a.asMeta.mu.Unlock()
			return md, nil
		}
		errs = append(errs, err)
	}
	return asMetadata{}, fmt.Errorf("failed to discover OAuth metadata for %s: %w", issuer, errors.Join(errs...))
}

// oauthConfig is the public-client configuration for one issuer.
func (a *Aggregator) oauthConfig(md asMetadata, scope string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:    a.cfg.OAuth.ClientID,
		RedirectURL: a.cfg.OAuth.PublicURL + a.cfg.OAuth.CallbackPath,
		Endpoint: oauth2.Endpoint{
			AuthURL:   md.AuthorizationEndpoint,
			TokenURL:  md.TokenEndpoint,
			AuthStyle: oauth2.AuthStyleInParams, // public client: client_id in the body, no Basic auth
		},
		Scopes: strings.Fields(scope),
	}
}

func (a *Aggregator) oauthCtx(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, a.httpClient)
}

// statePayload is the state's JSON, fields in muster's order (docs/muster-contract.md §4.3).
type statePayload struct {
	SessionID  string    `json:"session_id"`
	ServerName string    `json:"server_name"`
	Nonce      string    `json:"nonce"`
	CreatedAt  time.Time `json:"created_at"`
	Issuer     string    `json:"issuer"`
}

func encodeState(p statePayload) string {
	b, _ := json.Marshal(p)
	return base64.URLEncoding.EncodeToString(b)
}

func decodeState(s string) (statePayload, error) {
	var p statePayload
	b, err := base64.URLEncoding.DecodeString(s)
	if err != nil {
		if b, err = base64.RawURLEncoding.DecodeString(s); err != nil {
			return p, err
		}
	}
	err = json.Unmarshal(b, &p)
	return p, err
}

// pendingLogin is a challenge waiting for its callback; the verifier never leaves the server.
type pendingLogin struct {
	sessionID string
	server    string
	issuer    string
	resource  string
	verifier  string
	created   time.Time
	// Protected mode: the IdP URL the start endpoint redirects to, and the hash of the
	// secret it gave the browser that opened it (empty until then).
	authURL string
	binding string
}

const challengeTTL = 10 * time.Minute

type challengeStore struct {
	mu sync.Mutex
	m  map[string]pendingLogin // by nonce
}

func (c *challengeStore) init() { c.m = map[string]pendingLogin{} }

func (c *challengeStore) put(nonce string, p pendingLogin) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range c.m {
		if time.Since(v.created) > challengeTTL {
			delete(c.m, k)
		}
	}
	c.m[nonce] = p
}

// take consumes a challenge: each state works once, and only within its lifetime.
func (c *challengeStore) take(nonce string) (pendingLogin, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.m[nonce]
	delete(c.m, nonce)
	if !ok || time.Since(p.created) > challengeTTL {
		return pendingLogin{}, false
	}
	return p, true
}

// peek returns a live challenge without consuming it.
func (c *challengeStore) peek(nonce string) (pendingLogin, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.m[nonce]
	if !ok || time.Since(p.created) > challengeTTL {
		return pendingLogin{}, false
	}
	return p, true
}

// bind records the browser binding of a challenge that has none yet.
func (c *challengeStore) bind(nonce, binding string) (pendingLogin, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.m[nonce]
	if !ok || time.Since(p.created) > challengeTTL || p.binding != "" {
		return pendingLogin{}, false
	}
	p.binding = binding
	c.m[nonce] = p
	return p, true
}

// only returns the single pending challenge, if there is exactly one (skip-state-check fault).
func (c *challengeStore) only(server string) (pendingLogin, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var found []pendingLogin
	for _, p := range c.m {
		if server == "" || p.server == server {
			found = append(found, p)
		}
	}
	if len(found) == 0 {
		return pendingLogin{}, false
	}
	if server == "" && len(found) > 1 {
		return pendingLogin{}, false
	}
	return found[len(found)-1], true
}

// onlyNonce returns the key of the single pending challenge, if there is exactly one
// (skip-state-check in protected mode, where the state is that key).
func (c *challengeStore) onlyNonce() (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) != 1 {
		return "", false
	}
	for k := range c.m {
		return k, true
	}
	return "", false
}

// newChallenge makes the authorization URL for one login of one session to one server.
func (a *Aggregator) newChallenge(ctx context.Context, sessID string, s *serverState, p prmInfo) (string, error) {
	md, err := a.metadata(ctx, p.issuer)
	if err != nil {
		return "", fmt.Errorf("failed to generate auth URL: failed to fetch OAuth metadata: %w", err)
	}
	nonce := make([]byte, 32)
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	st := statePayload{
		SessionID:  sessID,
		ServerName: s.spec.Name,
		Nonce:      base64.URLEncoding.EncodeToString(nonce),
		CreatedAt:  time.Now().UTC(),
		Issuer:     p.issuer,
	}
	verifier := oauth2.GenerateVerifier()
	pending := pendingLogin{
		sessionID: sessID, server: s.spec.Name, issuer: p.issuer, resource: p.resource,
		verifier: verifier, created: time.Now(),
	}
	var opts []oauth2.AuthCodeOption
	if !a.faults.has(FaultSkipPKCE) {
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
	}
	if p.resource != "" && !a.faults.has(FaultNoResourceAuthorize) {
		// RFC 8707, as the MCP authorization spec asks: the token is bound to this upstream.
		opts = append(opts, oauth2.SetAuthURLParam("resource", p.resource))
	}
	if a.cfg.Server.Enabled {
		// The nonce alone is the state: it says nothing, and maps to the login here.
		state := st.Nonce
		if a.faults.has(FaultReadableState) {
			state = encodeState(st)
		}
		pending.authURL = a.oauthConfig(md, p.scope).AuthCodeURL(state, opts...)
		a.challenges.put(state, pending)
		return a.loginStartURL(state), nil
	}
	a.challenges.put(st.Nonce, pending)
	return a.oauthConfig(md, p.scope).AuthCodeURL(encodeState(st), opts...), nil
}
