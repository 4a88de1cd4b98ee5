package scenario

import (
	"strings"
	"testing"
)

// TestSyntaxErrorPosition: a YAML syntax error stands on the line of the mistake, with a
// column, even where yaml.v3 names the line its enclosing block starts on.
func TestSyntaxErrorPosition(t *testing.T) {
	cases := []struct {
		name, doc string
		line, col int
		excerpt   string
	}{
		{"two colons", "name: a\ndescription: a: b\nsteps: []\n", 2, 15, "    |               ^"},
		{"over-indented key", "name: a\nsteps:\n  - id: x\n    tool: y\n     expected: {success: true}\n", 5, 6, "    |      ^^^^^^^^"},
		{"unclosed bracket", "name: a\nsteps:\n  - id: x\n    tool: [a, b\n    expected: {}\n", 4, 11, "    |           ^"},
		{"tab", "name: a\nsteps:\n  - id: x\n\ttool: y\n", 4, 1, ""},
		{"unclosed quote", "name: a\nsteps:\n  - id: x\n    args: {a: \"b}\n    tool: y\n", 4, 15, ""},
		{"key outdented in a list", "name: a\nsteps:\n  - id: x\n    tool: y\n    expected:\n      success: true\n  bad: : x\n", 7, 3, ""},
		{"list item outdented", "name: a\npre_configuration:\n  mcp_servers:\n    - name: s\n      config:\n        tools:\n          - name: t\n        - name: u\n", 8, 9, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, diags := Loader{}.Parse("f.yaml", []byte(c.doc))
			if len(diags) != 1 || !strings.Contains(diags[0].Msg, "YAML syntax error") {
				t.Fatalf("diagnostics = %v", diags)
			}
			if p := diags[0].Pos; p.Line != c.line || p.Col != c.col {
				t.Errorf("at %d:%d, want %d:%d (%s)\n%s", p.Line, p.Col, c.line, c.col, diags[0].Msg, diags[0].Excerpt)
			}
			if c.excerpt != "" && !strings.Contains(diags[0].Excerpt, c.excerpt+"\n") && !strings.HasSuffix(diags[0].Excerpt, c.excerpt) {
				t.Errorf("excerpt lacks %q:\n%s", c.excerpt, diags[0].Excerpt)
			}
		})
	}
}

func TestExcerpt(t *testing.T) {
	src := []byte("name: a\npre_configuration:\n  mcp_servers:\n    - name: secure\n      scope: \"mcp:read\"\n      config: {}\n")
	want := "    |\n" +
		"  3 |   mcp_servers:\n" +
		"  4 |     - name: secure\n" +
		"  5 |       scope: \"mcp:read\"\n" +
		"    |       ^^^^^\n" +
		"  6 |       config: {}"
	if got := Excerpt(src, 5, 7); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if got := Excerpt(src, 5, 14); !strings.Contains(got, "    |              ^^^^^^^^^^\n") {
		t.Errorf("a quoted value is underlined to its closing quote:\n%s", got)
	}
	if got := Excerpt([]byte(`a: "x {{ y }} z"`), 1, 7); !strings.HasSuffix(got, "  |       ^^^^^^^") {
		t.Errorf("a template inside a string is underlined to its closing braces:\n%s", got)
	}
	if Excerpt(src, 0, 1) != "" || Excerpt(src, 99, 1) != "" {
		t.Error("a line outside the file has no excerpt")
	}
}
