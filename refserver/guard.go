package refserver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/muster-test/muster-test/internal/rpcpeek"
	"github.com/muster-test/muster-test/mocks/bearer"
)

// maxBody caps the JSON-RPC message the guard reads to learn the method and tool.
const maxBody = 4 << 20

// refusal is a request the guard answers itself.
type refusal struct {
	bearer.Challenge
	// plain: a refusal that is not about the token (no WWW-Authenticate).
	plain bool
}

// guard authenticates every request to the MCP endpoint, enforces the session binding and
// the per-tool policy of tools/call, audits every tools/call, and passes what it allows
// to mcp-go with the caller in the request context.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := &request{}
		if r.Method == http.MethodPost {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
			if err != nil {
				http.Error(w, "request body too large or unreadable", http.StatusRequestEntityTooLarge)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			req.method, req.tool = rpcpeek.Target(body)
		}
		if ref := s.decide(r, req); ref != nil {
			s.log.Debug("refused", "method", r.Method, "rpc", req.method, "tool", req.tool,
				"status", ref.Status, "error", ref.Error, "reason", ref.Description)
			s.refuse(w, ref)
			return
		}
		s.log.Debug("allowed", "method", r.Method, "rpc", req.method, "tool", req.tool,
			"subject", req.caller.Subject, "tenant", req.tenant, "denied", req.denied)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestKey{}, req)))
	})
}

// decide returns nil for a request mcp-go may handle (req then holds the caller), or the
// refusal to answer. Every tools/call is audited here, before it is answered.
func (s *Server) decide(r *http.Request, req *request) *refusal {
	ref, reason := s.authorize(r, req)
	if req.method != string(mcp.MethodToolsCall) {
		return ref
	}
	rec := AuditRecord{Time: time.Now().UTC(), Subject: req.caller.Subject, Tenant: req.tenant,
		Tool: req.tool, Decision: DecisionAllow, Reason: reason, Protocol: r.Header.Get(mcp.HeaderProtocolVersion)}
	if ref != nil || req.denied {
		rec.Decision = DecisionDeny
	}
	if rec.Decision == DecisionDeny && s.faults[FaultDenialsNotAudited] {
		return ref
	}
	if err := s.audit.write(rec); err != nil {
		s.log.Error("audit log write failed; refusing the call", "err", err)
		return &refusal{plain: true, Challenge: bearer.Challenge{Status: http.StatusInternalServerError,
			Error: "server_error", Description: "the audit log cannot be written"}}
	}
	return ref
}

// authorize runs the checks in order and says why the request was refused or let through.
func (s *Server) authorize(r *http.Request, req *request) (*refusal, string) {
	token, ref := s.token(r)
	if ref != nil {
		return ref, ref.Description
	}
	info, err := s.validator.Validate(r.Context(), token)
	if err != nil {
		return s.challenge(http.StatusUnauthorized, "invalid_token", err.Error(), s.policy.Scope), err.Error()
	}
	if !s.faults[FaultNoAudienceCheck] && !slices.Contains(info.Audience, s.URL()) {
		msg := fmt.Sprintf("the token's audience %q does not include %s", info.Audience, s.URL())
		return s.challenge(http.StatusUnauthorized, "invalid_token", msg, s.policy.Scope), msg
	}
	req.caller, req.token = info, token
	claims := info.Claims
	if s.contexts != nil {
		if claims, err = s.contexts.load(r.Context(), info.Subject, token); err != nil {
			msg := "the user's context cannot be loaded: " + err.Error()
			return s.challenge(http.StatusUnauthorized, "invalid_token", msg, s.policy.Scope), msg
		}
	}
	req.tenant, _ = claims[s.policy.TenantClaim].(string)
	if needed := s.neededScopes(req); !allIn(needed, info.Scopes) {
		return s.insufficientScope(needed, info.Scopes)
	}
	if id := r.Header.Get(server.HeaderKeySessionID); id != "" && !s.faults[FaultSessionNotBound] {
		if owner, ok := s.sessions.owner(id); ok && owner != info.Subject {
			msg := "the session belongs to another user"
			return &refusal{plain: true, Challenge: bearer.Challenge{Status: http.StatusForbidden,
				Error: "access_denied", Description: msg}}, msg
		}
	}
	if req.method != string(mcp.MethodToolsCall) {
		return nil, ""
	}
	switch {
	case s.mcp.GetTool(req.tool) == nil:
		req.denied = true
		return nil, fmt.Sprintf("unknown tool %q", req.tool)
	case req.tenant == "":
		req.denied = true
		return nil, fmt.Sprintf("the token has no %s claim", s.policy.TenantClaim)
	case !s.allows(req.tenant, req.tool) && !s.faults[FaultToolsCallNotRechecked]:
		req.denied = true
		return nil, fmt.Sprintf("tool %q is not available to tenant %q", req.tool, req.tenant)
	}
	return nil, "allowed for tenant " + req.tenant
}

// token finds the bearer token. A token in the query string is refused outright (RFC 6750
// §2.3 is not allowed by MCP): URLs end up in logs and histories.
func (s *Server) token(r *http.Request) (string, *refusal) {
	header := r.Header.Get("Authorization")
	if q := r.URL.Query(); q.Has("access_token") {
		if !s.faults[FaultTokenInQueryAccepted] {
			return "", s.challenge(http.StatusBadRequest, "invalid_request",
				"access tokens in the query string are not accepted; send an Authorization: Bearer header", s.policy.Scope)
		}
		if header == "" {
			return q.Get("access_token"), nil
		}
	}
	scheme, _, _ := strings.Cut(header, " ")
	if header == "" || !strings.EqualFold(scheme, "Bearer") {
		// No credentials: RFC 6750 §3.1 says the challenge carries no error code.
		return "", s.challenge(http.StatusUnauthorized, "", "no bearer token", s.policy.Scope)
	}
	token, err := bearer.FromHeader(header)
	if err != nil || strings.ContainsAny(token, " \t") {
		// No token, or more than one: the request is malformed, not the token invalid
		// (RFC 6750 §3.1 invalid_request, 400).
		return "", s.challenge(http.StatusBadRequest, "invalid_request",
			"the Authorization header must be 'Bearer <token>', one token", s.policy.Scope)
	}
	return token, nil
}

// neededScopes is every scope the request needs: the base scope, and the admin scope for
// admin_purge when the caller's tenant may call it at all (a tool the tenant does not have
// is answered as unknown further on, and its scopes are not told).
func (s *Server) neededScopes(req *request) []string {
	needed := []string{s.policy.Scope}
	if req.method == string(mcp.MethodToolsCall) && req.tool == ToolAdminPurge && req.tenant != "" &&
		(s.allows(req.tenant, req.tool) || s.faults[FaultToolsCallNotRechecked]) {
		needed = append(needed, s.policy.AdminScope)
	}
	return needed
}

func allIn(needed, granted []string) bool {
	for _, sc := range needed {
		if !slices.Contains(granted, sc) {
			return false
		}
	}
	return true
}

// insufficientScope challenges with every scope the request needs at once (MCP: all the
// scopes of the operation in a single challenge), so one step-up is enough.
func (s *Server) insufficientScope(needed, granted []string) (*refusal, string) {
	if s.faults[FaultPartialScopeChallenge] {
		// One missing scope at a time: the client steps up, is refused again, ...
		for _, sc := range needed {
			if !slices.Contains(granted, sc) {
				needed = []string{sc}
				break
			}
		}
	}
	scope := strings.Join(needed, " ")
	msg := fmt.Sprintf("this request needs the scope %q", scope)
	status := http.StatusForbidden
	if s.faults[Fault401ForInsufficientScope] {
		status = http.StatusUnauthorized
	}
	return s.challenge(status, "insufficient_scope", msg, scope), msg
}

func (s *Server) challenge(status int, code, desc, scope string) *refusal {
	return &refusal{Challenge: bearer.Challenge{Status: status, Error: code, Description: desc,
		ResourceMetadata: s.PRMURL(), Scope: scope}}
}

func (s *Server) refuse(w http.ResponseWriter, ref *refusal) {
	if ref.plain || s.faults[FaultNoWWWAuthenticate] {
		ref.WriteBody(w)
		return
	}
	ref.Write(w)
}

// sessionOwners binds each MCP session to the subject that opened it. A binding outlives
// its session: mcp-go refuses a terminated session's id anyway, and a test server's
// sessions are few.
type sessionOwners struct {
	mu     sync.Mutex
	owners map[string]string
}

func (o *sessionOwners) bind(id, subject string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.owners == nil {
		o.owners = map[string]string{}
	}
	o.owners[id] = subject
}

func (o *sessionOwners) owner(id string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	sub, ok := o.owners[id]
	return sub, ok
}
