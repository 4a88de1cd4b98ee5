package refsut

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/mark3labs/mcp-go/server"
)

// Protected mode (aggregator.oauth.server.enabled, docs/muster-contract.md §10) closes what
// the muster-compatible default leaves open, as newer muster does with its own OAuth server:
//
//   - the gateway is an OAuth resource server: /mcp needs a JWT access token of the trusted
//     IdP whose audience names the gateway (RFC 6750 challenges, RFC 9728 metadata);
//   - an MCP session belongs to the subject whose token opened it: its id presented with
//     another subject's token gets 404, as an id never issued does, so a session id is
//     not a credential and other users cannot even learn that it exists;
//   - `state` is an opaque nonce, and a login completes only in the browser that opened
//     its start URL (loginbind.go).

const prmPath = "/.well-known/oauth-protected-resource"

type subjectKey struct{}

// subjectOf is the token subject of the request ctx belongs to ("" outside protected mode).
func subjectOf(ctx context.Context) string {
	s, _ := ctx.Value(subjectKey{}).(string)
	return s
}

// prmURL is where the gateway's protected resource metadata is: the RFC 9728 form for /mcp.
func (a *Aggregator) prmURL() string { return a.cfg.Server.BaseURL + prmPath + "/mcp" }

// handlePRM serves the gateway's protected resource metadata (RFC 9728).
func (a *Aggregator) handlePRM(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"resource":                 a.cfg.Server.Resource,
		"authorization_servers":    []string{a.cfg.Server.Issuer},
		"bearer_methods_supported": []string{"header"},
		"resource_name":            "muster-aggregator",
	})
}

// challenge refuses a request (RFC 6750 §3). A request without any credentials gets no
// error code (§3.1).
func (a *Aggregator) challenge(w http.ResponseWriter, status int, code, desc string) {
	h := fmt.Sprintf("Bearer resource_metadata=%q", a.prmURL())
	if code != "" {
		h += fmt.Sprintf(", error=%q, error_description=%q", code, strings.ReplaceAll(desc, `"`, "'"))
	}
	w.Header().Set("WWW-Authenticate", h)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	body := map[string]string{"error": "unauthorized", "error_description": "authentication required"}
	if code != "" {
		body = map[string]string{"error": code, "error_description": desc}
	}
	_ = json.NewEncoder(w).Encode(body)
}

// protect is the resource-server front of /mcp in protected mode.
func (a *Aggregator) protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("access_token") {
			// MCP forbids tokens in the query string: they end up in logs and Referers.
			a.challenge(w, http.StatusBadRequest, "invalid_request", "access tokens are accepted in the Authorization header only")
			return
		}
		header := r.Header.Get("Authorization")
		if header == "" {
			a.challenge(w, http.StatusUnauthorized, "", "")
			return
		}
		scheme, raw, ok := strings.Cut(header, " ")
		raw = strings.TrimSpace(raw)
		if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" || strings.ContainsAny(raw, " \t") {
			a.challenge(w, http.StatusBadRequest, "invalid_request", "the Authorization header must be 'Bearer <token>'")
			return
		}
		sub, err := a.bearer.validate(r.Context(), raw)
		if err != nil {
			a.log.Info("Gateway token refused", "error", err, "subsystem", "oauth-server")
			a.challenge(w, http.StatusUnauthorized, "invalid_token", err.Error())
			return
		}
		if sid := r.Header.Get(server.HeaderKeySessionID); sid != "" && !a.faults.has(FaultUnboundSessions) {
			if owner, ok := a.sessOwners.owner(sid); !ok || owner != sub {
				if ok {
					a.log.Warn("MCP session presented with another subject's token; refused", "session", sid, "subsystem", "oauth-server")
				}
				http.Error(w, "Session not found", http.StatusNotFound)
				return
			}
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), subjectKey{}, sub)))
	})
}

// sessionOwners records which token subject opened each MCP session. As mcp-go's session id
// manager resolver it sees the request that creates a session, so the id is bound before
// the client ever receives it.
type sessionOwners struct {
	ids server.InsecureStatefulSessionIdManager
	mu  sync.Mutex
	m   map[string]string // session id -> subject
}

func (o *sessionOwners) owner(id string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	s, ok := o.m[id]
	return s, ok
}

// ResolveSessionIdManager implements server.SessionIdManagerResolver; r is nil when mcp-go
// sweeps sessions.
func (o *sessionOwners) ResolveSessionIdManager(r *http.Request) server.SessionIdManager {
	sub := ""
	if r != nil {
		sub = subjectOf(r.Context())
	}
	return ownedIDs{o: o, subject: sub}
}

type ownedIDs struct {
	o       *sessionOwners
	subject string
}

func (m ownedIDs) Generate() string {
	id := m.o.ids.Generate()
	if m.subject != "" {
		m.o.mu.Lock()
		m.o.m[id] = m.subject
		m.o.mu.Unlock()
	}
	return id
}

func (m ownedIDs) Validate(id string) (bool, error) { return m.o.ids.Validate(id) }

func (m ownedIDs) Terminate(id string) (bool, error) {
	m.o.mu.Lock()
	delete(m.o.m, id)
	m.o.mu.Unlock()
	return m.o.ids.Terminate(id)
}
