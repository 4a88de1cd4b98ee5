package oauthclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Registration is how the client is known to the authorization server.
type Registration struct {
	Method   string `json:"method"`
	ClientID string `json:"client_id"`
	// ClientSecret is empty for a public client (not in JSON).
	ClientSecret string `json:"-"`
	// AuthMethod is the token_endpoint_auth_method the client uses.
	AuthMethod  string `json:"token_endpoint_auth_method"`
	RedirectURI string `json:"redirect_uri"`
	// Document is the DCR response, or the client metadata document the client serves.
	Document *Document `json:"document,omitempty"`
}

// Token endpoint authentication methods.
const (
	authBasic = "client_secret_basic"
	authPost  = "client_secret_post"
	authNone  = "none"
)

func (c *Client) register(ctx context.Context, d *Discovery) (*Registration, error) {
	redirect, err := c.redirectURI()
	if err != nil {
		return nil, err
	}
	method := c.cfg.Registration
	if method == "" {
		switch {
		case c.cfg.ClientID != "":
			method = RegisterPreregistered
		case d.AS.ClientIDMetadataDocumentSupported:
			method = RegisterCIMD
		default:
			method = RegisterDCR
		}
	}
	switch method {
	case RegisterPreregistered:
		auth := authNone
		if c.cfg.ClientSecret != "" {
			auth = pickSecretMethod(d.AS.TokenEndpointAuthMethodsSupported)
		}
		c.record(PhaseRegister, "pre-registered client "+c.cfg.ClientID+" ("+auth+")", time.Now(), nil)
		return &Registration{Method: method, ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret,
			AuthMethod: auth, RedirectURI: redirect}, nil
	case RegisterCIMD:
		return c.registerCIMD(redirect)
	default:
		return c.registerDCR(ctx, d, redirect)
	}
}

// pickSecretMethod chooses how a confidential client authenticates: client_secret_basic
// unless the server supports only client_secret_post (RFC 8414's default is basic).
func pickSecretMethod(supported []string) string {
	if !slices.Contains(supported, authBasic) && slices.Contains(supported, authPost) {
		return authPost
	}
	return authBasic
}

func (c *Client) redirectURI() (string, error) {
	if c.cfg.RedirectURI != "" {
		return c.cfg.RedirectURI, nil
	}
	l, err := c.loopbackServer()
	if err != nil {
		return "", err
	}
	return l.base + "/callback", nil
}

func (c *Client) loopbackServer() (*loopback, error) {
	if c.loop == nil {
		l, err := startLoopback()
		if err != nil {
			return nil, fmt.Errorf("loopback server: %w", err)
		}
		c.loop = l
	}
	return c.loop, nil
}

// clientMetadata is the RFC 7591 metadata of this client, for DCR and CIMD alike.
type clientMetadata struct {
	ClientID                string   `json:"client_id,omitempty"`
	ClientName              string   `json:"client_name"`
	RedirectURIs            []string `json:"redirect_uris"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	Scope                   string   `json:"scope,omitempty"`
}

func (c *Client) metadata(redirect, auth string) clientMetadata {
	return clientMetadata{
		ClientName: c.cfg.ClientName, RedirectURIs: []string{redirect},
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"},
		TokenEndpointAuthMethod: auth,
	}
}

func (c *Client) registerCIMD(redirect string) (*Registration, error) {
	start := time.Now()
	reg := &Registration{Method: RegisterCIMD, AuthMethod: authNone, RedirectURI: redirect}
	if c.cfg.ClientMetadataURL != "" {
		reg.ClientID = c.cfg.ClientMetadataURL
		c.record(PhaseCIMD, "published client metadata document "+reg.ClientID, start, nil)
		return reg, nil
	}
	l, err := c.loopbackServer()
	if err != nil {
		return nil, err
	}
	md := c.metadata(redirect, authNone)
	md.ClientID = l.base + "/client-metadata.json"
	body, err := json.Marshal(md)
	if err != nil {
		return nil, err
	}
	l.setDocument(body)
	reg.ClientID = md.ClientID
	reg.Document = &Document{URL: md.ClientID, Status: http.StatusOK, ContentType: "application/json", Raw: string(body)}
	_ = decodeObject(body, &reg.Document.JSON)
	c.record(PhaseCIMD, "serving the client metadata document at "+md.ClientID, start, nil)
	return reg, nil
}

func (c *Client) registerDCR(ctx context.Context, d *Discovery, redirect string) (*Registration, error) {
	if d.AS.RegistrationEndpoint == "" {
		err := errors.New("the authorization server offers no registration_endpoint (and no client ID metadata documents); give a pre-registered client id")
		c.record(PhaseRegister, "", time.Now(), err)
		return nil, err
	}
	auth := authNone
	if sup := d.AS.TokenEndpointAuthMethodsSupported; len(sup) > 0 && !slices.Contains(sup, authNone) {
		auth = pickSecretMethod(sup)
	}
	body, err := json.Marshal(c.metadata(redirect, auth))
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(withPhase(ctx, PhaseRegister), http.MethodPost, d.AS.RegistrationEndpoint, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("registration: %w", err)
	}
	defer resp.Body.Close()
	raw, err := readCapped(resp.Body)
	doc := &Document{URL: d.AS.RegistrationEndpoint, Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Raw: string(raw)}
	if err != nil {
		return nil, fmt.Errorf("registration response: %w", err)
	}
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("registration answered %d%s", resp.StatusCode, oauthErrorSuffix(raw))
	}
	var out struct {
		ClientID                string `json:"client_id"`
		ClientSecret            string `json:"client_secret"`
		TokenEndpointAuthMethod string `json:"token_endpoint_auth_method"`
	}
	if err := decodeObject(raw, &doc.JSON); err != nil {
		return nil, fmt.Errorf("registration response: %w", err)
	}
	if err := decodeInto(doc, &out); err != nil || out.ClientID == "" {
		return nil, fmt.Errorf("registration response has no client_id (%v): %s", err, trimBody(raw))
	}
	reg := &Registration{Method: RegisterDCR, ClientID: out.ClientID, ClientSecret: out.ClientSecret,
		AuthMethod: auth, RedirectURI: redirect, Document: doc}
	// The server may replace requested metadata and returns what it registered (RFC 7591
	// §3.2.1); where it says nothing, the request stands.
	if out.TokenEndpointAuthMethod != "" {
		reg.AuthMethod = out.TokenEndpointAuthMethod
	}
	return reg, nil
}

// oauthErrorSuffix renders an RFC 6749 error body as ": error: description".
func oauthErrorSuffix(body []byte) string {
	var e struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		if e.Description != "" {
			return ": " + e.Error + ": " + e.Description
		}
		return ": " + e.Error
	}
	if t := trimBody(body); t != "" {
		return ": " + t
	}
	return ""
}

func trimBody(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// loopback is the client's own server on 127.0.0.1: the redirect URI's host and the home
// of its client metadata document.
type loopback struct {
	base string
	srv  *http.Server
	done chan struct{}
	doc  atomic.Pointer[[]byte]
}

func startLoopback() (*loopback, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	l := &loopback{base: "http://" + ln.Addr().String(), done: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /client-metadata.json", func(w http.ResponseWriter, _ *http.Request) {
		doc := l.doc.Load()
		if doc == nil {
			http.Error(w, "no client metadata document", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(*doc)
	})
	// The headless browser stops at the redirect; a real browser sent here gets a page.
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("muster-test: the authorization response was received; this window can be closed.\n"))
	})
	l.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		defer close(l.done)
		_ = l.srv.Serve(ln)
	}()
	return l, nil
}

func (l *loopback) setDocument(b []byte) { l.doc.Store(&b) }

func (l *loopback) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := l.srv.Shutdown(ctx)
	if err != nil {
		err = l.srv.Close()
	}
	<-l.done
	return err
}
