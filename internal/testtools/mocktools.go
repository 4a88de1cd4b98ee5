package testtools

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/muster-test/muster-test/internal/env"
	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/executor"
	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// httpStatus records what the server answered at the HTTP level, which the MCP client turns
// into errors that have lost it: the first refusal (status >= 400, with its challenge), or
// else the status of the first response (the initialize POST, or the SSE stream's GET;
// later responses of an SSE session are 202s that say nothing about the call). The
// reference SUT's refusalRecorder keeps only 4xx, on purpose: see there.
type httpStatus struct {
	mu        sync.Mutex
	status    int
	challenge string
	next      http.RoundTripper
}

func (l *httpStatus) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err == nil {
		l.mu.Lock()
		if l.status == 0 || (l.status < 400 && resp.StatusCode >= 400) {
			l.status, l.challenge = resp.StatusCode, resp.Header.Get("WWW-Authenticate")
		}
		l.mu.Unlock()
	}
	return resp, err
}

func (l *httpStatus) get() (int, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.status, l.challenge
}

// mockClient is an MCP client for an in-process mock, over the mock's own transport.
func mockClient(srv *env.Server, token string, rec *httpStatus) (*client.Client, error) {
	headers := map[string]string{}
	if token != "" {
		headers["Authorization"] = "Bearer " + token
	}
	var tr transport.Interface
	var err error
	if srv.Decl.Mock != nil && srv.Decl.Mock.Type == mcpserver.TypeSSE {
		// No client timeout: it would cut the event stream; the step's context bounds it.
		tr, err = transport.NewSSE(srv.HTTP.URL(), transport.WithHTTPClient(&http.Client{Transport: rec}),
			transport.WithHeaders(headers))
	} else {
		tr, err = transport.NewStreamableHTTP(srv.HTTP.URL(),
			transport.WithHTTPBasicClient(&http.Client{Transport: rec, Timeout: 30 * time.Second}),
			transport.WithHTTPHeaders(headers))
	}
	if err != nil {
		return nil, err
	}
	return client.NewClient(tr, client.WithProtocolVersion(mcp.ProtocolVersion20250618)), nil
}

// callMockTool calls a mock MCP server directly, not through the SUT, optionally with a
// bearer token, and reports what the server answered at the HTTP level too.
func callMockTool(ctx context.Context, run *executor.State, args map[string]any) (map[string]any, error) {
	w, srv, err := httpMock(run, args)
	if err != nil {
		return nil, err
	}
	tool, token := executor.StringArg(args, "tool"), executor.StringArg(args, "token")
	toolArgs, _ := args["args"].(map[string]any)
	rec := &httpStatus{next: w.Env.Traffic.Transport(http.DefaultTransport, event.PartyRunner)}
	c, err := mockClient(srv, token, rec)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	out := map[string]any{"server": srv.Name, "tool": tool}
	fail := func(err error) (map[string]any, error) {
		status, challenge := rec.get()
		out["success"], out["status_code"], out["error"] = false, status, err.Error()
		if challenge != "" {
			out["www_authenticate"] = challenge
		}
		return out, nil
	}
	if err := c.Start(ctx); err != nil {
		return fail(err)
	}
	if _, err := c.Initialize(ctx, mcp.InitializeRequest{Params: mcp.InitializeParams{
		ProtocolVersion: mcp.ProtocolVersion20250618,
		ClientInfo:      mcp.Implementation{Name: "muster-test", Version: "1"},
	}}); err != nil {
		return fail(err)
	}
	res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool, Arguments: toolArgs}})
	if err != nil {
		return fail(err)
	}
	status, _ := rec.get()
	text := ""
	for _, ct := range res.Content {
		if t, ok := ct.(mcp.TextContent); ok {
			text = t.Text
			break
		}
	}
	out["success"], out["status_code"], out["result"] = !res.IsError, status, text
	if res.IsError {
		out["error"] = text
	}
	return out, nil
}

// toolName is the name the SUT gives a tool of an mcp_servers entry, after its toolPrefix
// (else its name) and the SUT's own prefix.
func (w *World) toolName(srv *env.Server, tool string) string {
	prefix, _ := srv.Decl.Config["toolPrefix"].(string)
	if prefix == "" {
		prefix = srv.Name
	}
	return w.SUT.ToolName(prefix, tool)
}

func addMockTool(ctx context.Context, run *executor.State, args map[string]any) (map[string]any, error) {
	w, srv, err := httpMock(run, args)
	if err != nil {
		return nil, err
	}
	name, desc := executor.StringArg(args, "tool_name"), executor.StringArg(args, "tool_description")
	if slices.Contains(srv.HTTP.Tools(), name) {
		return nil, fmt.Errorf("server %s already has a tool %s", srv.Name, name)
	}
	if err := srv.HTTP.AddTool(mcpserver.ToolConfig{Name: name, Description: desc,
		Responses: []mcpserver.ResponseConfig{{Response: fmt.Sprintf("%s executed", name)}}}); err != nil {
		return nil, err
	}
	exposed := w.toolName(srv, name)
	if err := waitForTool(ctx, run, exposed, true); err != nil {
		return nil, err
	}
	return map[string]any{"success": true, "message": fmt.Sprintf("Added tool %s to %s", name, srv.Name),
		"server": srv.Name, "tool_name": name, "exposed_as": exposed}, nil
}

func removeMockTool(ctx context.Context, run *executor.State, args map[string]any) (map[string]any, error) {
	w, srv, err := httpMock(run, args)
	if err != nil {
		return nil, err
	}
	name := executor.StringArg(args, "tool_name")
	if !srv.HTTP.RemoveTool(name) {
		return nil, fmt.Errorf("server %s has no tool %s", srv.Name, name)
	}
	exposed := w.toolName(srv, name)
	if err := waitForTool(ctx, run, exposed, false); err != nil {
		return nil, err
	}
	return map[string]any{"success": true, "message": fmt.Sprintf("Removed tool %s from %s", name, srv.Name),
		"server": srv.Name, "tool_name": name}, nil
}

// waitForTool polls the current session's tool list until name is (or is no longer)
// there, or the step's deadline ends.
func waitForTool(ctx context.Context, run *executor.State, name string, present bool) error {
	sess, err := run.Session("")
	if err != nil {
		return err
	}
	poll := 5 * time.Millisecond
	for {
		tools, err := sess.ListTools(ctx)
		if err == nil && slices.Contains(tools, name) == present {
			return nil
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			want := "show"
			if !present {
				want = "stop showing"
			}
			return fmt.Errorf("the SUT did not %s %s before the step's deadline", want, name)
		case <-t.C:
		}
		poll = min(poll*2, 200*time.Millisecond)
	}
}

func mockCalls(_ context.Context, run *executor.State, args map[string]any) (map[string]any, error) {
	_, srv, err := httpMock(run, args)
	if err != nil {
		return nil, err
	}
	tool := executor.StringArg(args, "tool")
	calls := srv.HTTP.Calls()
	if tool != "" {
		calls = srv.HTTP.CallsTo(tool)
	}
	list := make([]any, len(calls))
	for i, c := range calls {
		list[i] = map[string]any{"time": c.Time.UTC().Format(time.RFC3339Nano), "tool": c.Tool, "arguments": c.Arguments,
			"subject": c.Subject, "scopes": strSlice(c.Scopes), "audience": strSlice(c.Audience), "client_id": c.ClientID,
			"token": c.Token}
	}
	return map[string]any{"success": true, "server": srv.Name, "count": len(calls), "calls": list}, nil
}

func strSlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
