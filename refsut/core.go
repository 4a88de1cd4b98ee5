package refsut

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// coreTools are the core_* tools of docs/muster-contract.md §9; other core names stay unknown.
func (a *Aggregator) coreTools() []server.ServerTool {
	noArgs := mcp.ToolInputSchema{Type: "object"}
	nameArg := func(what string) mcp.ToolInputSchema {
		return mcp.ToolInputSchema{
			Type:       "object",
			Properties: map[string]any{"name": map[string]any{"type": "string", "description": what}},
			Required:   []string{"name"},
		}
	}
	serverArg := mcp.ToolInputSchema{
		Type:       "object",
		Properties: map[string]any{"server": map[string]any{"type": "string", "description": "Name of the MCP server"}},
		Required:   []string{"server"},
	}
	tool := func(name, desc string, schema mcp.ToolInputSchema, h server.ToolHandlerFunc) server.ServerTool {
		a.toolsMu.Lock()
		a.owners[name] = toolOwner{kind: kindCore}
		a.toolsMu.Unlock()
		return server.ServerTool{Tool: mcp.Tool{Name: name, Description: desc, InputSchema: schema}, Handler: h}
	}
	return []server.ServerTool{
		tool("core_mcpserver_list", "List all MCP server definitions", noArgs, a.coreMCPServerList),
		tool("core_mcpserver_get", "Get an MCP server definition by name", nameArg("Name of the MCP server"), a.coreMCPServerGet),
		tool("core_service_list", "List all services with their status", noArgs, a.coreServiceList),
		tool("core_service_status", "Get the status of a service", nameArg("Name of the service"), a.coreServiceStatus),
		tool("core_auth_login", "Log in to an OAuth-protected MCP server", serverArg, a.coreAuthLogin),
		tool("core_auth_logout", "Log out from an OAuth-protected MCP server", serverArg, a.coreAuthLogout),
	}
}

func jsonResult(v any) (*mcp.CallToolResult, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return mcp.NewToolResultText(string(b)), nil
}

// state is the server's state as this session sees it.
func (a *Aggregator) state(sess *sessionState, s *serverState) string {
	switch {
	case s.state == stateAuthRequired && sess.conn(s.spec.Name) != nil:
		return stateConnected
	case s.state == stateFailed:
		return stateDisconnected
	}
	return s.state
}

func (a *Aggregator) serverEntry(sess *sessionState, s *serverState) map[string]any {
	sp := s.spec
	e := map[string]any{"name": sp.Name, "type": sp.Type, "autoStart": sp.autoStart(), "state": a.state(sess, s)}
	set := func(k string, v any, present bool) {
		if present {
			e[k] = v
		}
	}
	set("description", sp.Description, sp.Description != "")
	set("command", sp.Command, sp.Command != "")
	set("args", sp.Args, len(sp.Args) > 0)
	set("url", sp.URL, sp.URL != "")
	set("env", sp.Env, len(sp.Env) > 0)
	set("headers", sp.Headers, len(sp.Headers) > 0)
	set("timeout", sp.Timeout, sp.Timeout > 0)
	set("toolPrefix", sp.ToolPrefix, sp.ToolPrefix != "")
	if s.err != nil {
		e["error"] = s.err.Error()
	}
	return e
}

func (a *Aggregator) coreMCPServerList(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	sess := a.sessionFromCtx(ctx)
	list := make([]map[string]any, 0, len(a.servers))
	for _, s := range a.servers {
		list = append(list, a.serverEntry(sess, s))
	}
	return jsonResult(map[string]any{"mcpServers": list, "mode": "filesystem", "total": len(list)})
}

func (a *Aggregator) coreMCPServerGet(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	name := req.GetString("name", "")
	if name == "" {
		return mcp.NewToolResultError("name argument is required"), nil
	}
	s := a.byName[name]
	if s == nil {
		return mcp.NewToolResultError(fmt.Sprintf("Failed to get MCP server: MCP server %s not found", name)), nil
	}
	return jsonResult(a.serverEntry(a.sessionFromCtx(ctx), s))
}

// serviceItem is muster's service view of a server, per session (docs/muster-contract.md §3.5).
func (a *Aggregator) serviceItem(sess *sessionState, s *serverState) map[string]any {
	state, health, ready := "running", "healthy", true
	switch a.state(sess, s) {
	case stateAuthRequired:
		state, health, ready = "stopped", "unknown", false
	case stateDisconnected:
		state, health, ready = "stopped", "unknown", false
		if s.err != nil {
			state, health = "failed", "unhealthy"
		}
	}
	sp := s.spec
	item := map[string]any{
		"name": sp.Name, "service_type": "MCPServer", "state": state, "health": health,
		"metadata": map[string]any{
			"name": sp.Name, "type": sp.Type, "url": sp.URL, "command": sp.Command, "args": sp.Args,
			"env": sp.Env, "headers": sp.Headers, "autoStart": sp.autoStart(), "timeout": sp.Timeout,
			"toolPrefix": sp.ToolPrefix, "state": state, "health": health, "clientReady": ready,
		},
	}
	if s.err != nil {
		item["error"] = s.err.Error()
	}
	return item
}

func (a *Aggregator) coreServiceList(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	sess := a.sessionFromCtx(ctx)
	items := make([]map[string]any, 0, len(a.servers)+1)
	connected := 0
	for _, s := range a.servers {
		it := a.serviceItem(sess, s)
		if it["state"] == "running" {
			connected++
		}
		items = append(items, it)
	}
	items = append(items, map[string]any{
		"name": "mcp-aggregator", "service_type": "Aggregator", "state": "running", "health": "healthy",
		"metadata": map[string]any{"servers_connected": connected, "servers_total": len(a.servers)},
	})
	return jsonResult(map[string]any{"services": items, "total": len(items)})
}

func (a *Aggregator) coreServiceStatus(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	name := req.GetString("name", "")
	if name == "" {
		return mcp.NewToolResultError("name argument is required"), nil
	}
	s := a.byName[name]
	if s == nil {
		return mcp.NewToolResultError(fmt.Sprintf("Tool execution failed: service %s not found", name)), nil
	}
	return jsonResult(a.serviceItem(a.sessionFromCtx(ctx), s))
}

// authTarget resolves the server argument of core_auth_login/logout.
func (a *Aggregator) authTarget(req mcp.CallToolRequest) (*serverState, *mcp.CallToolResult) {
	name := req.GetString("server", "")
	if name == "" {
		return nil, mcp.NewToolResultError("server argument is required")
	}
	s := a.byName[name]
	if s == nil {
		return nil, mcp.NewToolResultError(fmt.Sprintf("Server '%s' not found", name))
	}
	if s.state != stateAuthRequired {
		return nil, mcp.NewToolResultError(fmt.Sprintf("Server '%s' does not require authentication", name))
	}
	return s, nil
}

func (a *Aggregator) coreAuthLogin(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	s, res := a.authTarget(req)
	if res != nil {
		return res, nil
	}
	return a.login(ctx, s, true), nil
}

func (a *Aggregator) coreAuthLogout(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	s, res := a.authTarget(req)
	if res != nil {
		return res, nil
	}
	return a.logout(ctx, s), nil
}

// readAuthStatus serves auth://status as this session sees it (docs/muster-contract.md §3.8, §9).
func (a *Aggregator) readAuthStatus(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
	sess := a.sessionFromCtx(ctx)
	list := []map[string]any{}
	for _, s := range a.servers {
		if s.state == stateFailed {
			continue // muster leaves servers that failed to start out
		}
		st := a.state(sess, s)
		e := map[string]any{"name": s.spec.Name, "status": st}
		if s.state == stateAuthRequired {
			if p, ok := s.discovered(); ok {
				e["issuer"] = p.issuer
				if p.scope != "" {
					e["scope"] = p.scope
				}
			}
			if st == stateAuthRequired {
				e["auth_tool"] = a.authToolName(s.spec)
			}
		}
		list = append(list, e)
	}
	b, err := json.Marshal(map[string]any{"servers": list})
	if err != nil {
		return nil, err
	}
	return []mcp.ResourceContents{mcp.TextResourceContents{URI: req.Params.URI, MIMEType: "application/json", Text: string(b)}}, nil
}
