package mcpclient

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/muster-test/muster-test/internal/result"
)

// metaServer imitates newer muster: tools/list shows only meta-tools, and the real tools
// are reached through call_tool, whose reply wraps the tool's result as JSON text.
type metaServer struct {
	mu    sync.Mutex
	calls []map[string]any // call_tool's arguments, in order
}

var authMeta = map[string]any{"giantswarm.io/auth_required": []any{map[string]any{"server": "alpha"}}}

func (m *metaServer) build() *server.MCPServer {
	s := server.NewMCPServer("meta", "1", server.WithToolCapabilities(true))
	m.addTools(s)
	return s
}

func (m *metaServer) addTools(s *server.MCPServer) {
	hidden := map[string]func(args map[string]any) *mcp.CallToolResult{
		"x_pub_echo": func(args map[string]any) *mcp.CallToolResult {
			return mcp.NewToolResultText(fmt.Sprintf("echo %v", args["msg"]))
		},
		"x_pub_refuse": func(map[string]any) *mcp.CallToolResult {
			return mcp.NewToolResultError("refused inside")
		},
	}
	s.AddTool(mcp.NewTool("call_tool"), func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		args := req.GetArguments()
		m.mu.Lock()
		m.calls = append(m.calls, args)
		m.mu.Unlock()
		name, _ := args["name"].(string)
		tool, ok := hidden[name]
		if !ok {
			return mcp.NewToolResultError(fmt.Sprintf("Tool execution failed: tool '%s' not found", name)), nil
		}
		inner, _ := args["arguments"].(map[string]any)
		res := tool(inner)
		envelope, err := json.Marshal(struct {
			IsError bool          `json:"isError"`
			Content []mcp.Content `json:"content"`
		}{res.IsError, res.Content})
		if err != nil {
			return nil, err
		}
		out := &mcp.CallToolResult{Content: []mcp.Content{mcp.NewTextContent(string(envelope))}, IsError: res.IsError}
		// A copy: on the stateless protocol the server adds its serverInfo to the map.
		out.Meta = mcp.NewMetaFromMap(maps.Clone(authMeta))
		return out, nil
	})
	s.AddTool(mcp.NewTool("list_tools"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		names := []map[string]string{}
		for n := range hidden {
			names = append(names, map[string]string{"name": n, "description": "hidden"})
		}
		b, err := json.MarshalIndent(map[string]any{"tools": names}, "", "  ")
		if err != nil {
			return nil, err
		}
		return mcp.NewToolResultText(string(b)), nil
	})
}

func (m *metaServer) callToolArgs() []map[string]any {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.calls)
}

func TestMetaToolMode(t *testing.T) {
	ms := &metaServer{}
	srv := newTestServer(t, ms.build())
	s := connect(t, srv.URL, Options{})

	tests := []struct {
		name     string
		tool     string
		args     map[string]any
		want     result.Result
		viaCall  bool // must have gone through call_tool
		wantJSON bool // the text is list_tools' own JSON (not unwrapped)
	}{
		{
			name: "a hidden tool goes through call_tool and is unwrapped",
			tool: "x_pub_echo", args: map[string]any{"msg": "hi"},
			want:    result.Result{Texts: []string{"echo hi"}, Meta: authMeta},
			viaCall: true,
		},
		{
			name:    "the hidden tool's isError survives the unwrapping",
			tool:    "x_pub_refuse",
			want:    result.Result{Failed: true, Texts: []string{"refused inside"}, Meta: authMeta},
			viaCall: true,
		},
		{
			name:    "call_tool's own failure is the reply as is",
			tool:    "x_nosuch",
			want:    result.Result{Failed: true, Texts: []string{"Tool execution failed: tool 'x_nosuch' not found"}},
			viaCall: true,
		},
		{
			name:     "a meta-tool is called directly",
			tool:     "list_tools",
			wantJSON: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(ms.callToolArgs())
			got, err := s.CallTool(ctxT(t), tc.tool, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			calls := ms.callToolArgs()[before:]
			if tc.viaCall {
				wantArgs := map[string]any{"name": tc.tool, "arguments": tc.args}
				if tc.args == nil {
					wantArgs["arguments"] = map[string]any{}
				}
				if len(calls) != 1 || !reflect.DeepEqual(calls[0], wantArgs) {
					t.Errorf("call_tool got %v, want one call with %v", calls, wantArgs)
				}
			} else if len(calls) != 0 {
				t.Errorf("a meta-tool went through call_tool: %v", calls)
			}
			if tc.wantJSON {
				v, ok := got.JSON()
				if obj, isObj := v.(map[string]any); !ok || !isObj || obj["tools"] == nil || got.Failed {
					t.Errorf("list_tools = %+v, want its own {\"tools\":...} answer", got)
				}
				return
			}
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("CallTool(%s) = %#v, want %#v", tc.tool, *got, tc.want)
			}
		})
	}
	if !s.MetaTools() {
		t.Error("MetaTools() = false for a server with call_tool")
	}

	// ListTools on this session (style known) and on a fresh one (ListTools decides it).
	for _, sess := range []*Session{s, connect(t, srv.URL, Options{})} {
		names, err := sess.ListTools(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(names)
		if want := []string{"x_pub_echo", "x_pub_refuse"}; !slices.Equal(names, want) || !sess.MetaTools() {
			t.Errorf("ListTools = %v (MetaTools %v), want list_tools' names %v", names, sess.MetaTools(), want)
		}
	}
}

// A SUT still starting lists no tools: that must not fix the call style.
func TestCallStyleNotDecidedByEmptyList(t *testing.T) {
	s0 := server.NewMCPServer("meta", "1", server.WithToolCapabilities(true))
	srv := newTestServer(t, s0)
	s := connect(t, srv.URL, Options{})
	if names, err := s.ListTools(ctxT(t)); err != nil || len(names) != 0 {
		t.Fatalf("ListTools on an empty server = %v, %v", names, err)
	}
	ms := &metaServer{}
	ms.addTools(s0)
	got, err := s.CallTool(ctxT(t), "x_pub_echo", map[string]any{"msg": "late"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Failed || got.Text() != "echo late" || len(ms.callToolArgs()) != 1 {
		t.Errorf("CallTool = %+v after call_tool appeared, call_tool calls %v; want it unwrapped through call_tool", got, ms.callToolArgs())
	}
}

func TestUnwrap(t *testing.T) {
	tests := []struct {
		name  string
		reply result.Result
		want  result.Result
	}{
		{
			name:  "plain text reply stays",
			reply: result.Result{Texts: []string{"not json"}},
			want:  result.Result{Texts: []string{"not json"}},
		},
		{
			name:  "JSON without content is a tool's JSON answer, not an envelope",
			reply: result.Result{Texts: []string{`{"tools":[]}`}},
			want:  result.Result{Texts: []string{`{"tools":[]}`}},
		},
		{
			name:  "envelope with structured content and inner _meta overriding the outer",
			reply: result.Result{Texts: []string{`{"isError":false,"content":[{"type":"text","text":"a"},{"type":"image","mimeType":"image/png","dataSize":3},{"type":"text","text":"b"}],"structuredContent":{"k":1},"_meta":{"x":"inner"}}`}, Meta: map[string]any{"x": "outer", "y": "outer"}},
			want:  result.Result{Texts: []string{"a", "b"}, Meta: map[string]any{"x": "inner", "y": "outer"}},
		},
		{
			name:  "no text at all",
			reply: result.Result{Failed: true},
			want:  result.Result{Failed: true},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reply := tc.reply
			if got := unwrap(&reply); !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("unwrap = %#v, want %#v", *got, tc.want)
			}
		})
	}
}

func TestParseToolNames(t *testing.T) {
	tests := []struct {
		text    string
		want    []string
		wantErr bool
	}{
		{text: `{"tools":[{"name":"a"},{"name":"b"}],"servers_requiring_auth":[{"name":"alpha"}]}`, want: []string{"a", "b"}},
		{text: `[{"name":"c"}]`, want: []string{"c"}},
		{text: `{"tools":[]}`, want: []string{}},
		{text: `No tools available`, wantErr: true},
		{text: `{"other":1}`, wantErr: true},
	}
	for _, tc := range tests {
		got, err := parseToolNames([]string{tc.text})
		if (err != nil) != tc.wantErr || (!tc.wantErr && !slices.Equal(got, tc.want)) {
			t.Errorf("parseToolNames(%s) = %v, %v; want %v (error: %v)", tc.text, got, err, tc.want, tc.wantErr)
		}
	}
}
