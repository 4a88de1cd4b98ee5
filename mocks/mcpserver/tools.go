package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/muster-test/muster-test/mocks/bearer"
)

// mockTool is a configured tool ready to serve.
type mockTool struct {
	cfg      ToolConfig
	defaults map[string]any
	// track, when set, scopes a call to its session and server (see inflight).
	track func(context.Context) (context.Context, func())
	// afterDelay, when set, is told how a delay ended (tests observe cancellation).
	afterDelay func(cancelled bool)
	// errorsAsJSONRPC: see Config.ErrorsAsJSONRPC.
	errorsAsJSONRPC bool
	// store is the server's key-value store, which cfg.Store operates on.
	store *kvStore
}

func newMockTool(cfg ToolConfig) (*mockTool, error) {
	if cfg.Name == "" {
		return nil, errors.New("tool without a name")
	}
	t := &mockTool{cfg: cfg, defaults: map[string]any{}, store: &kvStore{}}
	if props, ok := normalize(cfg.InputSchema["properties"]).(map[string]any); ok {
		for name, p := range props {
			if pm, ok := p.(map[string]any); ok {
				if d, ok := pm["default"]; ok {
					t.defaults[name] = d
				}
			}
		}
	}
	return t, nil
}

// mcpTool is the tool as published in tools/list.
func (t *mockTool) mcpTool() (mcp.Tool, error) {
	schema := map[string]any{}
	maps.Copy(schema, normalize(t.cfg.InputSchema).(map[string]any))
	if _, ok := schema["type"]; !ok {
		schema["type"] = "object"
	}
	raw, err := json.Marshal(schema)
	if err != nil {
		return mcp.Tool{}, fmt.Errorf("tool %s: input_schema: %w", t.cfg.Name, err)
	}
	return mcp.NewToolWithRawSchema(t.cfg.Name, t.cfg.Description, raw), nil
}

// arguments merges the call's arguments over the schema defaults.
func (t *mockTool) arguments(given map[string]any) map[string]any {
	args := make(map[string]any, len(t.defaults)+len(given))
	maps.Copy(args, t.defaults)
	maps.Copy(args, given)
	return args
}

// pick returns the first response whose condition matches, else the first response.
func (t *mockTool) pick(args map[string]any) (ResponseConfig, bool) {
	if len(t.cfg.Responses) == 0 {
		return ResponseConfig{}, false
	}
	for _, r := range t.cfg.Responses {
		if matches(r.Condition, args) {
			return r, true
		}
	}
	return t.cfg.Responses[0], true
}

func matches(cond, args map[string]any) bool {
	for k, want := range cond {
		got, ok := args[k]
		if !ok || !valuesEqual(want, got) {
			return false
		}
	}
	return true
}

// handle answers a call. Failures of the mock's own making (a template naming a missing
// argument) are tool errors, as are configured errors; only cancellation is a Go error.
func (t *mockTool) handle(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	args := t.arguments(req.GetArguments())
	resp, ok := t.pick(args)
	if ok && resp.Delay > 0 {
		waitCtx, release := ctx, func() {}
		if t.track != nil {
			waitCtx, release = t.track(ctx)
		}
		err := t.wait(waitCtx, resp.Delay)
		release()
		if err != nil {
			return nil, err
		}
	}
	if resp.Error != "" {
		msg, err := render(resp.Error, args)
		if err != nil {
			return mcp.NewToolResultError(fmt.Sprintf("tool %s: %v", t.cfg.Name, err)), nil
		}
		if t.errorsAsJSONRPC {
			return nil, errors.New(formatScalar(msg))
		}
		return mcp.NewToolResultError(formatScalar(msg)), nil
	}
	out, err := t.answer(resp, args)
	if err != nil {
		return mcp.NewToolResultError(fmt.Sprintf("tool %s: %v", t.cfg.Name, err)), nil
	}
	if t.cfg.EchoToken {
		out = echoEnvelope(ctx, req, out)
	}
	text, err := toText(out)
	if err != nil {
		return mcp.NewToolResultError(fmt.Sprintf("tool %s: cannot encode the response: %v", t.cfg.Name, err)), nil
	}
	return mcp.NewToolResultText(text), nil
}

// answer renders the response. A store tool first runs its operation; its answer is the
// operation's result, or the response rendered with the result's fields over the arguments.
func (t *mockTool) answer(resp ResponseConfig, args map[string]any) (any, error) {
	if t.cfg.Store == nil {
		return render(resp.Response, args)
	}
	stored, err := t.store.apply(*t.cfg.Store, args)
	if err != nil || resp.Response == nil {
		return stored, err
	}
	vars := maps.Clone(args)
	maps.Copy(vars, stored)
	return render(resp.Response, vars)
}

func (t *mockTool) wait(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		if t.afterDelay != nil {
			t.afterDelay(false)
		}
		return nil
	case <-ctx.Done():
		if t.afterDelay != nil {
			t.afterDelay(true)
		}
		return ctx.Err()
	}
}

// echoEnvelope wraps a response with what the server saw of the caller's token. On an
// unprotected server the bearer token is taken from the request as sent, unvalidated.
func echoEnvelope(ctx context.Context, req mcp.CallToolRequest, response any) map[string]any {
	env := map[string]any{
		"response": response,
		"token":    "",
		"subject":  "",
		"scopes":   []any{},
		"audience": []any{},
	}
	if c := callerFrom(ctx); c != nil {
		env["token"] = c.Token
		env["subject"] = c.Subject
		env["scopes"] = stringsToAny(c.Scopes)
		env["audience"] = stringsToAny(c.Audience)
		if c.ClientID != "" {
			env["client_id"] = c.ClientID
		}
	} else if tok, err := bearer.FromHeader(req.Header.Get("Authorization")); err == nil {
		env["token"] = tok
	}
	return env
}

func stringsToAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// serverTool builds the mcp-go registration of a tool.
func (t *mockTool) serverTool() (server.ServerTool, error) {
	tool, err := t.mcpTool()
	if err != nil {
		return server.ServerTool{}, err
	}
	return server.ServerTool{Tool: tool, Handler: t.handle}, nil
}

// describeTools lists tool names for logs.
func describeTools(tools []ToolConfig) string {
	names := make([]string, len(tools))
	for i, t := range tools {
		names[i] = t.Name
	}
	return strings.Join(names, ",")
}
