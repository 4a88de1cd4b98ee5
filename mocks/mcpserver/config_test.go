package mcpserver_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/muster-test/muster-test/mocks/mcpserver"
)

func TestParseConfig(t *testing.T) {
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
			Audience: "https://api", Passthrough: map[string]any{"forward_token": true}},
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

// TestParseConfigMusterSpecFields: description and autoStart belong to muster's MCPServer
// spec; scenario files may put them in a mock's config, and the mock accepts and ignores them.
func TestParseConfigMusterSpecFields(t *testing.T) {
	base := "tools: [{name: a}]\n"
	want := parseYAMLConfig(t, base)
	for _, extra := range []string{
		"description: A mock upstream\n",
		"autoStart: true\n",
		"autoStart: false\n",
		"description: d\nautoStart: true\n",
	} {
		t.Run(strings.TrimSpace(extra), func(t *testing.T) {
			var m map[string]any
			if err := yaml.Unmarshal([]byte(base+extra), &m); err != nil {
				t.Fatal(err)
			}
			got, err := mcpserver.ParseConfig(m)
			if err != nil {
				t.Fatalf("ParseConfig: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %#v, want %#v (the fields are ignored)", got, want)
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	cases := []struct {
		name, doc, wantErr string
	}{
		{"unknown top key", "tols: []", `config: unknown key "tols" (did you mean "tools"?)`},
		{"unknown oauth key", "oauth: {requird: true}", `config.oauth: unknown key "requird" (did you mean "required"?)`},
		{"unknown tool key", "tools: [{name: a, respones: []}]", `config.tools[0]: unknown key "respones" (did you mean "responses"?)`},
		{"unknown response key", "tools: [{name: a, responses: [{respone: x}]}]", `config.tools[0].responses[0]: unknown key "respone" (did you mean "response"?)`},
		{"far-off key", "tools: [{name: a, zzzzzzzz: 1}]", `config.tools[0]: unknown key "zzzzzzzz"`},
		{"bare number delay", "tools: [{name: a, responses: [{delay: 5}]}]", `config.tools[0].responses[0].delay: want a Go duration string`},
		{"bad delay", "tools: [{name: a, responses: [{delay: soon}]}]", `config.tools[0].responses[0].delay: time: invalid duration`},
		{"tool without name", "tools: [{description: x}]", `config.tools[0].name: required`},
		{"duplicate tool", "tools: [{name: a}, {name: a}]", `config.tools[1]: duplicate tool name "a"`},
		{"tools not a list", "tools: {name: a}", `config.tools: want a list`},
		{"required not bool", "oauth: {required: yes please}", `config.oauth.required: want true or false`},
		{"condition not a map", "tools: [{name: a, responses: [{condition: [1]}]}]", `config.tools[0].responses[0].condition: want a map`},
		{"autoStart not bool", "autoStart: yes please", `config.autoStart: want true or false`},
		{"description not a string", "description: [a]", `config.description: want a string`},
		{"error is a map", "tools: [{name: a, responses: [{error: {a: 1}}]}]", `config.tools[0].responses[0].error: want a message`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var m map[string]any
			if err := yaml.Unmarshal([]byte(tc.doc), &m); err != nil {
				t.Fatal(err)
			}
			_, err := mcpserver.ParseConfig(m)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if tc.name == "far-off key" && strings.Contains(err.Error(), "did you mean") {
				t.Errorf("implausible suggestion: %v", err)
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
