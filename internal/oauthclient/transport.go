package oauthclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// HTTPClient returns an http.Client for the MCP server at serverURL. Requests to the
// server's origin carry the client's bearer token (refreshed when expired); a 401 leads to
// a refresh or a new login, a 403 insufficient_scope to a new authorization with the
// challenged scopes added (step-up), each followed by a retry, at most
// Config.MaxReauthorizations times per request. Requests elsewhere carry no token.
func (c *Client) HTTPClient(serverURL string) (*http.Client, error) {
	t, err := c.authTransport(serverURL)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: t}, nil
}

func (c *Client) authTransport(serverURL string) (*authTransport, error) {
	u, err := url.Parse(serverURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("server URL %q: want an absolute URL", serverURL)
	}
	return &authTransport{c: c, serverURL: serverURL, origin: u}, nil
}

type authTransport struct {
	c         *Client
	serverURL string
	origin    *url.URL

	mu   sync.Mutex
	last *Phase // the last 401/403 that was handed back to the caller
}

// lastRejection is the last 401 or 403 passed on unrecovered, for error messages.
func (t *authTransport) lastRejection() *Phase {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.EqualFold(req.URL.Scheme, t.origin.Scheme) || !strings.EqualFold(hostPort(req.URL), hostPort(t.origin)) {
		return t.c.base.RoundTrip(req)
	}
	ctx := req.Context()
	t.mu.Lock()
	t.last = nil
	t.mu.Unlock()
	body, err := replayableBody(req)
	if err != nil {
		return nil, err
	}
	tok, err := t.c.Token(ctx)
	if err != nil && !errors.Is(err, ErrNoToken) {
		// A failed refresh is not the end: the stale token's 401 leads to a new login.
		tok = t.c.currentToken()
	}
	for attempt := 0; ; attempt++ {
		out := req.Clone(ctx)
		if out.Body, err = body(); err != nil {
			return nil, err
		}
		if tok != nil {
			out.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		}
		start := time.Now()
		resp, err := t.c.base.RoundTrip(out)
		if err != nil || (resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden) {
			return resp, err
		}
		p := Phase{Name: PhaseMCPRejected, Method: req.Method, URL: req.URL.String(), Status: resp.StatusCode,
			Duration: time.Since(start), Detail: strings.Join(resp.Header.Values("WWW-Authenticate"), ", ")}
		t.c.log.add(p)
		if attempt >= t.c.cfg.MaxReauthorizations {
			t.remember(p)
			return resp, nil
		}
		rej := &rejection{status: resp.StatusCode, header: resp.Header.Values("WWW-Authenticate")}
		next, rerr := t.c.recover(ctx, t.serverURL, tok, rej)
		if rerr != nil || next == nil {
			t.remember(p)
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDocument))
		resp.Body.Close()
		tok = next
	}
}

func (t *authTransport) remember(p Phase) {
	t.mu.Lock()
	t.last = &p
	t.mu.Unlock()
}

// replayableBody returns a function giving a fresh copy of the request body per attempt.
func replayableBody(req *http.Request) (func() (io.ReadCloser, error), error) {
	if req.Body == nil || req.Body == http.NoBody {
		return func() (io.ReadCloser, error) { return http.NoBody, nil }, nil
	}
	if req.GetBody != nil {
		return req.GetBody, nil
	}
	b, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }, nil
}

// recover answers a 401 or 403 of the MCP server with a token worth retrying with, or
// nil when nothing would help. sent is the token the rejected request carried.
func (c *Client) recover(ctx context.Context, serverURL string, sent *oauth2.Token, rej *rejection) (*oauth2.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok != nil && (sent == nil || c.tok.AccessToken != sent.AccessToken) {
		return c.tok, nil // another request already got a new token
	}
	start := time.Now()
	chs, _ := ParseWWWAuthenticate(strings.Join(rej.header, ", "))
	bearer, _ := BearerChallenge(chs)
	need := strings.Fields(bearer.Param("scope"))

	if rej.status == http.StatusForbidden {
		if bearer.Param("error") != "insufficient_scope" || c.disc == nil {
			return nil, nil
		}
		missing := slices.DeleteFunc(slices.Clone(need), func(s string) bool { return slices.Contains(c.granted, s) })
		if len(missing) == 0 {
			c.record(PhaseStepUp, fmt.Sprintf("not attempted: the token already has every scope asked for (%q)", bearer.Param("scope")), start, nil)
			return nil, nil
		}
		scopes := union(c.scopes, need)
		res, err := c.authorizeLocked(ctx, scopes)
		c.record(PhaseStepUp, "scopes "+strings.Join(missing, " ")+" added", start, err)
		return tokenOf(res), err
	}

	if c.tok != nil && c.tok.RefreshToken != "" {
		if tok, err := c.refreshLocked(ctx); err == nil {
			return tok, nil
		}
	}
	if c.disc == nil || c.disc.AS == nil {
		d, err := c.discover(ctx, serverURL, rej)
		if err != nil {
			return nil, err
		}
		c.disc = d
		res, err := c.authorizeLocked(ctx, c.initialScopes(d))
		return tokenOf(res), err
	}
	res, err := c.authorizeLocked(ctx, union(c.scopes, need))
	return tokenOf(res), err
}

func tokenOf(res *Result) *oauth2.Token {
	if res == nil {
		return nil
	}
	return res.Token
}

// union keeps a's order and appends what b adds.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
