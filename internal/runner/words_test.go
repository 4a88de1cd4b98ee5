package runner

import (
	"reflect"
	"testing"
)

func TestSplitWords(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		err  bool
	}{
		{"", nil, false},
		{"--fault skip-pkce --fault no-meta", []string{"--fault", "skip-pkce", "--fault", "no-meta"}, false},
		{`--name "a b" 'c d' e\ f`, []string{"--name", "a b", "c d", "e f"}, false},
		{`--x $HOME`, []string{"--x", "$HOME"}, false},
		{`"unclosed`, nil, true},
		{`'unclosed`, nil, true},
	}
	for _, c := range cases {
		got, err := SplitWords(c.in)
		if (err != nil) != c.err || (!c.err && len(got)+len(c.want) > 0 && !reflect.DeepEqual(got, c.want)) {
			t.Errorf("SplitWords(%q) = %q, %v; want %q, err=%v", c.in, got, err, c.want, c.err)
		}
	}
}
