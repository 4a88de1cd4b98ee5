package result

import "testing"

// TestObjectText pins the text contains/not_contains read on a test tool's answer (the
// guide documents it): compact JSON, keys sorted, JSON's own escapes only. &, < and > once
// came out as \u0026, \u003c and \u003e, so `not_contains: ["a&b"]` passed on "a&b".
func TestObjectText(t *testing.T) {
	r := Object(map[string]any{"b": 1, "a": "x&y<z> \"q\" é\n", "c": []any{true, nil}})
	want := `{"a":"x&y<z> \"q\" é\n","b":1,"c":[true,null]}`
	if len(r.Texts) != 1 || r.Texts[0] != want {
		t.Fatalf("Texts = %q, want [%q]", r.Texts, want)
	}
	if r.Text() != want {
		t.Errorf("Text() = %q, want %q", r.Text(), want)
	}
}
