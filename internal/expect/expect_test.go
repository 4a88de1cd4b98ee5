package expect

import (
	"strings"
	"testing"

	"github.com/muster-test/muster-test/internal/result"
	"github.com/muster-test/muster-test/scenario"
)

func ok(b bool) *bool { return &b }

func code(c int) *int { return &c }

func TestMatch(t *testing.T) {
	cases := []struct {
		name      string
		want, got any
		match     bool
	}{
		{"int vs float", 42, 42.0, true},
		{"string number vs number", "3", 3.0, true},
		{"number vs string number", 3, "3", true},
		{"bool vs string", true, "true", true},
		{"string vs bool", "false", true, false},
		{"different numbers", 1, 2.0, false},
		{"different strings", "a", "b", false},
		{"strings are not numbers", "1.10", "1.1", false},
		{"leading zeros matter in strings", "007", "7", false},
		{"string NaN matches itself", "NaN", "NaN", true},
		{"number vs number string with zeros", 7, "007", true},
		{"strings are case sensitive", "A", "a", false},
		{"partial map", map[string]any{"a": 1}, map[string]any{"a": 1.0, "b": "x"}, true},
		{"map missing key", map[string]any{"c": 1}, map[string]any{"a": 1.0}, false},
		{"map vs scalar", map[string]any{"a": 1}, "a", false},
		{"nested map", map[string]any{"a": map[string]any{"b": "x"}}, map[string]any{"a": map[string]any{"b": "x", "c": 1.0}}, true},
		{"list same", []any{1, "a"}, []any{1.0, "a"}, true},
		{"list longer", []any{1}, []any{1.0, 2.0}, false},
		{"list order", []any{2, 1}, []any{1.0, 2.0}, false},
		{"empty list means empty", []any{}, []any{}, true},
		{"empty list vs non-empty", []any{}, []any{1.0}, false},
		{"list of maps partial", []any{map[string]any{"name": "a"}}, []any{map[string]any{"name": "a", "x": 1.0}}, true},
		{"null matches null", nil, nil, true},
		{"null vs value", nil, "x", false},
		{"value vs null", "x", nil, false},
		{"scalar vs list", "x", []any{"x"}, false},
		{"yaml any-keyed map", map[any]any{"a": 1}, map[string]any{"a": 1.0}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Match(c.want, c.got); got != c.match {
				t.Fatalf("Match(%#v, %#v) = %v, want %v", c.want, c.got, got, c.match)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	success := &result.Result{Texts: []string{`{"servers":[{"name":"alpha","status":"connected"}],"count":2}`},
		Meta: map[string]any{"giantswarm.io/auth_required": []any{map[string]any{"server": "alpha"}}}}
	failed := result.Failure("tool 'x_foo' not found: tool not found")
	testTool := result.Object(map[string]any{"success": true, "status_code": 200})
	htmlish := result.Object(map[string]any{"success": true, "message": "a&b<c>"})
	cases := []struct {
		name  string
		exp   *scenario.Expectation
		res   *result.Result
		unmet []string // expectation names that must be reported, in order
	}{
		{"nil expects success", nil, success, nil},
		{"nil on failure", nil, failed, []string{"success"}},
		{"success true met", &scenario.Expectation{Success: ok(true)}, success, nil},
		{"success false on success", &scenario.Expectation{Success: ok(false)}, success, []string{"success"}},
		{"success false met", &scenario.Expectation{Success: ok(false)}, failed, nil},
		{"contains case-insensitive", &scenario.Expectation{Success: ok(true), Contains: []string{"ALPHA"}}, success, nil},
		{"contains missing", &scenario.Expectation{Success: ok(true), Contains: []string{"alpha", "beta"}}, success, []string{"contains[1]"}},
		{"contains reads error text on failure", &scenario.Expectation{Success: ok(false), Contains: []string{"not found"}}, failed, nil},
		{"not_contains present", &scenario.Expectation{Success: ok(true), NotContains: []string{"Connected"}}, success, []string{"not_contains[0]"}},
		{"not_contains on failure reads error", &scenario.Expectation{Success: ok(false), NotContains: []string{"not found"}}, failed, []string{"not_contains[0]"}},
		{"error_contains met", &scenario.Expectation{Success: ok(false), ErrorContains: []string{"TOOL NOT FOUND"}}, failed, nil},
		{"error_contains on success", &scenario.Expectation{Success: ok(true), ErrorContains: []string{"x"}}, success, []string{"error_contains[0]"}},
		{"json_path met", &scenario.Expectation{Success: ok(true), JSONPath: map[string]any{"servers.0.name": "alpha", "count": 2}}, success, nil},
		{"json_path wrong value", &scenario.Expectation{Success: ok(true), JSONPath: map[string]any{"servers.0.status": "auth_required"}}, success, []string{`json_path "servers.0.status"`}},
		{"json_path missing", &scenario.Expectation{Success: ok(true), JSONPath: map[string]any{"servers.1.name": "x"}}, success, []string{`json_path "servers.1.name"`}},
		{"json_path empty list", &scenario.Expectation{Success: ok(true), JSONPath: map[string]any{"servers": []any{}}}, success, []string{`json_path "servers"`}},
		{"json_path on _meta", &scenario.Expectation{Success: ok(true), JSONPath: map[string]any{`_meta."giantswarm.io/auth_required".0.server`: "alpha"}}, success, nil},
		{"json_path on _meta wrong", &scenario.Expectation{Success: ok(true), JSONPath: map[string]any{`_meta."giantswarm.io/auth_required".0.server`: "beta"}}, success, []string{`json_path "_meta.\"giantswarm.io/auth_required\".0.server"`}},
		{"json_path _meta absent", &scenario.Expectation{Success: ok(true), JSONPath: map[string]any{`_meta.x`: "y"}}, testTool, []string{`json_path "_meta.x"`}},
		{"json_path on non-JSON text", &scenario.Expectation{Success: ok(true), JSONPath: map[string]any{"a": 1}}, &result.Result{Texts: []string{"plain"}}, []string{`json_path "a"`}},
		{"json_path on test tool", &scenario.Expectation{Success: ok(true), JSONPath: map[string]any{"success": true}}, testTool, nil},
		{"status_code met", &scenario.Expectation{Success: ok(true), StatusCode: code(200)}, testTool, nil},
		{"status_code differs", &scenario.Expectation{Success: ok(true), StatusCode: code(401)}, testTool, []string{"status_code"}},
		{"status_code absent", &scenario.Expectation{Success: ok(true), StatusCode: code(200)}, success, []string{"status_code"}},
		{"contains HTML characters of a test tool", &scenario.Expectation{Success: ok(true), Contains: []string{"a&b<c>"}}, htmlish, nil},
		{"not_contains HTML characters of a test tool", &scenario.Expectation{Success: ok(true), NotContains: []string{"a&b<c>"}}, htmlish, []string{"not_contains[0]"}},
		{"all reported", &scenario.Expectation{Success: ok(false), Contains: []string{"zzz"}}, success, []string{"success", "contains[0]"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Check(c.exp, c.res)
			var names []string
			for _, u := range got {
				names = append(names, u.Expectation)
			}
			if strings.Join(names, "|") != strings.Join(c.unmet, "|") {
				t.Fatalf("unmet = %q, want %q (%v)", names, c.unmet, got)
			}
		})
	}
}

// TestUnmetMessage: the one-line message says what was wanted and, for a value, what came
// back with both types; it never quotes the whole answer, which the report shows once, apart
// (Got keeps it).
func TestUnmetMessage(t *testing.T) {
	exp := &scenario.Expectation{Success: ok(true), Contains: []string{"beta"}}
	got := Check(exp, &result.Result{Texts: []string{"only alpha here"}})
	if len(got) != 1 {
		t.Fatalf("want one unmet, got %v", got)
	}
	if msg := got[0].String(); msg != `contains[0]: "beta" not in the answer` {
		t.Errorf("message %q", msg)
	}
	if got[0].Got != "only alpha here" {
		t.Errorf("Got = %q, want the answer", got[0].Got)
	}
	answer := result.Object(map[string]any{"success": true, "count": 1, "requests": map[string]any{"refresh": 2, "token": 3}})
	for _, c := range []struct {
		path string
		want any
		msg  string
	}{
		{"count", "2", `json_path "count": expected "2" (string), got 1 (number)`},
		{"count", true, `json_path "count": expected true (boolean), got 1 (number)`},
		{"requests.refreshes", 1, `json_path "requests.refreshes": expected 1 (number), got no "refreshes" in requests, which has: refresh, token`},
		{"nothing.here", 1, `json_path "nothing.here": expected 1 (number), got no "nothing" in the answer, which has: count, requests, success`},
		{"count.x", 1, `json_path "count.x": expected 1 (number), got count is 1 (number), which has no "x"`},
	} {
		u := Check(&scenario.Expectation{Success: ok(true), JSONPath: map[string]any{c.path: c.want}}, answer)
		if len(u) != 1 || u[0].String() != c.msg {
			t.Errorf("%s: %v\nwant %s", c.path, u, c.msg)
		}
	}
	long := strings.Repeat("x", 2*MaxShown)
	if s := Trim(long); len(s) > MaxShown+40 || !strings.Contains(s, "more bytes") {
		t.Errorf("Trim did not shorten: %d bytes", len(s))
	}
}
