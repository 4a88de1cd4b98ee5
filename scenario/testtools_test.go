package scenario

import (
	"strings"
	"testing"
	"time"
)

func TestCheckArgs(t *testing.T) {
	tool := TestTool{Name: "test_x", Args: []ToolArg{
		{Name: "name", Required: true}, {Name: "subject"}, {Name: "for", Kind: ArgSeconds}, {Name: "wait", Kind: ArgDuration}, {Name: "args", Kind: ArgObject},
		{Name: "argv", Kind: ArgList}, {Name: "flag", Kind: ArgBool}, {Name: "body", Kind: ArgAny},
		{Name: "outcome", OneOf: []string{"approve", "deny"}}}}
	for _, good := range []map[string]any{
		{"name": "alice"},
		{"name": "alice", "subject": "a@x", "for": 30, "args": map[string]any{"k": 1}, "argv": []any{"ls", "-l"}, "flag": false,
			"body": []any{1, "x"}},
		{"name": "alice", "for": "15m", "wait": "660ms", "other": true}, // undeclared ones are the loader's warning
		{"name": "{{ .who }}", "for": "{{ .later }}"},                   // templated: checked once resolved
		{"name": "a", "outcome": "deny"},
		{"name": "a", "outcome": "{{ pick.outcome }}"},
	} {
		if err := tool.CheckArgs(good); err != nil {
			t.Errorf("%v: %v", good, err)
		}
	}
	for _, c := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{}, `missing required argument "name"`},
		{map[string]any{"name": ""}, `argument "name" must not be empty`},
		{map[string]any{"name": 3}, `argument "name" must be a string, got 3 (int)`},
		{map[string]any{"name": "a", "subject": true}, `argument "subject" must be a string`},
		{map[string]any{"name": "a", "for": "soon"}, `"soon" is neither seconds nor a duration`},
		{map[string]any{"name": "a", "wait": 660}, `argument "wait" 660 has no unit: write "660s" or "660ms"`},
		{map[string]any{"name": "a", "wait": "660"}, `argument "wait" 660 has no unit`},
		{map[string]any{"name": "a", "wait": "soon"}, `"soon" is neither seconds nor a duration`},
		{map[string]any{"name": "a", "args": []any{1}}, `argument "args" must be a map, got a list`},
		{map[string]any{"name": "a", "argv": "ls -l"}, `argument "argv" must be a list of strings, got the string "ls -l"`},
		{map[string]any{"name": "a", "argv": []any{"ls", 3}}, `argument "argv" must be a list of strings; item 1 is 3 (int)`},
		{map[string]any{"name": "a", "flag": "yes"}, `argument "flag" must be true or false`},
		{map[string]any{"name": "a", "outcome": "dny"}, `argument "outcome" "dny": want one of approve, deny (did you mean "deny"?)`},
		{map[string]any{"name": "a", "outcome": 1}, `argument "outcome" must be a string`},
	} {
		err := tool.CheckArgs(c.args)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want %q", c.args, err, c.want)
		}
	}
}

func TestToolDuration(t *testing.T) {
	for in, want := range map[any]time.Duration{30: 30 * time.Second, 1.5: 1500 * time.Millisecond, "45": 45 * time.Second,
		"15m": 15 * time.Minute, nil: 0, -5: -5 * time.Second} {
		if got, err := ToolDuration(in); err != nil || got != want {
			t.Errorf("%v: got %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []any{"soon", true, []any{1}} {
		if got, err := ToolDuration(bad); err == nil {
			t.Errorf("%v: accepted as %v", bad, got)
		}
	}
}

func TestSignature(t *testing.T) {
	tool := TestTool{Name: "test_x", Args: []ToolArg{{Name: "server", Required: true}, {Name: "scope"}}}
	if got := tool.Signature(); got != "test_x {server, scope?}" {
		t.Fatal(got)
	}
}
