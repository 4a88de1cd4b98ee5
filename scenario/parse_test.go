package scenario_test

import (
	"fmt"
	"github.com/muster-test/muster-test/scenario"
	"strings"
	"testing"
)

// ok is a minimal valid step list for inline documents.
const ok = "steps:\n  - id: a\n    tool: t\n    expected: {success: true}\n"

func TestParseEdgeCases(t *testing.T) {
	tests := []struct {
		name, doc string
		errs      []want
	}{
		{"empty file", "", []want{{"", "empty file"}}},
		{"comments only", "# nothing\n", []want{{"", "empty file"}}},
		{"null document", "---\n~\n", []want{{"", "empty document"}}},
		{"root is a list", "- a\n", []want{{"1:1", "expected a map, got a list"}}},
		{"second document", "name: x\n" + ok + "---\nname: y\n", []want{{"6:1", "a second YAML document starts here"}}},
		{"key twice", "name: x\nname: y\n" + ok, []want{{"2:1", `key "name" given twice (first at line 1)`}}},
		{"duplicate key in args", "name: x\nsteps:\n  - {id: a, tool: t, expected: {success: true}, args: {k: 1, k: 2}}\n",
			[]want{{"3", `mapping key "k" already defined`}}},
		{"non-string key", "name: x\n? [a]\n: b\n" + ok, []want{{"2:3", "expected a key name, got a list"}}},
		{"negative duration", "name: x\ntimeout: -5s\n" + ok, []want{{"2:10", `duration "-5s" must not be negative`}}},
		{"steps empty", "name: x\nsteps: []\n", []want{{"2:8", "at least one step is required"}}},
		{"null step", "name: x\nsteps:\n  -\n", []want{
			{"3:4", `steps[0]: missing required key "id"`}, {"3:4", `missing required key "tool"`}, {"3:4", `missing required key "expected"`}}},
		{"merge keys and aliases", "name: x\nsteps:\n  - &base {id: a, tool: t, expected: &e {success: true}}\n  - {<<: *base, id: b}\n  - {id: c, tool: t, expected: *e}\n", nil},
		{"merge of a list", "name: x\nsteps:\n  - {<<: [1], id: a, tool: t, expected: {success: true}}\n", []want{{"3:6", "a merge key (<<) needs a map"}}},
		{"alias cycle", "name: x\nsteps: &s\n  - {id: a, tool: t, expected: {success: true}, cleanup: *s}\n",
			[]want{{"3:58", "alias *s refers to a value that contains it"}}},
		{"cleanup item needs only tool", "name: x\nsteps:\n  - {id: a, tool: t, expected: {success: true}, cleanup: [{tool: d}, {args: {}}]}\n",
			[]want{{"3:70", `steps[0].cleanup[1]: missing required key "tool"`}}},
		{"nested cleanup", "name: x\n" + ok + "cleanup:\n  - {id: c, tool: t, expected: {success: true}, cleanup: [{tool: d}]}\n",
			[]want{{"7:58", "cleanup[0].cleanup: only steps[] may register cleanup items"}}},
		{"mock tool on a real server", mocks + "steps:\n  - {id: a, tool: test_call_mock_tool, args: {server: real, tool: x}, expected: {success: true}}\n",
			[]want{{"10:55", `"real" is not a mock MCP server (its config has no tools)`}}},
		{"auth status of a real server", mocks + "steps:\n  - {id: a, tool: test_read_auth_status, args: {server: real}, expected: {success: true}}\n", nil},
		{"inject token names an IdP", mocks + "steps:\n  - {id: a, tool: test_inject_token, args: {server: idp, token: x}, expected: {success: true}}\n",
			[]want{{"10:53", `"idp" is a mock IdP, but the server of test_inject_token names an mcp_servers entry (defined: mock, real)`}}},
		{"revoke without server", mocks + "steps:\n  - {id: a, tool: test_revoke_token, expected: {success: true}}\n", nil},
		{"server not a string", mocks + "steps:\n  - {id: a, tool: test_revoke_token, args: {server: [idp]}, expected: {success: true}}\n",
			[]want{{"10:53", "steps[0].args.server: must be a string, got a list"}}},
		{"template to itself", "name: x\nsteps:\n  - {id: a, tool: t, args: {x: '{{ a.b }}'}, expected: {success: true}}\n",
			[]want{{"3:32", `template refers to step "a" itself`}}},
		{"cleanup templates see all steps", "name: x\n" + ok + "cleanup:\n  - {id: c, tool: t, args: {x: '{{ a.id }}', y: '{{ d.id }}'}, expected: {success: true}}\n  - {id: d, tool: t, expected: {success: true}}\n",
			[]want{{"7:49", `template refers to step "d" (line 8), which runs later`}}},
		{"expected templates: a later step, a typo, an earlier step", "name: x\nsteps:\n  - {id: a, tool: t, expected: {success: true}}\n" +
			"  - {id: b, tool: t, expected: {success: true, not_contains: ['{{ c.x }}'], json_path: {y: '{{ ab.x }}', z: '{{ a.x }}'}}}\n" +
			"  - {id: c, tool: t, expected: {success: true}}\n",
			[]want{{"4:63", `steps[1].expected: template refers to step "c" (line 5), which runs later`},
				{"4:93", `steps[1].expected: template names "ab", which is no step id of this scenario (did you mean "a"?)`}}},
		{"an empty json_path", "name: x\nsteps:\n  - {id: b, tool: t, expected: {success: true, json_path: {'': 1}}}\n",
			[]want{{"3:60", `steps[0].expected.json_path: an empty path names no field of the answer`}}},
		{"user created in steps known in cleanup", "name: x\nsteps:\n  - {id: u, tool: test_create_user, args: {name: al}, expected: {success: true}}\ncleanup:\n  - {id: c, tool: t, as_user: al, expected: {success: true}}\n", nil},
		{"parallel 1 and retry 0 are fine", "name: x\nsteps:\n  - {id: a, tool: t, parallel: 1, retry: {count: 0}, expected: {success: true}}\n", nil},
		{"toolPrefix case hint", "name: x\npre_configuration:\n  mcp_servers:\n    - name: m\n      config: {toolprefix: p, tools: []}\n" + ok,
			[]want{{"5:16", `unknown key "toolprefix" (did you mean "toolPrefix"?)`}}},
		{"mock tool without a name", "name: x\npre_configuration:\n  mcp_servers:\n    - name: m\n      config:\n        tools: [{name: a}, {description: d}]\n" + ok,
			[]want{{"6:28", `pre_configuration.mcp_servers[0].config.tools[1]: missing required key "name"`}}},
		{"mock tools of one name", "name: x\npre_configuration:\n  mcp_servers:\n    - name: m\n      config:\n        tools:\n          - {name: a}\n          - name: a\n" + ok,
			[]want{{"8:19", `pre_configuration.mcp_servers[0].config.tools[1]: name "a" is defined twice`}}},
		{"mock delay is a time.Duration", "name: x\npre_configuration:\n  mcp_servers:\n    - name: m\n      config:\n        tools: [{name: a, responses: [{delay: 5}]}]\n" + ok,
			[]want{{"6:47", `bare number 5 is not a duration`}}},
		{"idp duration is a time.Duration", "name: x\npre_configuration:\n  mock_oauth_servers:\n    - {name: i, token_lifetime: -1s}\n" + ok,
			[]want{{"4:33", `pre_configuration.mock_oauth_servers[0].token_lifetime: duration "-1s" must not be negative`}}},
		{"idp key hint", "name: x\npre_configuration:\n  mock_oauth_servers:\n    - {name: i, client_secrt: s}\n" + ok,
			[]want{{"4:17", `unknown key "client_secrt" (did you mean "client_secret"?)`}}},
		{"idp runtime fields are not keys", "name: x\npre_configuration:\n  mock_oauth_servers:\n    - {name: i, port: 1, issue_refresh_tokens: false}\n" + ok,
			[]want{{"4:17", `unknown key "port"`}, {"4:26", `unknown key "issue_refresh_tokens"`}}},
		{"mock runtime fields are not keys", "name: x\npre_configuration:\n  mcp_servers:\n    - name: m\n      config: {host: h, tools: []}\n" + ok,
			[]want{{"5:16", `unknown key "host"`}}},
		{"no hint when nothing is close", "name: x\nzzz: 1\n" + ok, []want{{"2:1", `unknown key "zzz"`}}},
		{"bool for string", "name: true\n" + ok, []want{{"1:7", "expected a string, got a boolean (true)"}, {"1:1", `missing required key "name"`}}},
		{"float for int", "name: x\nsteps:\n  - {id: a, tool: t, expected: {success: true, status_code: 2.5}}\n", []want{{"3:61", "expected an integer, got a number (2.5)"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, diags := loader.Parse("in.yaml", []byte(tt.doc))
			var errs []scenario.Diagnostic
			for _, d := range diags {
				if !d.Warning {
					errs = append(errs, d)
				}
			}
			// Errors at the same position come in any order: compare as sets there.
			checkUnordered(t, errs, tt.errs)
			if (s == nil) != (len(tt.errs) > 0) {
				t.Errorf("scenario nil = %v with %d errors", s == nil, len(errs))
			}
		})
	}
}

// mocks is a pre_configuration with one IdP, one mock server and one real server.
const mocks = `name: x
pre_configuration:
  mock_oauth_servers: [{name: idp}]
  mcp_servers:
    - name: mock
      config: {type: sse, tools: [{name: op}]}
    - name: real
      config: {url: "http://127.0.0.1:1/mcp"}
`

func checkUnordered(t *testing.T, got []scenario.Diagnostic, wants []want) {
	t.Helper()
	used := make([]bool, len(got))
	for _, w := range wants {
		found := false
		for i, g := range got {
			pos := strings.TrimPrefix(strings.TrimPrefix(g.Pos.String(), "in.yaml"), ":")
			if !used[i] && pos == w.at && strings.Contains(g.Msg, w.msg) {
				used[i], found = true, true
				break
			}
		}
		if !found {
			t.Errorf("missing in.yaml:%s: ...%s... among %v", w.at, w.msg, got)
		}
	}
	for i, g := range got {
		if !used[i] {
			t.Errorf("unexpected diagnostic %s", g)
		}
	}
}

func TestMergeKeyValues(t *testing.T) {
	s, diags := loader.Parse("in.yaml", []byte("name: x\nsteps:\n  - &base {id: a, tool: t, timeout: 3s, expected: {success: true}}\n  - {<<: *base, id: b}\n"))
	if s == nil {
		t.Fatalf("errors: %v", diags)
	}
	if got := fmt.Sprint(s.Steps[1].ID, s.Steps[1].Tool, s.Steps[1].Timeout); got != "bt3s" {
		t.Errorf("merged step = %q, want id b, tool t, timeout 3s", got)
	}
}

// TestAliasExpansionBounded: a small file that expands to millions of steps is refused
// quickly instead of exhausting memory.
func TestAliasExpansionBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: bomb\nsteps:\n  - &s0 {id: a, tool: t, expected: {success: true}}\n")
	for i := 1; i <= 7; i++ {
		fmt.Fprintf(&b, "  - &s%d {id: a, tool: t, expected: {success: true}, cleanup: [%s]}\n", i,
			strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*s%d, ", i-1), 10), ", "))
	}
	s, diags := loader.Parse("bomb.yaml", []byte(b.String()))
	if s != nil {
		t.Fatal("an over-expanded document must not load")
	}
	for _, d := range diags {
		if strings.Contains(d.Msg, fmt.Sprintf("holds more than %d values", scenario.MaxValues)) {
			return
		}
	}
	t.Errorf("no expansion error among %d diagnostics", len(diags))
}

// TestMergeExpansionBounded: merge keys that merge merges expand like aliases and are
// bounded the same way.
func TestMergeExpansionBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: bomb\nsteps:\n  - &m0 {id: a, tool: t, expected: {success: true}}\n")
	for i := 1; i <= 12; i++ {
		fmt.Fprintf(&b, "  - &m%d {<<: [%s]}\n", i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*m%d, ", i-1), 8), ", "))
	}
	s, diags := loader.Parse("bomb.yaml", []byte(b.String()))
	if s != nil {
		t.Fatal("an over-expanded document must not load")
	}
	n := 0
	for _, d := range diags {
		if strings.Contains(d.Msg, fmt.Sprintf("holds more than %d values", scenario.MaxValues)) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("want the expansion error once, got %d among %v", n, diags)
	}
}

// TestChecksThatCheckNothingWarn: an empty string to look for, or a json_path without
// paths, loads with a warning at its spot, since the check cannot tell answers apart.
func TestChecksThatCheckNothingWarn(t *testing.T) {
	doc := "name: x\nsteps:\n  - {id: a, tool: t, expected: {success: true, contains: [ok, ''], json_path: {}}}\n"
	s, diags := scenario.Loader{}.Parse("in.yaml", []byte(doc))
	if s == nil {
		t.Fatal(diags)
	}
	got := fmt.Sprint(diags)
	for _, want := range []string{
		`in.yaml:3:63: warning: steps[0].expected.contains[1]: an empty string is in every answer, so this checks nothing`,
		`in.yaml:3:79: warning: steps[0].expected.json_path: no paths given, so this checks nothing`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in %s", want, got)
		}
	}
}
