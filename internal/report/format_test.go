package report

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestTrimHead(t *testing.T) {
	for _, tc := range []struct {
		name         string
		in           string
		lines, bytes int
		want         string
	}{
		{"short kept", "a\nb\n", 5, 100, "a\nb"},
		{"lines cut", "a\nb\nc\nd", 2, 100, "a\nb\n… (2 more lines)"},
		{"bytes cut", "abcdefghij", 5, 4, "abcd\n… (6 more bytes)"},
		{"cut on a rune boundary", "ééé", 5, 3, "é\n… (4 more bytes)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := trimHead(tc.in, tc.lines, tc.bytes); got != tc.want {
				t.Errorf("trimHead = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTailLines(t *testing.T) {
	in := strings.Join([]string{"1", "2", "3", "4", "5"}, "\n") + "\n"
	if got, want := tailLines(in, 2), "… (3 earlier lines)\n4\n5"; got != want {
		t.Errorf("tailLines = %q, want %q", got, want)
	}
	if got := tailLines(in, 10); got != "1\n2\n3\n4\n5" {
		t.Errorf("tailLines short = %q", got)
	}
}

func TestFormatHelpers(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{formatValue("x"), `"x"`},
		{formatValue([]string{"a", "b"}), `["a","b"]`},
		{formatValue(map[string]any{"n": 42}), `{"n":42}`},
		{formatValue(map[string]any{"q": "a&b<c>"}), `{"q":"a&b<c>"}`}, // as the file wrote it
		{formatValue(math.Inf(1)), "+Inf"},                             // not JSON: falls back to %v
		{fmtDuration(1234567 * time.Nanosecond), "1ms"},
		{fmtDuration(2345 * time.Millisecond), "2.35s"},
		{ShellQuote("plain-name_1.2"), "plain-name_1.2"},
		{ShellQuote("it's here"), `'it'\''s here'`},
		{ShellQuote(""), "''"},
		{firstLine("  one\ntwo", 10), "one"},
		{firstLine("abcdef", 3), "abc…"},
		{stripANSI("\x1b[31mred\x1b[0m"), "red"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
