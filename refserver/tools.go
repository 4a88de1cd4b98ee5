package refserver

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/muster-test/muster-test/mocks/bearer"
)

// request is what the HTTP guard learnt about one MCP request; tools and the tool filter
// read it from the context.
type request struct {
	caller bearer.TokenInfo
	token  string // the bearer token, for token exchange
	tenant string
	method string // JSON-RPC method ("" for GET, DELETE, responses)
	tool   string // tools/call only
	// denied: the guard refused this tools/call for the tenant; mcp-go answers it as an
	// unknown tool, so a tenant learns nothing of another tenant's tools.
	denied bool
}

type requestKey struct{}

func requestFrom(ctx context.Context) *request {
	r, _ := ctx.Value(requestKey{}).(*request)
	return r
}

// filterTools is mcp-go's tool filter, asked for tools/list and again for each tools/call.
func (s *Server) filterTools(ctx context.Context, tools []mcp.Tool) []mcp.Tool {
	req := requestFrom(ctx)
	if req == nil {
		return nil
	}
	if req.method == string(mcp.MethodToolsCall) {
		if req.denied {
			return nil
		}
		return tools
	}
	if s.faults[FaultToolsListUnfiltered] {
		return tools
	}
	var out []mcp.Tool
	for _, t := range tools {
		if s.allows(req.tenant, t.Name) {
			out = append(out, t)
		}
	}
	return out
}

// document is a tenant's record that search_documents finds and admin_purge removes.
type document struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

// documents holds each tenant's documents; a tenant starts with two.
type documents struct {
	mu       sync.Mutex
	byTenant map[string][]document
}

func (d *documents) of(tenant string) []document {
	if d.byTenant == nil {
		d.byTenant = map[string][]document{}
	}
	docs, ok := d.byTenant[tenant]
	if !ok {
		docs = []document{{tenant + "-doc-1", "Quarterly plan of " + tenant}, {tenant + "-doc-2", "Onboarding guide of " + tenant}}
		d.byTenant[tenant] = docs
	}
	return docs
}

func (d *documents) search(tenant, query string) []document {
	d.mu.Lock()
	defer d.mu.Unlock()
	found := []document{}
	for _, doc := range d.of(tenant) {
		if strings.Contains(strings.ToLower(doc.Title), strings.ToLower(query)) {
			found = append(found, doc)
		}
	}
	return found
}

func (d *documents) purge(tenant string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := len(d.of(tenant))
	d.byTenant[tenant] = []document{}
	return n
}

func (d *documents) count(tenant string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.of(tenant))
}

func (s *Server) tools() []server.ServerTool {
	str := func(name, desc string) mcp.ToolOption {
		return mcp.WithString(name, mcp.Required(), mcp.Description(desc))
	}
	return []server.ServerTool{
		{Tool: mcp.NewTool(ToolEcho, mcp.WithDescription("Echo a message"), str("message", "text to echo")),
			Handler: func(ctx context.Context, r mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				msg, err := r.RequireString("message")
				if err != nil {
					return mcp.NewToolResultError(err.Error()), nil
				}
				return mcp.NewToolResultText(msg), nil
			}},
		{Tool: mcp.NewTool(ToolSearch, mcp.WithDescription("Search the caller's tenant's documents"),
			mcp.WithString("query", mcp.Description("text the title contains (empty: all)"))),
			Handler: func(ctx context.Context, r mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				tenant := requestFrom(ctx).tenant
				return jsonResult(map[string]any{"tenant": tenant, "documents": s.docs.search(tenant, r.GetString("query", ""))})
			}},
		{Tool: mcp.NewTool(ToolAdminPurge, mcp.WithDescription("Delete every document of the caller's tenant (needs the admin scope)"),
			mcp.WithBoolean("confirm", mcp.Required(), mcp.Description("must be true"))),
			Handler: func(ctx context.Context, r mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				if !r.GetBool("confirm", false) {
					return mcp.NewToolResultError("admin_purge needs confirm: true"), nil
				}
				tenant := requestFrom(ctx).tenant
				return jsonResult(map[string]any{"tenant": tenant, "purged": s.docs.purge(tenant)})
			}},
		{Tool: mcp.NewTool(ToolExportReport, mcp.WithDescription("Export a report of the caller's tenant"), str("reportId", "report id")),
			Handler: func(ctx context.Context, r mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				id, err := r.RequireString("reportId")
				if err != nil {
					return mcp.NewToolResultError(err.Error()), nil
				}
				tenant := requestFrom(ctx).tenant
				return jsonResult(map[string]any{"tenant": tenant, "reportId": id, "documents": s.docs.count(tenant)})
			}},
	}
}

// The upstream tools, served with Config.UpstreamIssuer to every tenant: each acts for the
// caller alone.
const (
	ToolUpstreamWhoami = "upstream_whoami"
	ToolUpstreamRevoke = "upstream_revoke"
	ToolUpstreamStatus = "upstream_status"
)

// allows reports whether tenant may see and call tool.
func (s *Server) allows(tenant, tool string) bool {
	switch tool {
	case ToolUpstreamWhoami, ToolUpstreamRevoke, ToolUpstreamStatus:
		return tenant != "" && s.upstream != nil
	}
	if slices.Contains(StoreTools, tool) {
		return tenant != "" && s.shelves != nil
	}
	return s.policy.allows(tenant, tool)
}

func (s *Server) upstreamTools() []server.ServerTool {
	return []server.ServerTool{
		{Tool: mcp.NewTool(ToolUpstreamWhoami, mcp.WithDescription("Call the upstream API (the upstream IdP's userinfo) "+
			"with the caller's upstream token, obtained by token exchange and exchanged again once it expired")),
			Handler: func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				req := requestFrom(ctx)
				token, err := s.upstream.token(ctx, req.caller.Subject, req.token)
				if err != nil {
					return mcp.NewToolResultError(err.Error()), nil
				}
				who, err := s.upstream.call(ctx, token)
				if err != nil {
					return mcp.NewToolResultError(err.Error()), nil
				}
				return jsonResult(map[string]any{"subject": who["sub"], "upstream": s.upstream.idp.Issuer()})
			}},
		{Tool: mcp.NewTool(ToolUpstreamRevoke, mcp.WithDescription("Drop and revoke the caller's upstream token; "+
			"the next upstream call exchanges again")),
			Handler: func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				had, err := s.upstream.forget(requestFrom(ctx).caller.Subject)
				if err != nil {
					return mcp.NewToolResultError(err.Error()), nil
				}
				return jsonResult(map[string]any{"revoked": had})
			}},
		{Tool: mcp.NewTool(ToolUpstreamStatus, mcp.WithDescription("Debug: how many upstream tokens the server holds "+
			"and how many users' locks exist (none when no call is running)")),
			Handler: func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				return jsonResult(s.upstream.status())
			}},
	}
}

func jsonResult(v any) (*mcp.CallToolResult, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	return mcp.NewToolResultText(string(b)), nil
}
