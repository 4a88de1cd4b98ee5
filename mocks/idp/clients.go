package idp

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/ory/fosite"

	"github.com/muster-test/muster-test/mocks/hostguard"
)

const grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"

// clientRegistry holds pre-registered and dynamically registered clients and resolves
// Client ID Metadata Documents (a client_id that is an http(s) URL) on demand.
type clientRegistry struct {
	mu      sync.RWMutex
	clients map[string]fosite.Client
	// anyLoopback names clients registered without redirect URIs: they accept any loopback
	// redirect URI (RFC 8252 §7.3, any port, localhost included) and nothing else.
	anyLoopback map[string]bool
	scopes      []string
	fetch       *http.Client
}

func newClientRegistry(scopes []string) *clientRegistry {
	return &clientRegistry{
		clients:     map[string]fosite.Client{},
		anyLoopback: map[string]bool{},
		scopes:      scopes,
		fetch: &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
	}
}

func (c *clientRegistry) add(cl fosite.Client, anyLoopback bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clients[cl.GetID()] = cl
	c.anyLoopback[cl.GetID()] = anyLoopback
}

type redirectKey struct{}

// withLoopbackRedirect lets an any-loopback client accept uri for this request.
func withLoopbackRedirect(ctx context.Context, uri string) context.Context {
	return context.WithValue(ctx, redirectKey{}, uri)
}

func (c *clientRegistry) isAnyLoopback(id string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.anyLoopback[id]
}

func (c *clientRegistry) get(ctx context.Context, id string) (fosite.Client, error) {
	c.mu.RLock()
	cl, ok := c.clients[id]
	anyLB := c.anyLoopback[id]
	c.mu.RUnlock()
	if !ok {
		if isURLClientID(id) {
			return c.resolveMetadataDocument(ctx, id)
		}
		return nil, fosite.ErrNotFound
	}
	if uri, _ := ctx.Value(redirectKey{}).(string); anyLB && uri != "" {
		dc := *(cl.(*fosite.DefaultClient))
		dc.RedirectURIs = []string{uri}
		return &dc, nil
	}
	return cl, nil
}

func isURLClientID(id string) bool {
	u, err := url.Parse(id)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// isLoopbackHTTPURL reports whether s is an http(s) URL on a loopback host without fragment.
func isLoopbackHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Fragment == "" &&
		hostguard.IsLoopback(u.Hostname())
}

// clientMetadataDocument is the part of a CIMD the IdP enforces.
type clientMetadataDocument struct {
	ClientID                string   `json:"client_id"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
}

var errCIMD = errors.New("client metadata document")

func (c *clientRegistry) resolveMetadataDocument(ctx context.Context, id string) (fosite.Client, error) {
	u, _ := url.Parse(id)
	if !hostguard.IsLoopback(u.Hostname()) {
		return nil, fmt.Errorf("%w: %s is not on a loopback host: %w", errCIMD, id, fosite.ErrNotFound)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, id, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errCIMD, fosite.ErrNotFound)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.fetch.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: fetch %s: %v: %w", errCIMD, id, err, fosite.ErrNotFound)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: fetch %s: status %d: %w", errCIMD, id, resp.StatusCode, fosite.ErrNotFound)
	}
	var doc clientMetadataDocument
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("%w: %s: %v: %w", errCIMD, id, err, fosite.ErrNotFound)
	}
	switch {
	case doc.ClientID != id:
		return nil, fmt.Errorf("%w: client_id %q does not equal the document URL: %w", errCIMD, doc.ClientID, fosite.ErrNotFound)
	case len(doc.RedirectURIs) == 0:
		return nil, fmt.Errorf("%w: no redirect_uris: %w", errCIMD, fosite.ErrNotFound)
	case doc.TokenEndpointAuthMethod != "" && doc.TokenEndpointAuthMethod != "none":
		return nil, fmt.Errorf("%w: token_endpoint_auth_method %q unsupported (only none): %w", errCIMD, doc.TokenEndpointAuthMethod, fosite.ErrNotFound)
	}
	if len(doc.GrantTypes) == 0 {
		doc.GrantTypes = []string{"authorization_code"}
	}
	if len(doc.ResponseTypes) == 0 {
		doc.ResponseTypes = []string{"code"}
	}
	// The document's scope is informative: such a client may ask for any scope the IdP knows.
	return &fosite.DefaultOpenIDConnectClient{
		DefaultClient: &fosite.DefaultClient{
			ID: id, RedirectURIs: doc.RedirectURIs, GrantTypes: doc.GrantTypes,
			ResponseTypes: doc.ResponseTypes, Scopes: slices.Clone(c.scopes), Public: true,
		},
		TokenEndpointAuthMethod: "none",
	}, nil
}

// plainHasher compares client secrets in constant time. Secrets are stored as given: the
// IdP is a test fixture, and bcrypt would dominate every token request.
type plainHasher struct{}

func (plainHasher) Compare(_ context.Context, hash, data []byte) error {
	if len(hash) == 0 || subtle.ConstantTimeCompare(hash, data) != 1 {
		return errors.New("client secret mismatch")
	}
	return nil
}

func (plainHasher) Hash(_ context.Context, data []byte) ([]byte, error) { return data, nil }

// audienceStrategy accepts a requested audience (RFC 8707 resource) that the client lists
// or that is a loopback http(s) URL: every resource a test environment hosts is loopback.
func audienceStrategy(haystack, needle []string) error {
	for _, n := range needle {
		if !slices.Contains(haystack, n) && !isLoopbackHTTPURL(n) {
			return &fosite.RFC6749Error{
				ErrorField:       "invalid_target",
				DescriptionField: "The requested resource is invalid, unknown, or malformed.",
				HintField:        fmt.Sprintf("Resource %q is neither a loopback URL nor registered for this client.", n),
				CodeField:        http.StatusBadRequest,
			}
		}
	}
	return nil
}
