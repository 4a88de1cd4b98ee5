package result

import (
	"reflect"
	"testing"
)

func TestSplitPath(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		err  bool
	}{
		{"a.b.0.c", []string{"a", "b", "0", "c"}, false},
		{`_meta."giantswarm.io/auth_required".0.server`, []string{"_meta", "giantswarm.io/auth_required", "0", "server"}, false},
		{`"a.b"`, []string{"a.b"}, false},
		{"a..b", nil, true},
		{`a."b`, nil, true},
		{`"a"b`, nil, true},
	}
	for _, c := range cases {
		got, err := SplitPath(c.in)
		if (err != nil) != c.err || (!c.err && !reflect.DeepEqual(got, c.want)) {
			t.Errorf("SplitPath(%q) = %q, %v; want %q, err=%v", c.in, got, err, c.want, c.err)
		}
	}
}

func TestLookupAndJSON(t *testing.T) {
	r := &Result{Texts: []string{"not json", `{"a":[{"b":3}]}`}}
	v, ok := r.JSON()
	if !ok {
		t.Fatal("no JSON found in second text content")
	}
	got, ok := Lookup(v, []string{"a", "0", "b"})
	if !ok || got != 3.0 {
		t.Fatalf("Lookup = %v, %v", got, ok)
	}
	for _, bad := range [][]string{{"a", "1"}, {"a", "x"}, {"z"}, {"a", "0", "b", "c"}} {
		if _, ok := Lookup(v, bad); ok {
			t.Errorf("Lookup(%q) found something", bad)
		}
	}
	if s := (&Result{Texts: []string{"plain"}}).Stored(); s != "plain" {
		t.Errorf("Stored of plain text = %v", s)
	}
}

func TestObjectSuccessField(t *testing.T) {
	if r := Object(map[string]any{"success": false, "status_code": 401}); !r.Failed {
		t.Error("success: false must make a failed call")
	}
	if r := Object(map[string]any{"success": true}); r.Failed {
		t.Error("success: true is not a failure")
	}
	if r := Object(map[string]any{"n": 1}); r.Failed {
		t.Error("a result without success is not a failure")
	}
}
