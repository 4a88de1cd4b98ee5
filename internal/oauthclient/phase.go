package oauthclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Phase names. A login produces them roughly in this order; a phase that makes several
// requests (AS metadata candidates, login form hops) is recorded once per request.
const (
	PhaseProbe       = "probe"        // the unauthenticated MCP request
	PhaseProbeClose  = "probe-close"  // DELETE of a session the probe opened
	PhasePRM         = "prm"          // protected resource metadata (RFC 9728)
	PhaseASMetadata  = "as-metadata"  // authorization server metadata (RFC 8414 / OIDC)
	PhaseRegister    = "register"     // dynamic client registration (RFC 7591)
	PhaseCIMD        = "cimd"         // the client ID metadata document served on loopback
	PhaseAuthorize   = "authorize"    // the authorization request
	PhaseLoginForm   = "login"        // a form posted or a redirect followed by the headless browser
	PhaseCallback    = "callback"     // the redirect back: state, iss and code checked
	PhaseToken       = "token"        // the code exchanged for a token
	PhaseRefresh     = "refresh"      // a refresh token exchanged for a new token
	PhaseClaims      = "claims"       // the access token decoded (JWT only)
	PhaseStepUp      = "step-up"      // a new authorization for scopes a challenge asked for
	PhaseMCP         = "mcp"          // an MCP request of the session
	PhaseMCPRejected = "mcp-rejected" // an MCP request answered 401 or 403
)

// Phase is one observable step of discovery, registration, login or the session.
type Phase struct {
	Name     string        `json:"name"`
	Method   string        `json:"method,omitempty"`
	URL      string        `json:"url,omitempty"`
	Status   int           `json:"status,omitempty"`
	Duration time.Duration `json:"-"`
	Error    string        `json:"error,omitempty"`
	// Detail is a short note (e.g. "state matches", "scope mcp:write added").
	Detail string `json:"detail,omitempty"`
}

// MarshalJSON adds duration_ms, which a scenario can compare.
func (p Phase) MarshalJSON() ([]byte, error) {
	type plain Phase
	return json.Marshal(struct {
		plain
		DurationMS float64 `json:"duration_ms"`
	}{plain(p), float64(p.Duration.Microseconds()) / 1000})
}

// String is one line for a debug log; codes, states, tokens and secrets in the URL are
// shortened so that a log can be shared.
func (p Phase) String() string {
	var b strings.Builder
	b.WriteString(p.Name)
	if p.Method != "" {
		b.WriteString(" " + p.Method)
	}
	if p.URL != "" {
		b.WriteString(" " + RedactURL(p.URL))
	}
	if p.Status != 0 {
		fmt.Fprintf(&b, " -> %d", p.Status)
	}
	fmt.Fprintf(&b, " (%s)", p.Duration.Round(10*time.Microsecond))
	if p.Detail != "" {
		b.WriteString(": " + p.Detail)
	}
	if p.Error != "" {
		b.WriteString(" ERROR: " + p.Error)
	}
	return b.String()
}

// secretParams are query parameters whose values RedactURL shortens.
var secretParams = map[string]bool{
	"code": true, "state": true, "code_verifier": true, "code_challenge": true,
	"access_token": true, "refresh_token": true, "id_token": true, "client_secret": true,
	"password": true, "token": true,
}

// RedactURL shortens the values of secret-bearing query parameters to their first four
// characters.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.RawQuery == "" {
		return raw
	}
	q := u.Query()
	changed := false
	for k, vs := range q {
		if !secretParams[strings.ToLower(k)] {
			continue
		}
		for i, v := range vs {
			vs[i] = Shorten(v)
			changed = true
		}
	}
	if !changed {
		return raw
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Shorten keeps the first four characters of a secret.
func Shorten(s string) string {
	if len(s) <= 6 {
		return strings.Repeat("*", len(s))
	}
	return s[:4] + "..."
}

// phaseLog collects the phases of one client; observe sees each as it is recorded.
type phaseLog struct {
	mu      sync.Mutex
	phases  []Phase
	observe func(Phase)
}

func (l *phaseLog) add(p Phase) {
	l.mu.Lock()
	l.phases = append(l.phases, p)
	l.mu.Unlock()
	if l.observe != nil {
		l.observe(p)
	}
}

// since returns the phases recorded from index i on.
func (l *phaseLog) since(i int) []Phase {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i > len(l.phases) {
		return nil
	}
	return append([]Phase(nil), l.phases[i:]...)
}

func (l *phaseLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.phases)
}

type phaseKey struct{}

// withPhase names the phase the HTTP requests made with ctx belong to.
func withPhase(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, phaseKey{}, name)
}

type extraFormKey struct{}

// withExtraForm adds fields to form-encoded POST bodies sent with ctx: the way to put
// `resource` on a refresh request, which golang.org/x/oauth2 builds without extras.
func withExtraForm(ctx context.Context, extra url.Values) context.Context {
	return context.WithValue(ctx, extraFormKey{}, extra)
}

// recorder records every request that carries a phase name in its context.
type recorder struct {
	base http.RoundTripper
	log  *phaseLog
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if extra, ok := req.Context().Value(extraFormKey{}).(url.Values); ok && len(extra) > 0 && req.Body != nil &&
		strings.HasPrefix(req.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		var err error
		if req, err = addFormFields(req, extra); err != nil {
			return nil, err
		}
	}
	name, _ := req.Context().Value(phaseKey{}).(string)
	start := time.Now()
	resp, err := r.base.RoundTrip(req)
	if name == "" {
		return resp, err
	}
	p := Phase{Name: name, Method: req.Method, URL: req.URL.String(), Duration: time.Since(start)}
	if err != nil {
		p.Error = err.Error()
	} else {
		p.Status = resp.StatusCode
	}
	r.log.add(p)
	return resp, err
}

func addFormFields(req *http.Request, extra url.Values) (*http.Request, error) {
	body, err := io.ReadAll(io.LimitReader(req.Body, maxDocument))
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("form body: %w", err)
	}
	for k, vs := range extra {
		if !form.Has(k) {
			form[k] = vs
		}
	}
	encoded := form.Encode()
	clone := req.Clone(req.Context())
	clone.Body = io.NopCloser(strings.NewReader(encoded))
	clone.ContentLength = int64(len(encoded))
	clone.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(encoded)), nil }
	return clone, nil
}
