package idp

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/muster-test/muster-test/mocks/internal/respstatus"
)

// Endpoint names used by Counters, Requests and Fault.
const (
	EndpointAuthorize  = "authorize"
	EndpointToken      = "token"
	EndpointIntrospect = "introspect"
	EndpointRevoke     = "revoke"
	EndpointRegister   = "register"
	EndpointUserInfo   = "userinfo"
	EndpointJWKS       = "jwks"
	EndpointMetadata   = "metadata"
)

// Counters are request counts per endpoint and per token grant, plus token figures.
type Counters struct {
	Authorize         int `json:"authorize"`
	Token             int `json:"token"`
	AuthorizationCode int `json:"authorization_code"`
	Refresh           int `json:"refresh"`
	ClientCredentials int `json:"client_credentials"`
	Exchange          int `json:"exchange"`
	Introspect        int `json:"introspect"`
	UserInfo          int `json:"userinfo"`
	Register          int `json:"register"`
	Revoke            int `json:"revoke"`
	// AuthorizeWithoutResource and TokenWithoutResource count the authorization and token
	// requests that carried no RFC 8707 resource parameter (MCP clients must send it in
	// both).
	AuthorizeWithoutResource int `json:"authorize_without_resource"`
	TokenWithoutResource     int `json:"token_without_resource"`
	// TokensIssued counts access tokens stored: granted, IssueToken and InjectToken.
	TokensIssued int `json:"tokens_issued"`
	// TokensActive counts access tokens neither revoked nor expired on the IdP clock.
	TokensActive int `json:"tokens_active"`
}

// maxLogEntries bounds the request log of a long-running IdP; the oldest half is dropped.
const maxLogEntries = 100000

// Request is one entry of the request log. Time is the wall-clock time the request came
// in (not the IdP's clock), so that the log can be ordered with other parties' logs.
type Request struct {
	Time     time.Time     `json:"time"`
	Duration time.Duration `json:"duration"`
	Method   string        `json:"method"`
	Path     string        `json:"path"` // without the query, which carries codes and states
	Endpoint string        `json:"endpoint"`
	Grant    string        `json:"grant,omitempty"`
	ClientID string        `json:"client_id,omitempty"`
	Subject  string        `json:"subject,omitempty"`
	Status   int           `json:"status"`
	// UserAgent tells the callers apart (a gateway's token exchange from a browser's
	// authorization request).
	UserAgent string `json:"user_agent,omitempty"`
}

// FaultEndpoints are the endpoints a Fault may name.
var FaultEndpoints = []string{EndpointAuthorize, EndpointToken, EndpointIntrospect, EndpointRevoke,
	EndpointRegister, EndpointUserInfo, EndpointJWKS, EndpointMetadata}

// Fault makes the next Times requests to Endpoint (an Endpoint* name) wait Latency and then,
// if Status or OAuthError is set, fail with that OAuth error (status defaults to the code's
// usual one; the code defaults to server_error). Times <= 0 means once. Grant narrows a
// token-endpoint fault to one grant type, Subject to the requests made for one subject
// (see requestSubject): the login_hint of an authorization request, the owner of the code
// or refresh token redeemed, the subject of a token exchange's subject token, the owner of
// the token introspected or revoked or of the bearer token at userinfo. A subject token
// is verified before the fault applies and again by the exchange, so an issuer trusted by
// URL is asked twice about an opaque one.
type Fault struct {
	Endpoint    string        `yaml:"endpoint"`
	Status      int           `yaml:"status"`
	OAuthError  string        `yaml:"error"`
	Description string        `yaml:"error_description"`
	Times       int           `yaml:"times"`
	Latency     time.Duration `yaml:"latency"`
	Grant       string        `yaml:"grant"`
	Subject     string        `yaml:"subject"`
}

// Check refuses a fault that could never apply.
func (f Fault) Check() error {
	if !slices.Contains(FaultEndpoints, f.Endpoint) {
		return fmt.Errorf("fault endpoint %q: want one of %s", f.Endpoint, strings.Join(FaultEndpoints, ", "))
	}
	if f.Grant != "" && f.Endpoint != EndpointToken {
		return fmt.Errorf("fault grant %q: only a token endpoint fault has a grant", f.Grant)
	}
	if f.Latency < 0 || f.Times < 0 {
		return errors.New("fault latency and times cannot be negative")
	}
	return nil
}

type observer struct {
	mu        sync.Mutex
	counts    Counters
	bySubject map[string]*Counters
	requests  []Request
	faults    []Fault
}

func (o *observer) count(endpoint, grant string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.counts.add(endpoint, grant)
}

// countSubject counts a request for the subject it turned out to act for; o.mu is held.
func (o *observer) countSubject(subject, endpoint, grant string) {
	if subject == "" {
		return
	}
	if o.bySubject == nil {
		o.bySubject = map[string]*Counters{}
	}
	c := o.bySubject[subject]
	if c == nil {
		c = &Counters{}
		o.bySubject[subject] = c
	}
	c.add(endpoint, grant)
}

func (c *Counters) add(endpoint, grant string) {
	switch endpoint {
	case EndpointAuthorize:
		c.Authorize++
	case EndpointToken:
		c.Token++
		switch grant {
		case "authorization_code":
			c.AuthorizationCode++
		case "refresh_token":
			c.Refresh++
		case "client_credentials":
			c.ClientCredentials++
		case grantTokenExchange:
			c.Exchange++
		}
	case EndpointIntrospect:
		c.Introspect++
	case EndpointUserInfo:
		c.UserInfo++
	case EndpointRegister:
		c.Register++
	case EndpointRevoke:
		c.Revoke++
	}
}

func (o *observer) addFault(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.faults = append(o.faults, f)
}

// wantsSubject reports whether a fault planned for this request may be for one subject:
// only then is the request's subject looked up before its handler runs.
func (o *observer) wantsSubject(endpoint, grant string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.ContainsFunc(o.faults, func(f Fault) bool {
		return f.Endpoint == endpoint && f.Subject != "" && (f.Grant == "" || f.Grant == grant)
	})
}

// takeFault consumes one use of the first fault planned for this request.
func (o *observer) takeFault(endpoint, grant, subject string) (Fault, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i := range o.faults {
		f := o.faults[i]
		if f.Endpoint != endpoint || (f.Grant != "" && f.Grant != grant) || (f.Subject != "" && f.Subject != subject) {
			continue
		}
		o.faults[i].Times--
		if o.faults[i].Times <= 0 {
			o.faults = append(o.faults[:i], o.faults[i+1:]...)
		}
		return f, true
	}
	return Fault{}, false
}

// logEntry travels in the request context so handlers can fill in what they learn.
type logEntry struct {
	grant, client, subject string
}

type logKey struct{}

func entryFrom(ctx context.Context) *logEntry {
	if e, ok := ctx.Value(logKey{}).(*logEntry); ok {
		return e
	}
	return &logEntry{}
}

// observe wraps an endpoint: it applies planned faults, counts and logs the request.
func (s *Server) observe(endpoint string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		entry := &logEntry{}
		var subject string // looked up only for a fault planned for one subject
		switch endpoint {
		case EndpointToken:
			// The grant is needed before the handler runs, for counting faulted requests.
			_ = r.ParseForm()
			entry.grant = r.PostForm.Get("grant_type")
		case EndpointAuthorize:
			// Parsed here, not only in the handler's copy of r, for the resource count.
			_ = r.ParseForm()
		}
		s.obs.count(endpoint, entry.grant)
		sw := &respstatus.Writer{ResponseWriter: w}
		hr := r.WithContext(context.WithValue(r.Context(), logKey{}, entry))
		defer func() {
			// A request its handler refused (a revoked token at userinfo) still acts for
			// the owner of the token it names.
			subject = cmp.Or(entry.subject, subject)
			if subject == "" {
				subject = s.requestSubject(hr, endpoint, entry.grant)
			}
			s.obs.mu.Lock()
			if len(s.obs.requests) >= maxLogEntries {
				s.obs.requests = append(s.obs.requests[:0], s.obs.requests[maxLogEntries/2:]...)
			}
			s.obs.requests = append(s.obs.requests, Request{
				Time: start.UTC(), Duration: time.Since(start), Method: r.Method, Path: r.URL.Path,
				Endpoint: endpoint, Grant: entry.grant, ClientID: entry.client, Subject: subject,
				Status: sw.Status, UserAgent: r.UserAgent(),
			})
			s.obs.countSubject(subject, endpoint, entry.grant)
			if len(r.Form["resource"]) == 0 {
				switch endpoint {
				case EndpointAuthorize:
					s.obs.counts.AuthorizeWithoutResource++
				case EndpointToken:
					s.obs.counts.TokenWithoutResource++
				}
			}
			s.obs.mu.Unlock()
		}()
		if s.obs.wantsSubject(endpoint, entry.grant) {
			subject = s.requestSubject(hr, endpoint, entry.grant)
		}
		if f, ok := s.obs.takeFault(endpoint, entry.grant, subject); ok {
			if f.Latency > 0 {
				t := time.NewTimer(f.Latency)
				select {
				case <-t.C:
				case <-r.Context().Done():
					t.Stop()
					return
				}
			}
			if f.Status != 0 || f.OAuthError != "" {
				code := f.OAuthError
				if code == "" {
					code = "server_error"
				}
				status := f.Status
				if status == 0 {
					status = oauthErrorStatus(code)
				}
				writeOAuthError(sw, status, code, f.Description)
				return
			}
		}
		h(sw, hr)
	}
}

// standardErrors maps the OAuth error codes a token endpoint may answer to their usual status.
var standardErrors = map[string]int{
	"invalid_request":         http.StatusBadRequest,
	"invalid_client":          http.StatusUnauthorized,
	"invalid_grant":           http.StatusBadRequest,
	"unauthorized_client":     http.StatusBadRequest,
	"unsupported_grant_type":  http.StatusBadRequest,
	"invalid_scope":           http.StatusBadRequest,
	"invalid_target":          http.StatusBadRequest,
	"access_denied":           http.StatusForbidden,
	"invalid_token":           http.StatusUnauthorized,
	"insufficient_scope":      http.StatusForbidden,
	"server_error":            http.StatusInternalServerError,
	"temporarily_unavailable": http.StatusServiceUnavailable,
}

func oauthErrorStatus(code string) int {
	if s, ok := standardErrors[code]; ok {
		return s
	}
	return http.StatusBadRequest
}

// simulatedError answers SimulateError: a standard code as itself, anything else as a 500
// server_error carrying the text (muster's behaviour).
func simulatedError(w http.ResponseWriter, text string) {
	if status, ok := standardErrors[text]; ok {
		writeOAuthError(w, status, text, "simulated error")
		return
	}
	writeOAuthError(w, http.StatusInternalServerError, "server_error", text)
}

func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	body := map[string]string{"error": code}
	if description != "" {
		body["error_description"] = description
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="`+code+`"`)
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
