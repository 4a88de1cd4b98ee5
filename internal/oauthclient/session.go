package oauthclient

import (
	"context"
	"fmt"
	"net/http"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// Session is an MCP session (streamable HTTP, mcp-go) whose requests carry the client's
// token; expiry, 401 and 403 challenges are handled as HTTPClient describes.
type Session struct {
	// MCP is the mcp-go client, initialized.
	MCP *client.Client
	// Protocol is the negotiated protocol revision. From 2026-07-28 on there is no
	// initialize handshake and no session id.
	Protocol string
	// SessionID is the Mcp-Session-Id ("" on the stateless protocol).
	SessionID string
	// Server is the server's name and version.
	Server mcp.Implementation

	auth *authTransport
}

// Connect opens an MCP session to serverURL. Without a prior Login the first request that
// is answered 401 triggers one. Config.Protocol pins the revision: the session fails
// unless the server speaks exactly that one; otherwise the newest both sides speak wins
// (mcp-go probes the stateless 2026-07-28 protocol, then falls back to initialize).
func (c *Client) Connect(ctx context.Context, serverURL string) (*Session, error) {
	auth, err := c.authTransport(serverURL)
	if err != nil {
		return nil, err
	}
	tr, err := transport.NewStreamableHTTP(serverURL, transport.WithHTTPBasicClient(&http.Client{Transport: auth}))
	if err != nil {
		return nil, fmt.Errorf("MCP transport: %w", err)
	}
	var opts []client.ClientOption
	if c.cfg.Protocol != "" {
		opts = append(opts, client.WithProtocolVersion(c.cfg.Protocol))
	}
	mc := client.NewClient(tr, opts...)
	if err := mc.Start(ctx); err != nil {
		return nil, fmt.Errorf("MCP transport: %w", err)
	}
	s := &Session{MCP: mc, auth: auth}
	init, err := mc.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{ClientInfo: c.clientInfo()}})
	if err != nil {
		_ = mc.Close()
		return nil, s.explain("initialize", err)
	}
	s.Protocol, s.SessionID, s.Server = mc.ProtocolVersion(), mc.GetSessionId(), init.ServerInfo
	if c.cfg.Protocol != "" && s.Protocol != c.cfg.Protocol {
		_ = mc.Close()
		return nil, fmt.Errorf("protocol %s was pinned, but the server settled on %s", c.cfg.Protocol, s.Protocol)
	}
	return s, nil
}

// ListTools returns the names of the server's tools (all pages).
func (s *Session) ListTools(ctx context.Context) ([]mcp.Tool, error) {
	res, err := s.MCP.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		return nil, s.explain("tools/list", err)
	}
	return res.Tools, nil
}

// CallTool calls a tool. A tool error is a result with IsError, not an error.
func (s *Session) CallTool(ctx context.Context, name string, args map[string]any) (*mcp.CallToolResult, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := s.MCP.CallTool(ctx, req)
	if err != nil {
		return nil, s.explain("tools/call "+name, err)
	}
	return res, nil
}

// Close ends the session (a DELETE carrying the token on the session protocol).
func (s *Session) Close() error { return s.MCP.Close() }

// explain adds the HTTP status and challenge that mcp-go's error may have lost (it maps a
// 403 on initialize to "legacy SSE server", for one).
func (s *Session) explain(what string, err error) error {
	if p := s.auth.lastRejection(); p != nil {
		return fmt.Errorf("%s: the server answered %d (WWW-Authenticate: %s): %w", what, p.Status, p.Detail, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
