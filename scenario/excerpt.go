package scenario

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Lines of context an excerpt shows before the line it points at, and after it: enough to
// see the key's parent and what follows, as hurl shows them.
const (
	excerptBefore = 2
	excerptAfter  = 1
	// excerptWidth cuts long source lines: a minified JSON value must not fill the screen.
	excerptWidth = 120
)

// Excerpt is the source around line:col of a file, each line behind a gutter with its
// number, and a caret line under the column (a run of carets under the word that starts
// there):
//
//	  |
//	3 |   - name: secure
//	4 |     scope: "mcp:read"
//	  |     ^^^^^
//	5 |     config:
//
// It is "" when line is not in src. A column of 0 (a position known to the line only)
// puts the caret under the line's first character.
func Excerpt(src []byte, line, col int) string {
	lines := strings.Split(string(src), "\n")
	if line < 1 || line > len(lines) {
		return ""
	}
	first, last := max(1, line-excerptBefore), min(len(lines), line+excerptAfter)
	for last > line && strings.TrimSpace(lines[last-1]) == "" {
		last--
	}
	// Indented, so that every line of an excerpt starts with a space: a reader (or a grep)
	// tells the diagnostics from their excerpts at a glance.
	width := len(fmt.Sprint(last))
	gutter := strings.Repeat(" ", width+3) + "|"
	var b strings.Builder
	b.WriteString(gutter + "\n")
	for n := first; n <= last; n++ {
		text := clipLine(strings.TrimRight(lines[n-1], "\r"))
		fmt.Fprintf(&b, "  %*d | %s\n", width, n, text)
		if n == line {
			b.WriteString(gutter + " " + caret(text, col) + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

func clipLine(s string) string {
	if utf8.RuneCountInString(s) <= excerptWidth {
		return s
	}
	return string([]rune(s)[:excerptWidth-1]) + "…"
}

// caret is the marker line under text: spaces (tabs kept, so the caret lines up in a
// terminal) up to col, then one caret per character of the word there.
func caret(text string, col int) string {
	runes := []rune(text)
	if col < 1 {
		col = 1
		for col <= len(runes) && (runes[col-1] == ' ' || runes[col-1] == '\t') {
			col++
		}
	}
	var b strings.Builder
	for i := 0; i < col-1 && i < len(runes); i++ {
		if runes[i] == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	// What the caret underlines: a template, one bracket, a quoted scalar to its closing
	// quote, else the word up to the next separator.
	rest := string(runes[min(col-1, len(runes)):])
	n := 0
	switch {
	case strings.HasPrefix(rest, "{{") && strings.Contains(rest, "}}"):
		n = utf8.RuneCountInString(rest[:strings.Index(rest, "}}")]) + 2
	case strings.HasPrefix(rest, "[") || strings.HasPrefix(rest, "{"):
		n = 1
	case rest != "" && (rest[0] == '"' || rest[0] == '\'') && strings.IndexByte(rest[1:], rest[0]) >= 0:
		n = utf8.RuneCountInString(rest[:strings.IndexByte(rest[1:], rest[0])+2])
	default:
		for _, r := range rest {
			if strings.ContainsRune(" \t:,]}#", r) {
				break
			}
			n++
		}
	}
	return b.String() + strings.Repeat("^", max(1, n))
}

// templatePos is the position of the first `{{ ... }}` in scalar n that mentions name,
// when it stands on the scalar's first line as written (a template in a quoted or plain
// string); else the scalar's own position.
func (d *decoder) templatePos(n *yaml.Node, name string) Pos {
	p := d.pos(n)
	if n.Line < 1 || n.Line > len(d.lines) || n.Column < 1 {
		return p
	}
	line := []rune(d.lines[n.Line-1])
	if n.Column > len(line) {
		return p
	}
	rest := string(line[n.Column-1:])
	for i := 0; ; {
		j := strings.Index(rest[i:], "{{")
		if j < 0 {
			return p
		}
		j += i
		k := strings.Index(rest[j:], "}}")
		if k < 0 {
			return p
		}
		if strings.Contains(rest[j:j+k], name) {
			p.Col = n.Column + utf8.RuneCountInString(rest[:j])
			return p
		}
		i = j + 2
	}
}

// Detail is the diagnostic as a person reads it: its line, then the source excerpt when
// there is one.
func (d Diagnostic) Detail() string {
	if d.Excerpt == "" {
		return d.String()
	}
	return d.String() + "\n" + d.Excerpt
}
