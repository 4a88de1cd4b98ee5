package scenario

import (
	"bytes"
	"errors"
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
// is read from that line by what the message says went wrong.
func (d *decoder) syntaxError(data []byte, err error) {
	msg := lineMessage(err.Error())
	p := lineDiag(d.file, &yaml.Node{}, err.Error())
	if p.Line > 0 {
		lines := strings.SplitAfter(string(data), "\n")
		p.Line = firstFailingLine(lines, p.Line)
		p.Col = syntaxColumn(lines[p.Line-1], msg)
	}
	d.errorAt(p, "YAML syntax error: %s", msg)
}

// firstFailingLine is the smallest n >= from such that lines[:n] does not parse, found by
// bisection (a prefix that fails keeps failing as lines are added, but for a quoted
// string spanning lines, which the bisection may stop inside: it still lands at or after
// from, the library's own line). It is from when no prefix in range fails.
func firstFailingLine(lines []string, from int) int {
	from = min(max(from, 1), len(lines))
	n := sort.Search(len(lines)-from+1, func(i int) bool {
		return !parses(strings.Join(lines[:from+i], ""))
	})
	if from+n > len(lines) {
		return from
	}
	return from + n
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
// the opening quote or bracket that never closes, else the line's first character, which
// is where an indentation mistake shows.
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
	case strings.Contains(msg, "end of stream"), strings.Contains(msg, "did not find expected ','"),
		strings.Contains(msg, "did not find expected ']'"), strings.Contains(msg, "did not find expected '}'"):
		if i := unclosed(line); i >= 0 {
			return at(i)
		}
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
