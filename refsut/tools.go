package refsut

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// toolKind says what an exposed tool leads to.
type toolKind int

const (
	kindPublic    toolKind = iota // a public upstream's tool, shared by all sessions
	kindProtected                 // a protected upstream's tool, visible to connected sessions only
	kindAuth                      // x_<server>_authenticate
	kindCore                      // core_*
)

type toolOwner struct {
	kind   toolKind
	server string
}

// metaAuthRequired is the _meta key of the logins a session owes (docs/muster-contract.md §9).
const metaAuthRequired = "giantswarm.io/auth_required"

// exposedName applies muster's naming (docs/muster-contract.md §3.3): no second prefix when
// the tool name already starts with it.
func (a *Aggregator) exposedName(spec ServerSpec, tool string) string {
	p := spec.prefix()
	if !strings.HasPrefix(tool, p+"_") {
		tool = p + "_" + tool
	}
	return a.cfg.MusterPrefix + "_" + tool
}

// authToolName is the synthetic login tool of a protected server. muster names it after the
// server's tool prefix, like its other tools: x_<toolPrefix or server>_authenticate.
func (a *Aggregator) authToolName(spec ServerSpec) string {
	return a.cfg.MusterPrefix + "_" + spec.prefix() + "_authenticate"
}

func (a *Aggregator) newMCPServer() *server.MCPServer {
	hooks := &server.Hooks{}
	hooks.AddOnError(func(_ context.Context, _ any, method mcp.MCPMethod, _ any, err error) {
		a.log.Debug("MCP error", "method", method, "error", err, "subsystem", "mcp")
	})
	hooks.AddOnRegisterSession(func(_ context.Context, cs server.ClientSession) {
		sess := a.session(cs.SessionID())
		sess.mu.Lock()
		sess.client = cs
		sess.mu.Unlock()
	})
	hooks.AddOnUnregisterSession(func(_ context.Context, cs server.ClientSession) {
		a.endSession(cs.SessionID())
	})
	// The list is trimmed per session here rather than by a tool filter: mcp-go applies
	// filters at call time too, and a hidden x_<server>_authenticate must stay callable
	// (docs/muster-contract.md §3.7). The hook gets the result by pointer before it is encoded.
	hooks.AddAfterListTools(func(ctx context.Context, _ any, _ *mcp.ListToolsRequest, res *mcp.ListToolsResult) {
		if res != nil {
			res.Tools = a.visibleTools(ctx, res.Tools)
		}
	})
	// muster answers unknown versions with 2025-06-18 (docs/muster-contract.md §3.2); mcp-go offers
	// its newest. Valid versions are echoed by both.
	hooks.AddAfterInitialize(func(_ context.Context, _ any, req *mcp.InitializeRequest, res *mcp.InitializeResult) {
		if res != nil && !mcp.IsValidProtocolVersion(req.Params.ProtocolVersion) {
			res.ProtocolVersion = mcp.ProtocolVersion20250618
		}
	})
	s := server.NewMCPServer("muster-aggregator", "1.0.0",
		server.WithToolCapabilities(true),
		server.WithResourceCapabilities(true, true),
		server.WithPromptCapabilities(true),
		server.WithHooks(hooks),
		server.WithToolHandlerMiddleware(a.metaMiddleware),
	)
	s.AddResource(mcp.Resource{
		URI:      "auth://status",
		Name:     "Authentication status for all MCP servers. Provides information about which servers require authentication and their OAuth issuer URLs for SSO detection.",
		MIMEType: "application/json",
	}, a.readAuthStatus)
	return s
}

// visibleTools hides what this session may not see: protected tools it has not connected, and
// the authenticate tool of servers it has connected.
func (a *Aggregator) visibleTools(ctx context.Context, tools []mcp.Tool) []mcp.Tool {
	sess := a.sessionFromCtx(ctx)
	var own map[string]server.ServerTool
	if st, ok := server.ClientSessionFromContext(ctx).(server.SessionWithTools); ok {
		own = st.GetSessionTools()
	}
	a.toolsMu.RLock()
	defer a.toolsMu.RUnlock()
	out := tools[:0:0]
	for _, t := range tools {
		o, ok := a.owners[t.Name]
		switch {
		case ok && o.kind == kindProtected:
			if _, mine := own[t.Name]; !mine {
				continue
			}
		case ok && o.kind == kindAuth:
			if sess.conn(o.server) != nil {
				continue
			}
		}
		out = append(out, t)
	}
	return out
}

// metaMiddleware puts the session's pending logins on every tool result.
func (a *Aggregator) metaMiddleware(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		res, err := next(ctx, req)
		if err != nil || res == nil || a.faults.has(FaultNoMeta) {
			return res, err
		}
		pending := a.pendingAuth(a.sessionFromCtx(ctx))
		if res.Meta == nil {
			res.Meta = &mcp.Meta{}
		}
		fields := make(map[string]any, len(res.Meta.AdditionalFields)+1)
		for k, v := range res.Meta.AdditionalFields {
			fields[k] = v
		}
		fields[metaAuthRequired] = pending
		res.Meta.AdditionalFields = fields
		return res, nil
	}
}

// pendingAuth lists the protected servers this session has not connected to.
func (a *Aggregator) pendingAuth(sess *sessionState) []map[string]any {
	out := []map[string]any{}
	for _, s := range a.servers {
		if s.state != stateAuthRequired || sess.conn(s.spec.Name) != nil {
			continue
		}
		item := map[string]any{"server": s.spec.Name, "auth_tool": "core_auth_login"}
		if p, ok := s.discovered(); ok {
			item["issuer"] = p.issuer
			if p.scope != "" {
				item["scope"] = p.scope
			}
		}
		out = append(out, item)
	}
	return out
}

// registerGlobalTools registers, once the upstreams are probed, what every session shares.
func (a *Aggregator) registerGlobalTools() {
	var tools []server.ServerTool
	for _, s := range a.servers {
		switch s.state {
		case stateConnected:
			for _, t := range s.global.toolList() {
				tools = append(tools, a.proxyTool(s, t, kindPublic))
			}
		case stateAuthRequired:
			tools = append(tools, a.authTool(s))
		}
	}
	tools = append(tools, a.coreTools()...)
	a.mcp.AddTools(tools...)
}

// proxyTool exposes one upstream tool under its aggregated name, definition passed through.
func (a *Aggregator) proxyTool(s *serverState, t mcp.Tool, kind toolKind) server.ServerTool {
	upstreamName := t.Name
	t.Name = a.exposedName(s.spec, upstreamName)
	a.toolsMu.Lock()
	a.owners[t.Name] = toolOwner{kind: kind, server: s.spec.Name}
	a.toolsMu.Unlock()
	var h server.ToolHandlerFunc
	if kind == kindPublic {
		h = func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			a.log.Debug("Proxying tool call", "tool", req.Params.Name, "server", s.spec.Name, "subsystem", "aggregator")
			if err := a.blocked(upstreamName); err != nil {
				return nil, err
			}
			unlock := a.serialize()
			res, err := s.global.call(ctx, upstreamName, req, "")
			unlock()
			if err != nil {
				return nil, fmt.Errorf("tool execution failed: failed to call tool: %w", err)
			}
			return res, nil
		}
	} else {
		h = func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			a.log.Debug("Proxying tool call", "tool", req.Params.Name, "server", s.spec.Name, "subsystem", "aggregator")
			if err := a.blocked(upstreamName); err != nil {
				return nil, err
			}
			return a.callProtected(ctx, s, upstreamName, req)
		}
	}
	return server.ServerTool{Tool: t, Handler: h}
}

// shadowTool stands, for every session, in place of a protected tool the session has not
// connected: muster's "not authenticated" once the name is known (docs/muster-contract.md §3.6).
func (a *Aggregator) shadowTool(s *serverState, t mcp.Tool) server.ServerTool {
	t.Name = a.exposedName(s.spec, t.Name)
	a.toolsMu.Lock()
	a.owners[t.Name] = toolOwner{kind: kindProtected, server: s.spec.Name}
	a.toolsMu.Unlock()
	return server.ServerTool{Tool: t, Handler: func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return nil, fmt.Errorf("not authenticated to server %s", s.spec.Name)
	}}
}

func (a *Aggregator) authTool(s *serverState) server.ServerTool {
	name := a.authToolName(s.spec)
	a.toolsMu.Lock()
	a.owners[name] = toolOwner{kind: kindAuth, server: s.spec.Name}
	a.toolsMu.Unlock()
	t := mcp.Tool{
		Name:        name,
		Description: fmt.Sprintf("REQUIRED: Authenticate to connect to %s. Run this tool to start the OAuth login flow.", s.spec.Name),
		InputSchema: mcp.ToolInputSchema{Type: "object"},
	}
	return server.ServerTool{Tool: t, Handler: func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return a.login(ctx, s, false), nil
	}}
}

// learnTools registers a protected server's tools globally as shadows, each the first time
// any session sees it.
func (a *Aggregator) learnTools(s *serverState, tools []mcp.Tool) {
	var shadows []server.ServerTool
	s.mu.Lock()
	if s.shadowed == nil {
		s.shadowed = map[string]bool{}
	}
	for _, t := range tools {
		if !s.shadowed[t.Name] {
			s.shadowed[t.Name] = true
			shadows = append(shadows, a.shadowTool(s, t))
		}
	}
	s.mu.Unlock()
	if len(shadows) > 0 {
		a.mcp.AddTools(shadows...)
	}
}

// syncGlobalTools follows a public upstream's tools/list_changed for every session.
func (a *Aggregator) syncGlobalTools(s *serverState, u *upstream) {
	ctx, cancel := context.WithTimeout(a.life, 10*time.Second)
	defer cancel()
	old, cur, err := u.relist(ctx)
	if err != nil {
		a.log.Info("Failed to refresh tools", "server", s.spec.Name, "error", err, "subsystem", "aggregator")
		return
	}
	if stale := missing(a.exposedNames(s, old), a.exposedNames(s, cur)); len(stale) > 0 {
		a.mcp.DeleteTools(stale...)
		a.toolsMu.Lock()
		for _, n := range stale {
			delete(a.owners, n)
		}
		a.toolsMu.Unlock()
	}
	tools := make([]server.ServerTool, 0, len(cur))
	for _, t := range cur {
		tools = append(tools, a.proxyTool(s, t, kindPublic))
	}
	if len(tools) > 0 {
		a.mcp.AddTools(tools...)
	}
	a.log.Info("Refreshed tools", "server", s.spec.Name, "tools", len(cur), "subsystem", "aggregator")
}

// exposedNames are the aggregated names of a server's tools.
func (a *Aggregator) exposedNames(s *serverState, tools []mcp.Tool) []string {
	names := make([]string, 0, len(tools))
	for _, t := range tools {
		names = append(names, a.exposedName(s.spec, t.Name))
	}
	return names
}
