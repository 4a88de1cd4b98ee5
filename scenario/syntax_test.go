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

// TestSyntaxErrorNamesOpenQuote: a quote left open runs on to the next line that ends in a
// quote, and the document fails below both. The open quote is named: as the position, or,
// where the error stands below it, in the message.
func TestSyntaxErrorNamesOpenQuote(t *testing.T) {
	head := "name: a\nsteps:\n  - id: x\n    tool: y\n    args: \"q\n      a: 1\"\n      b: 2\n"
	hint := "a quoted string opens at 5:11 and runs on to line 6: is its closing quote missing on line 5?"
	for _, doc := range []string{head, head + "    expected:\n      success: true\n"} {
		_, diags := Loader{}.Parse("f.yaml", []byte(doc))
		if len(diags) != 1 {
			t.Fatalf("diagnostics = %v", diags)
		}
		if p := diags[0].Pos; !(p.Line == 5 && p.Col == 11) && !(p.Line == 7 && strings.Contains(diags[0].Msg, hint)) {
			t.Errorf("%v: neither at the open quote (5:11) nor naming it (%q)", diags[0], hint)
		}
	}
	// A string meant to span lines that is followed by a mistake gets no such guess.
	doc := "name: a\ndescription: \"two\n  lines\"\nsteps:\n  - id: x\n     tool: y\n"
	if _, diags := (Loader{}).Parse("f.yaml", []byte(doc)); len(diags) != 1 || strings.Contains(diags[0].Msg, "quoted string") {
		t.Errorf("diagnostics = %v", diags)
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

// TestTwoMistakesReportTheFirst: with two syntax mistakes in a file, the error stands where
// it stands for the first mistake alone, whatever the kinds of both and wherever the second
// is. Every pair of six kinds of mistake over the lines of a small scenario is tried.
func TestTwoMistakesReportTheFirst(t *testing.T) {
	base := []string{"name: a", "steps:", "  - id: x", "    tool: y", "    args:", "      a: 1", "      b: 2",
		"    expected:", "      success: true", "  - id: z", "    tool: w", "    expected: {success: true}"}
	mistakes := map[string]func(string) string{
		"over-indented": func(s string) string { return " " + s },
		"two colons":    func(s string) string { return s + ": q" },
		"open bracket":  func(s string) string { return s + " [a" },
		"tab":           func(s string) string { return "\t" + s },
		"open quote":    func(s string) string { return s + ` "q` },
		"outdented":     func(s string) string { return s[1:] },
	}
	parse := func(edits map[int]func(string) string) (Diagnostic, bool) {
		var doc strings.Builder
		for i, l := range base {
			if f := edits[i]; f != nil {
				l = f(l)
			}
			doc.WriteString(l + "\n")
		}
		_, diags := Loader{}.Parse("f.yaml", []byte(doc.String()))
		if len(diags) == 0 || !strings.Contains(diags[0].Msg, "YAML syntax error") {
			return Diagnostic{}, false
		}
		return diags[0], true
	}
	pairs := 0
	for n1, m1 := range mistakes {
		for n2, m2 := range mistakes {
			for i := 2; i < len(base); i++ {
				alone, ok := parse(map[int]func(string) string{i: m1})
				if !ok {
					continue // not a syntax error on its own at this line
				}
				// A second mistake below the line the first one is reported at leaves the
				// text up to there as it was.
				for j := alone.Pos.Line; j < len(base); j++ {
					both, ok := parse(map[int]func(string) string{i: m1, j: m2})
					if !ok {
						continue // the second mends the first (two lines indented alike)
					}
					pairs++
					if both.Pos != alone.Pos {
						t.Errorf("%s at line %d and %s at line %d: reported at %d:%d, the first alone at %d:%d",
							n1, i+1, n2, j+1, both.Pos.Line, both.Pos.Col, alone.Pos.Line, alone.Pos.Col)
					}
				}
			}
		}
	}
	if pairs < 500 {
		t.Fatalf("only %d pairs of mistakes tried", pairs)
	}
}
