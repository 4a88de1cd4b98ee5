package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// syntaxError reports a parse error of yaml.v3 at the place it is about. The library's
// message carries a line only, and for an error found inside a block (a bad indentation
// deep in a list, an unclosed bracket) the line where that block starts, which can be far
// above the mistake. The mistake is on the first line at which the document stops parsing:
// the shortest prefix of whole lines, from the library's line on, that fails. The column
// is read from that line by what the message says went wrong. A quoted string that a
// missing quote left open until the next quote makes the document fail below the
// mistake: the message then names where that string began.
func (d *decoder) syntaxError(data []byte, err error) {
	msg := lineMessage(err.Error())
	p := lineDiag(d.file, &yaml.Node{}, err.Error())
	if p.Line > 0 {
		lines := strings.SplitAfter(string(data), "\n")
		p.Line = firstFailingLine(lines, p.Line)
		p.Col = syntaxColumn(lines[p.Line-1], msg)
		if q := quoteEndingAbove(lines, p.Line); q != nil {
			msg += fmt.Sprintf(" (a quoted string opens at %d:%d and runs on to line %d: is its closing quote missing on line %d?)",
				q.Line, q.Column, p.Line-1, q.Line)
		}
	}
	d.errorAt(p, "YAML syntax error: %s", msg)
}

// firstFailingLine is the smallest n >= from such that lines[:n] does not parse, found by
// bisection (a prefix that fails keeps failing as lines are added, but for a quoted
// string spanning lines, which the bisection may stop inside: it still lands at or after
// from, the library's own line). It is from when no prefix in range fails. When the
// prefix just above from fails too, the library's line is below the mistake (an open
// bracket that a later mistake made it read on past): the lines above are tried down to
// the first failing prefix.
func firstFailingLine(lines []string, from int) int {
	from = min(max(from, 1), len(lines))
	n := sort.Search(len(lines)-from+1, func(i int) bool {
		return !parses(strings.Join(lines[:from+i], ""))
	})
	if from+n > len(lines) {
		return from
	}
	n += from
	for n > 1 && n == from && !parses(strings.Join(lines[:n-1], "")) {
		n--
		from--
	}
	return n
}

// quoteEndingAbove is the quoted scalar that starts above line n-1 and closes on it, in
// the document of lines[:n-1], nil for none: the likeliest missing quote when line n is
// the first that fails.
func quoteEndingAbove(lines []string, n int) *yaml.Node {
	if n < 3 {
		return nil
	}
	var doc yaml.Node
	if yaml.Unmarshal([]byte(strings.Join(lines[:n-1], "")), &doc) != nil {
		return nil
	}
	var found *yaml.Node
	var walk func(*yaml.Node)
	walk = func(x *yaml.Node) {
		if x.Kind == yaml.ScalarNode && x.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 &&
			x.Line < n-1 && closingLine(lines, x) == n-1 {
			found = x
		}
		for _, c := range x.Content {
			walk(c)
		}
	}
	walk(&doc)
	return found
}

// closingLine is the line of the quote that closes the quoted scalar x, 0 when not found.
func closingLine(lines []string, x *yaml.Node) int {
	quote := byte('"')
	if x.Style&yaml.SingleQuotedStyle != 0 {
		quote = '\''
	}
	line := []rune(lines[x.Line-1])
	if x.Column > len(line) {
		return 0
	}
	rest := string(line[x.Column:]) // after the opening quote
	for l := x.Line; ; {
		for i := 0; i < len(rest); i++ {
			switch {
			case quote == '"' && rest[i] == '\\':
				i++
			case rest[i] == quote && quote == '\'' && i+1 < len(rest) && rest[i+1] == '\'':
				i++
			case rest[i] == quote:
				return l
			}
		}
		if l++; l > len(lines) {
			return 0
		}
		rest = lines[l-1]
	}
}

func parses(doc string) (ok bool) {
	defer func() {
		if recover() != nil { // a scenario file must never crash the runner
			ok = false
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(doc)))
	for {
		var n yaml.Node
		switch err := dec.Decode(&n); {
		case errors.Is(err, io.EOF):
			return true
		case err != nil:
			return false
		}
	}
}

// syntaxColumn is the 1-based column on line that a yaml.v3 message points at: the tab of
// a tab error, the second `: ` of "mapping values are not allowed" (`description: a: b`),
// else the opening quote or bracket that the line does not close, else the line's first
// character, which is where an indentation mistake shows.
func syntaxColumn(line, msg string) int {
	line = strings.TrimRight(line, "\r\n")
	at := func(i int) int { return len([]rune(line[:i])) + 1 }
	first := len(line) - len(strings.TrimLeft(line, " \t"))
	switch {
	case strings.Contains(msg, "tab character"):
		if i := strings.IndexByte(line, '\t'); i >= 0 {
			return at(i)
		}
	case strings.Contains(msg, "mapping values are not allowed"):
		// Only a second colon outside any flow map or quote: `k: {a: 1}` is fine.
		plain := line
		if k := strings.IndexAny(line, "{[\"'"); k >= 0 {
			plain = line[:k]
		}
		if i := strings.Index(plain, ": "); i >= 0 {
			if j := strings.Index(plain[i+2:], ": "); j >= 0 {
				return at(i + 2 + j)
			}
		}
	}
	// An opener the line leaves open is the likeliest mistake whatever the message says
	// (an unclosed bracket read on past into the next mistake's line).
	if i := unclosed(line); i >= 0 {
		return at(i)
	}
	if first == len(line) {
		return 1
	}
	return at(first)
}

// unclosed is the byte offset of the last quote or bracket on line that the line does not
// close, -1 for none.
func unclosed(line string) int {
	var open []int
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
				open = open[:len(open)-1]
			}
		case c == '"' || c == '\'':
			if c == '\'' && i > 0 && line[i-1] != ' ' && !strings.ContainsRune("[{,:", rune(line[i-1])) {
				continue // an apostrophe inside a plain word
			}
			quote = c
			open = append(open, i)
		case c == '[' || c == '{':
			open = append(open, i)
		case (c == ']' || c == '}') && len(open) > 0:
			open = open[:len(open)-1]
		}
	}
	if len(open) == 0 {
		return -1
	}
	return open[len(open)-1]
}
