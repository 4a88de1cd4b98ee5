package mcpclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/muster-test/muster-test/internal/result"
)

// metaToolNames are newer muster's meta-tools, which are called directly, never through
// call_tool. The list is muster's own client's (internal/agent/client.go): besides the
// tool meta-tools it has resource and prompt ones, which call_tool would not find.
var metaToolNames = map[string]bool{
	"call_tool": true, "list_tools": true, "describe_tool": true, "filter_tools": true,
	"list_core_tools": true, "list_resources": true, "describe_resource": true,
	"get_resource": true, "list_prompts": true, "describe_prompt": true, "get_prompt": true,
}

// CallTool calls a SUT tool. A JSON-RPC error is a failed result whose text is the error
// message and whose Code is the error code; an isError result is a failed result with its
// text contents. A Go error means the call could not be made (transport failure, session
// ended, deadline, malformed answer).
func (s *Session) CallTool(ctx context.Context, name string, args map[string]any) (*result.Result, error) {
	if args == nil {
		args = map[string]any{}
	}
	meta, err := s.callStyle(ctx)
	if err != nil {
		return nil, err
	}
	if !meta || metaToolNames[name] {
		return s.call(ctx, name, args)
	}
	reply, err := s.call(ctx, "call_tool", map[string]any{"name": name, "arguments": args})
	if err != nil || reply.Code != 0 {
		return reply, err
	}
	return unwrap(reply), nil
}

// call sends tools/call as is.
func (s *Session) call(ctx context.Context, name string, args map[string]any) (*result.Result, error) {
	resp, err := s.send(ctx, string(mcp.MethodToolsCall), mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		return nil, fmt.Errorf("calling %s: %w", name, err)
	}
	if resp.Error != nil {
		return &result.Result{Failed: true, Texts: []string{resp.Error.Message}, Code: resp.Error.Code}, nil
	}
	r, err := toResult(resp.Result)
	if err != nil {
		return nil, fmt.Errorf("calling %s: malformed tools/call result: %w", name, err)
	}
	return r, nil
}

// toResult converts a CallToolResult. _meta is decoded from the raw object because
// mcp.Meta moves progressToken out of the map.
func toResult(raw json.RawMessage) (*result.Result, error) {
	res, err := mcp.ParseCallToolResult(&raw)
	if err != nil {
		return nil, err
	}
	var meta struct {
		Meta map[string]any `json:"_meta"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		return nil, fmt.Errorf("_meta: %w", err)
	}
	// The stateless protocol adds keys of its own (serverInfo, ...) under the reserved
	// prefix: they describe the wire, not the tool's answer, which is the same on both.
	maps.DeleteFunc(meta.Meta, func(k string, _ any) bool { return strings.HasPrefix(k, protocolMetaPrefix) })
	if len(meta.Meta) == 0 {
		meta.Meta = nil
	}
	r := &result.Result{Failed: res.IsError, Meta: meta.Meta}
	for _, c := range res.Content {
		if t, ok := mcp.AsTextContent(c); ok {
			r.Texts = append(r.Texts, t.Text)
		}
	}
	return r, nil
}

// unwrap returns the tool's own result from a call_tool reply, whose first text is the
// JSON of {isError, content, structuredContent}. A reply that is not such an envelope
// (call_tool's own failures, e.g. `Tool execution failed: ...`) is the result as is.
// _meta of both layers is kept, the tool's own keys winning.
func unwrap(reply *result.Result) *result.Result {
	if len(reply.Texts) == 0 {
		return reply
	}
	inner, err := toResult(json.RawMessage(reply.Texts[0]))
	if err != nil {
		return reply
	}
	if len(reply.Meta) > 0 {
		meta := maps.Clone(reply.Meta)
		maps.Copy(meta, inner.Meta)
		inner.Meta = meta
	}
	return inner
}

// callStyle says whether tools are called through call_tool, deciding it on first use.
func (s *Session) callStyle(ctx context.Context) (bool, error) {
	if s.styleSet.Load() {
		return s.metaTools.Load(), nil
	}
	s.styleMu.Lock()
	defer s.styleMu.Unlock()
	if s.styleSet.Load() {
		return s.metaTools.Load(), nil
	}
	tools, err := s.listToolsRPC(ctx)
	if err != nil {
		return false, fmt.Errorf("listing the SUT's tools to choose the call style: %w", err)
	}
	s.learnStyleLocked(tools)
	return s.metaTools.Load(), nil
}

// learnStyleLocked fixes the call style from a tools/list answer. An empty list (a SUT
// still starting) decides nothing. Call with styleMu held.
func (s *Session) learnStyleLocked(tools []mcp.Tool) {
	if s.styleSet.Load() || len(tools) == 0 {
		return
	}
	for _, t := range tools {
		if t.Name == "call_tool" {
			s.metaTools.Store(true)
		}
	}
	s.styleSet.Store(true)
}

// ListTools lists the names of the tools this session can call: tools/list's, or, when
// the SUT hides its tools behind meta-tools, list_tools' answer.
func (s *Session) ListTools(ctx context.Context) ([]string, error) {
	if s.styleSet.Load() && s.metaTools.Load() {
		return s.listToolsMeta(ctx)
	}
	tools, err := s.listToolsRPC(ctx)
	if err != nil {
		return nil, err
	}
	s.styleMu.Lock()
	s.learnStyleLocked(tools)
	s.styleMu.Unlock()
	if s.metaTools.Load() {
		return s.listToolsMeta(ctx)
	}
	names := make([]string, len(tools))
	for i, t := range tools {
		names[i] = t.Name
	}
	return names, nil
}

func (s *Session) listToolsMeta(ctx context.Context) ([]string, error) {
	r, err := s.call(ctx, "list_tools", map[string]any{})
	if err != nil {
		return nil, err
	}
	if r.Failed {
		return nil, fmt.Errorf("list_tools failed: %s", r.Text())
	}
	return parseToolNames(r.Texts)
}

// parseToolNames reads list_tools' answer: {"tools":[{"name":...}], ...} in newer muster,
// or a bare list of tools.
func parseToolNames(texts []string) ([]string, error) {
	if len(texts) == 0 {
		return nil, errors.New("list_tools answered no text")
	}
	type tool struct {
		Name string `json:"name"`
	}
	var wrapped struct {
		Tools *[]tool `json:"tools"`
	}
	var tools []tool
	if err := json.Unmarshal([]byte(texts[0]), &wrapped); err == nil && wrapped.Tools != nil {
		tools = *wrapped.Tools
	} else if err := json.Unmarshal([]byte(texts[0]), &tools); err != nil {
		return nil, fmt.Errorf("list_tools answered neither {\"tools\":[...]} nor a list: %.200s", texts[0])
	}
	names := make([]string, 0, len(tools))
	for _, t := range tools {
		names = append(names, t.Name)
	}
	return names, nil
}
