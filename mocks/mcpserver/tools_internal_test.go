package mcpserver

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

func callTool(t *testing.T, ctx context.Context, tc ToolConfig, args map[string]any) (*mcp.CallToolResult, error) {
	t.Helper()
	tool, err := newMockTool(tc)
	if err != nil {
		t.Fatal(err)
	}
	return tool.handle(ctx, callRequest(tc.Name, args))
}

func callRequest(tool string, args map[string]any) mcp.CallToolRequest {
	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	if args != nil {
		req.Params.Arguments = args
	}
	return req
}

func resultText(r *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range r.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func TestToolResponses(t *testing.T) {
	schema := map[string]any{"type": "object", "properties": map[string]any{
		"env":   map[string]any{"type": "string", "default": "prod"},
		"n":     map[string]any{"type": "integer", "default": 3},
		"flag":  map[string]any{"type": "boolean"},
		"plain": map[string]any{"type": "string"},
	}}
	responses := []ResponseConfig{
		{Condition: map[string]any{"n": 42}, Response: "forty-two"},
		{Condition: map[string]any{"n": "7"}, Response: "seven"},
		{Condition: map[string]any{"flag": "true"}, Response: map[string]any{"flag": "{{ flag }}", "n": "{{ .n }}"}},
		{Condition: map[string]any{"env": "dev", "n": 1}, Response: []any{"{{ env }}", "n={{ n }}", "{{ .Values.x }}", "{{ eq .env \"x\" }}"}},
		{Condition: map[string]any{"env": "staging"}, Error: "no deploys to {{ env }} (n={{n}})"},
		{Condition: map[string]any{"env": "echo"}, Echo: map[string]any{"anything": 1}},
		{Condition: map[string]any{"env": "missing"}, Response: "value {{ plain }}"},
		{Condition: map[string]any{"env": "missing-err"}, Error: "bad {{ nothere }}"},
		{Condition: map[string]any{"env": "num"}, Response: 12.5},
		{Condition: map[string]any{"env": "prod", "n": 3}, Response: "defaults"},
	}
	base := ToolConfig{Name: "t", InputSchema: schema, Responses: responses}
	cases := []struct {
		name    string
		args    map[string]any
		want    string
		wantErr bool
		isJSON  bool
	}{
		{name: "no condition matches: first response", args: map[string]any{"n": 5}, want: "forty-two"},
		{name: "int condition vs float argument", args: map[string]any{"n": 42.0}, want: "forty-two"},
		{name: "string condition vs number argument", args: map[string]any{"n": 7}, want: "seven"},
		{name: "bool argument vs string condition, typed templates", args: map[string]any{"flag": true, "n": 9}, want: `{"flag":true,"n":9}`, isJSON: true},
		{name: "default used in template", args: map[string]any{"flag": true}, want: `{"flag":true,"n":3}`, isJSON: true},
		{name: "all keys must match", args: map[string]any{"env": "dev", "n": 2}, want: "forty-two"},
		{name: "list response, other templates verbatim", args: map[string]any{"env": "dev", "n": 1}, want: `["dev","n=1","{{ .Values.x }}","{{ eq .env \"x\" }}"]`, isJSON: true},
		{name: "error rendered", args: map[string]any{"env": "staging"}, want: "no deploys to staging (n=3)", wantErr: true},
		{name: "echo only: empty text", args: map[string]any{"env": "echo"}, want: ""},
		{name: "missing argument without default", args: map[string]any{"env": "missing"}, want: `"plain"`, wantErr: true},
		{name: "missing argument in error text", args: map[string]any{"env": "missing-err"}, want: `"nothere"`, wantErr: true},
		{name: "number response", args: map[string]any{"env": "num"}, want: "12.5"},
		{name: "defaults select a response", args: nil, want: "defaults"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := callTool(t, context.Background(), base, tc.args)
			if err != nil {
				t.Fatal(err)
			}
			text := resultText(res)
			if res.IsError != tc.wantErr {
				t.Fatalf("isError %v, want %v (%q)", res.IsError, tc.wantErr, text)
			}
			switch {
			case tc.isJSON:
				var got, want any
				if err := json.Unmarshal([]byte(text), &got); err != nil {
					t.Fatalf("%q: %v", text, err)
				}
				_ = json.Unmarshal([]byte(tc.want), &want)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("got %s, want %s", text, tc.want)
				}
			case tc.wantErr && strings.HasPrefix(tc.want, `"`):
				if !strings.Contains(text, tc.want) {
					t.Fatalf("error %q does not name %s", text, tc.want)
				}
			default:
				if text != tc.want {
					t.Fatalf("got %q, want %q", text, tc.want)
				}
			}
		})
	}
}

func TestToolWithoutResponses(t *testing.T) {
	res, err := callTool(t, context.Background(), ToolConfig{Name: "empty"}, nil)
	if err != nil || res.IsError || resultText(res) != "" {
		t.Fatalf("res %+v err %v", res, err)
	}
}

func TestDelay(t *testing.T) {
	tc := ToolConfig{Name: "slow", Responses: []ResponseConfig{{Delay: 50 * time.Millisecond, Response: "done"}}}
	start := time.Now()
	res, err := callTool(t, context.Background(), tc, nil)
	if err != nil || resultText(res) != "done" {
		t.Fatalf("res %+v err %v", res, err)
	}
	if elapsed := time.Since(start); elapsed < 50*time.Millisecond {
		t.Errorf("answered after %v, before the 50ms delay", elapsed)
	}

	tc.Responses[0].Delay = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := callTool(t, ctx, tc, nil)
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled call kept waiting for its delay")
	}
}

func TestValuesEqual(t *testing.T) {
	cases := []struct {
		a, b any
		want bool
	}{
		{42, 42.0, true},
		{"3", 3, true},
		{3, "3", true},
		{true, "true", true},
		{"TRUE", true, true},
		{false, "true", false},
		{"007", "7", false}, // two strings compare as strings
		{"a", "a", true},
		{"a", "b", false},
		{1, true, false},
		{nil, nil, true},
		{nil, "", false},
		{"x", nil, false},
		{map[string]any{"a": 1}, map[string]any{"a": 1.0}, true},
		{map[string]any{"a": 1}, map[string]any{"a": 1.0, "b": 2}, false},
		{[]any{1, "2"}, []any{1.0, 2}, true},
		{[]any{1}, []any{1, 2}, false},
		{"[1]", []any{1}, false},
	}
	for _, tc := range cases {
		if got := valuesEqual(tc.a, tc.b); got != tc.want {
			t.Errorf("valuesEqual(%#v, %#v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestRender(t *testing.T) {
	args := map[string]any{"s": "x", "n": 3.0, "f": 2.5, "b": false, "m": map[string]any{"k": "v"}, "dash-name": "d"}
	cases := []struct {
		in   any
		want any
	}{
		{"{{ n }}", 3.0},
		{"{{.s}}", "x"},
		{"n={{ n }} f={{f}} b={{ b }}", "n=3 f=2.5 b=false"},
		{"m={{ m }}", `m={"k":"v"}`},
		{"{{ m }}", map[string]any{"k": "v"}},
		{"{{ dash-name }}", "d"},
		{"{{ .s.deep }}", "{{ .s.deep }}"},
		{"{{ printf \"%d\" 1 }}", "{{ printf \"%d\" 1 }}"},
		{map[string]any{"{{ s }}": "{{ s }}"}, map[string]any{"{{ s }}": "x"}},
		{42, 42},
	}
	for _, tc := range cases {
		got, err := render(tc.in, args)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("render(%#v) = %#v, %v; want %#v", tc.in, got, err, tc.want)
		}
	}
	if _, err := render("a {{ nope }}", args); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("missing argument error: %v", err)
	}
}

func TestPublishedSchema(t *testing.T) {
	for name, tc := range map[string]struct {
		schema map[string]any
		want   string
	}{
		"none":         {nil, `{"type":"object"}`},
		"without type": {map[string]any{"properties": map[string]any{}}, `{"properties":{},"type":"object"}`},
		"verbatim":     {map[string]any{"type": "object", "required": []any{"a"}}, `{"required":["a"],"type":"object"}`},
	} {
		tool, _ := newMockTool(ToolConfig{Name: "x", InputSchema: tc.schema})
		mt, err := tool.mcpTool()
		if err != nil {
			t.Fatal(err)
		}
		if string(mt.RawInputSchema) != tc.want {
			t.Errorf("%s: schema %s, want %s", name, mt.RawInputSchema, tc.want)
		}
	}
}
