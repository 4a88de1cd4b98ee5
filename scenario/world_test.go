package scenario_test

import (
	"strings"
	"testing"

	"github.com/muster-test/muster-test/scenario"
)

// world is a scenario with one protected mock server and one IdP; steps are appended.
const world = `name: world
pre_configuration:
  mock_oauth_servers:
    - name: idp
  mcp_servers:
    - name: secure
      config:
        type: streamable-http
        oauth: {required: true, mock_oauth_server_ref: idp}
        tools:
          - name: get_secret
            input_schema: {properties: {name: {type: string}}}
            responses:
              - response: "secret of {{ name }}"
    - name: pub
      config:
        toolPrefix: p
        tools:
          - name: p_list
steps:
`

// diagsOf parses doc and lists its diagnostics as "line:col: [warning: ]message".
func diagsOf(t *testing.T, l scenario.Loader, doc string) []string {
	t.Helper()
	_, diags := l.Parse("w.yaml", []byte(doc))
	var out []string
	for _, d := range diags {
		out = append(out, strings.TrimPrefix(d.String(), "w.yaml:"))
	}
	return out
}

func TestWorldChecks(t *testing.T) {
	step := func(tool, args, expected string) string {
		return "  - id: s\n    tool: " + tool + "\n    args: {" + args + "}\n    expected: {" + expected + "}\n"
	}
	cases := []struct {
		name, steps string
		want        []string // each a part of one diagnostic, in order; none: no diagnostic
	}{
		{"known tools", step("x_secure_get_secret", "", "success: true") + strings.Replace(step("x_p_list", "", "success: true"), "id: s", "id: t", 1) +
			strings.Replace(step("x_secure_authenticate", "", "success: true"), "id: s", "id: u", 1) +
			strings.Replace(step("core_auth_login", "server: secure", "success: true"), "id: s", "id: v", 1), nil},
		{"typo in a tool", step("x_secure_get_secrets", "", "success: true"),
			[]string{`22:11: steps[0].tool: "x_secure_get_secrets" is not a tool of mcp server "secure", which the SUT exposes as x_secure_get_secret, x_secure_authenticate (did you mean "x_secure_get_secret"?)`}},
		{"typo in a server", step("x_secur_get_secret", "", "success: true"),
			[]string{`22:11: steps[0].tool: "x_secur_get_secret" is no tool of the scenario's mcp_servers (did you mean "x_secure_get_secret"?)`}},
		{"server unknown", step("x_elsewhere_do_things", "", "success: true"),
			[]string{`22:11: warning: steps[0].tool: "x_elsewhere_do_things" names no server`}},
		{"meant to fail", step("x_secure_nothing", "", "success: false"), nil},
		{"added by a step", "  - id: add\n    tool: test_add_mock_tool\n    args: {server: secure, tool_name: later}\n    expected: {success: true}\n" +
			step("x_secure_later", "", "success: true"), nil},
		{"json_path typo", step("test_get_oauth_server_info", "server: idp", "success: true, json_path: {requests.refreshes: 1, requests.refresh: 1, subjects.alice.token: 1}"),
			[]string{`24:43: steps[0].expected.json_path: requests.refreshes: no such path in test_get_oauth_server_info's answer; did you mean requests.refresh?`}},
		{"json_path elsewhere", step("test_get_oauth_server_info", "server: idp", "success: true, json_path: {everything: 1}"),
			[]string{`24:43: warning: steps[0].expected.json_path: everything: not in test_get_oauth_server_info's documented answer (success, name,`}},
		{"json_path on an error text", step("test_revoke_token", "", "success: false, json_path: {tokens_revoked: 0}"),
			[]string{`24:43: steps[0].expected.json_path: a failed test_revoke_token answers its error text, not JSON: match it with contains or error_contains`}},
		{"step template typo", "  - id: greet\n    tool: x_secure_get_secret\n    expected: {success: true}\n" +
			step("x_secure_get_secret", `name: "{{ greeet.text }}"`, "success: true"),
			[]string{`26:19: steps[1].args: template names "greeet", which is no step id of this scenario (did you mean "greet"?)`}},
		{"duration without unit", step("test_advance_oauth_clock", "server: idp, duration: 660", "success: true"),
			[]string{`23:35: steps[0].args.duration: 660 has no unit: write "660s" or "660ms"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := diagsOf(t, loader, world+c.steps)
			if len(got) != len(c.want) {
				t.Fatalf("got %d diagnostics, want %d:\n%s", len(got), len(c.want), strings.Join(got, "\n"))
			}
			for i, w := range c.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("got  %s\nwant %s...", got[i], w)
				}
			}
		})
	}
}

// TestWorldChecksOffForOtherSUTs: a SUT that is not muster-shaped names its tools itself.
func TestWorldChecksOffForOtherSUTs(t *testing.T) {
	doc := world + "  - id: s\n    tool: x_secure_get_secrets\n    expected: {success: true}\n"
	if got := diagsOf(t, scenario.Loader{TestTools: loader.TestTools, Direct: true}, doc); len(got) != 0 {
		t.Errorf("with --sut-command or --sut-url: %v", got)
	}
	if got := diagsOf(t, loader, strings.Replace(doc, "pre_configuration:", "sut: {url: \"http://127.0.0.1:1/mcp\"}\npre_configuration:", 1)); len(got) != 0 {
		t.Errorf("with a sut block: %v", got)
	}
}

func TestMockTemplatesAgainstInputSchema(t *testing.T) {
	doc := strings.Replace(world, `"secret of {{ name }}"`, "\"secret of {{ nmae }}\"\n              - error: \"no {{ other }}\"", 1) +
		"  - id: s\n    tool: x_secure_get_secret\n    expected: {success: true}\n"
	got := diagsOf(t, loader, doc)
	want := []string{
		`14:38: pre_configuration.mcp_servers[0].config.tools[0].responses[0]: template {{ nmae }} names no property of the tool's input_schema (did you mean "name"?)`,
		`15:28: warning: pre_configuration.mcp_servers[0].config.tools[0].responses[1]: template {{ other }} names no property of the tool's input_schema (declared: name)`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("got  %s\nwant %s...", got[i], want[i])
		}
	}
}

// TestKeyBelongsUnder: a key of a nested block, written one level too high, is pointed to
// where it belongs.
func TestKeyBelongsUnder(t *testing.T) {
	steps := "  - id: s\n    tool: x_secure_get_secret\n    expected: {success: true}\n"
	for _, c := range []struct{ from, to, want string }{
		{"    - name: secure\n", "    - name: secure\n      scope: \"mcp:read\"\n", `7:7: pre_configuration.mcp_servers[0]: unknown key "scope" (it belongs under config.oauth:)`},
		{"        type: streamable-http\n", "        type: streamable-http\n        scope: \"mcp:read\"\n", `9:9: pre_configuration.mcp_servers[0].config: unknown key "scope" (it belongs under oauth:)`},
		{"steps:\n", "mcp_servers: []\nsteps:\n", `20:1: unknown key "mcp_servers" (it belongs under pre_configuration:)`},
	} {
		got := diagsOf(t, loader, strings.Replace(world, c.from, c.to, 1)+steps)
		if len(got) == 0 || !strings.HasPrefix(got[0], c.want) {
			t.Errorf("got %v\nwant %s", got, c.want)
		}
	}
}
