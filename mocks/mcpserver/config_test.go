package mcpserver_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/mocks/mcpserver"
)

func TestConfigFromYAML(t *testing.T) {
	cfg := parseYAMLConfig(t, `
type: streamable-http
toolPrefix: pre
oauth:
  required: true
  mock_oauth_server_ref: idp
  scope: "mcp:read mcp:write"
  audience: https://api
  forward_token: true
tools:
  - name: get
    description: d
    input_schema: {type: object, properties: {a: {default: 1, x-anything: [1, 2]}}}
    echo_token: true
    responses:
      - condition: {a: 1}
        response: {k: [1, "{{ a }}"]}
        delay: 250ms
      - error: oops
        echo: {whatever: true}
`)
	want := mcpserver.Config{
		Type:       "streamable-http",
		ToolPrefix: "pre",
		OAuth: mcpserver.OAuthConfig{Required: true, MockOAuthServerRef: "idp", Scope: "mcp:read mcp:write",
			Audience: "https://api", ForwardToken: true},
		Tools: []mcpserver.ToolConfig{{
			Name:        "get",
			Description: "d",
			InputSchema: map[string]any{"type": "object", "properties": map[string]any{"a": map[string]any{"default": 1, "x-anything": []any{1, 2}}}},
			EchoToken:   true,
			Responses: []mcpserver.ResponseConfig{
				{Condition: map[string]any{"a": 1}, Response: map[string]any{"k": []any{1, "{{ a }}"}}, Delay: 250 * time.Millisecond},
				{Error: "oops", Echo: map[string]any{"whatever": true}},
			},
		}},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("got  %#v\nwant %#v", cfg, want)
	}
	if got := cfg.OAuth.RequiredScopes(); !reflect.DeepEqual(got, []string{"mcp:read", "mcp:write"}) {
		t.Errorf("RequiredScopes %v", got)
	}
	if (mcpserver.OAuthConfig{ExpectedAudience: "e"}).RequiredAudience() != "e" {
		t.Error("expected_audience not used as the audience")
	}
}

// TestConfigFromYAMLNonStringKeys: a YAML mapping with a key that is not a string
// decodes to map[any]any, which JSON cannot encode; the free-form values come out as
// map[string]any.
func TestConfigFromYAMLNonStringKeys(t *testing.T) {
	cfg := parseYAMLConfig(t, `
tools:
  - name: a
    input_schema: {properties: {1: {default: {2: x}}}}
    responses: [{condition: {k: {3: y}}, response: {4: [{5: z}]}, echo: {6: w}}]
`)
	tool := cfg.Tools[0]
	got := []any{tool.InputSchema, tool.Responses[0].Condition, tool.Responses[0].Response, tool.Responses[0].Echo}
	want := []any{
		map[string]any{"properties": map[string]any{"1": map[string]any{"default": map[string]any{"2": "x"}}}},
		map[string]any{"k": map[string]any{"3": "y"}},
		map[string]any{"4": []any{map[string]any{"5": "z"}}},
		map[string]any{"6": "w"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
}

// TestConfigFromYAMLMusterSpecFields: description and autoStart belong to muster's
// MCPServer spec; scenario files may put them in a mock's config, and they are read (for
// the SUT's configuration) without changing the mock.
func TestConfigFromYAMLMusterSpecFields(t *testing.T) {
	base := "tools: [{name: a}]\n"
	want := parseYAMLConfig(t, base)
	yes, no := true, false
	for extra, set := range map[string]func(*mcpserver.Config){
		"description: A mock upstream\n":    func(c *mcpserver.Config) { c.Description = "A mock upstream" },
		"autoStart: true\n":                 func(c *mcpserver.Config) { c.AutoStart = &yes },
		"autoStart: false\n":                func(c *mcpserver.Config) { c.AutoStart = &no },
		"description: d\nautoStart: true\n": func(c *mcpserver.Config) { c.Description, c.AutoStart = "d", &yes },
	} {
		t.Run(strings.TrimSpace(extra), func(t *testing.T) {
			got := parseYAMLConfig(t, base+extra)
			w := want
			set(&w)
			if !reflect.DeepEqual(got, w) {
				t.Errorf("got %#v, want %#v", got, w)
			}
		})
	}
}

// TestConfigFromYAMLErrors: what a file may get wrong, each named with its line. (A
// scenario file's config goes through the scenario loader instead, which also suggests
// the key meant.)
func TestConfigFromYAMLErrors(t *testing.T) {
	cases := []struct {
		name, doc, wantErr string
	}{
		{"unknown top key", "tols: []", `line 1: field tols not found in type mcpserver.Config`},
		{"unknown oauth key", "oauth: {requird: true}", `line 1: field requird not found in type mcpserver.OAuthConfig`},
		{"unknown tool key", "tools: [{name: a, respones: []}]", `line 1: field respones not found in type mcpserver.ToolConfig`},
		{"unknown response key", "tools:\n  - name: a\n    responses: [{respone: x}]", `line 3: field respone not found in type mcpserver.ResponseConfig`},
		{"bare number delay", "tools: [{name: a, responses: [{delay: 5}]}]", "cannot unmarshal !!int `5` into time.Duration"},
		{"bad delay", "tools: [{name: a, responses: [{delay: soon}]}]", "cannot unmarshal !!str `soon` into time.Duration"},
		{"negative delay", "tools: [{name: a, responses: [{delay: -1s}]}]", `tools[0].responses[0].delay: negative duration -1s`},
		{"tool without name", "tools: [{description: x}]", `tools[0]: tool without a name`},
		{"duplicate tool", "tools: [{name: a}, {name: a}]", `tools[1]: duplicate tool name "a"`},
		{"tools not a list", "tools: {name: a}", `cannot unmarshal !!map into []mcpserver.ToolConfig`},
		{"required not bool", "oauth: {required: yes please}", "cannot unmarshal !!str `yes please` into bool"},
		{"condition not a map", "tools: [{name: a, responses: [{condition: [1]}]}]", `cannot unmarshal !!seq into map[string]interface {}`},
		{"autoStart not bool", "autoStart: yes please", "cannot unmarshal !!str `yes please` into bool"},
		{"description not a string", "description: [a]", `cannot unmarshal !!seq into string`},
		{"error is a map", "tools: [{name: a, responses: [{error: {a: 1}}]}]", `cannot unmarshal !!map into string`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mcpserver.ConfigFromYAML([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestLoadConfigFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("tools:\n  - name: public_operation\n    responses:\n      - response: {status: ok}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := mcpserver.LoadConfigFile(good)
	if err != nil || len(cfg.Tools) != 1 || cfg.Tools[0].Name != "public_operation" {
		t.Fatalf("cfg %+v err %v", cfg, err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("tools: [{name: a, oops: 1}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := mcpserver.LoadConfigFile(bad); err == nil || !strings.Contains(err.Error(), "bad.yaml") {
		t.Errorf("error %v should name the file", err)
	}
	if _, err := mcpserver.LoadConfigFile(filepath.Join(dir, "absent.yaml")); err == nil {
		t.Error("missing file accepted")
	}
}
