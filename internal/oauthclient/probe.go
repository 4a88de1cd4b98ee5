package oauthclient

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"

	"github.com/mark3labs/mcp-go/mcp"
)

// probe sends the unauthenticated MCP request discovery starts from: `initialize` (or
// `server/discover` when a stateless protocol revision is pinned). A server that accepts it
// and opens a session gets that session deleted again.
func (c *Client) probe(ctx context.Context, serverURL string) (*rejection, error) {
	version := c.cfg.Protocol
	method := "initialize"
	var params any = mcp.InitializeParams{
		ProtocolVersion: mcp.LATEST_LEGACY_PROTOCOL_VERSION,
		ClientInfo:      c.clientInfo(),
	}
	if version != "" && mcp.IsModernProtocol(version) {
		method, params = string(mcp.MethodServerDiscover), nil
	} else if version != "" {
		params = mcp.InitializeParams{ProtocolVersion: version, ClientInfo: c.clientInfo()}
	}
	body, err := json.Marshal(mcp.JSONRPCRequest{
		JSONRPC: mcp.JSONRPC_VERSION, ID: mcp.NewRequestId(0), Params: params,
		Request: mcp.Request{Method: method},
	})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(withPhase(ctx, PhaseProbe), http.MethodPost, serverURL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if version != "" {
		req.Header.Set(mcp.HeaderProtocolVersion, version)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDocument))
	resp.Body.Close()
	rej := &rejection{status: resp.StatusCode, header: resp.Header.Values("WWW-Authenticate")}
	if sid := resp.Header.Get(mcp.HeaderSessionID); sid != "" && resp.StatusCode < 300 {
		c.closeProbeSession(ctx, serverURL, sid)
	}
	return rej, nil
}

func (c *Client) closeProbeSession(ctx context.Context, serverURL, sid string) {
	req, err := http.NewRequestWithContext(withPhase(ctx, PhaseProbeClose), http.MethodDelete, serverURL, nil)
	if err != nil {
		return
	}
	req.Header.Set(mcp.HeaderSessionID, sid)
	if resp, err := c.http.Do(req); err == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDocument))
		resp.Body.Close()
	}
}

func (c *Client) clientInfo() mcp.Implementation {
	return mcp.Implementation{Name: c.cfg.ClientName, Version: "1.0.0"}
}
