// Package expect decides whether a tool result meets a step's `expected` block, following
// the matching rules of scenarios/README.md. It reports every unmet expectation with what
// it wanted and what came back, so a failure needs no second run to understand.
package expect

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/muster-test/muster-test/internal/result"
	"github.com/muster-test/muster-test/scenario"
)

// Unmet is one expectation a result did not meet.
type Unmet struct {
	Expectation string // e.g. `success`, `contains[1]`, `json_path "a.b"`
	Expected    any
	Got         string // what came back, trimmed for display
	// Latency marks a duration expectation: Got is then the time taken, not the answer.
	Latency bool
}

func (u Unmet) String() string {
	return fmt.Sprintf("%s: expected %s, got %s", u.Expectation, Format(u.Expected), u.Got)
}

// MaxShown bounds how much of a result a failure message quotes.
const MaxShown = 600

// Check returns the expectations of exp that r does not meet, in the order of the block
// (success first). An empty result means the step passed. A nil exp expects success only.
func Check(exp *scenario.Expectation, r *result.Result) []Unmet {
	var out []Unmet
	want := exp.WantSuccess()
	if r.Failed == want {
		got := "success"
		if r.Failed {
			got = "failure: " + Trim(r.Text())
		}
		out = append(out, Unmet{Expectation: "success", Expected: want, Got: got})
	}
	if exp == nil {
		return out
	}
	// On a failed call, contains and not_contains read the error text (muster's files rely
	// on `success: false` + `contains: ["not found"]`); Texts hold exactly that text then.
	text := strings.ToLower(r.Text())
	shown := Trim(r.Text())
	for i, s := range exp.Contains {
		if !strings.Contains(text, strings.ToLower(s)) {
			out = append(out, Unmet{Expectation: fmt.Sprintf("contains[%d]", i), Expected: s, Got: shown})
		}
	}
	for i, s := range exp.NotContains {
		if strings.Contains(text, strings.ToLower(s)) {
			out = append(out, Unmet{Expectation: fmt.Sprintf("not_contains[%d]", i), Expected: s, Got: shown})
		}
	}
	for i, s := range exp.ErrorContains {
		errText := ""
		if r.Failed {
			errText = strings.ToLower(r.Text())
		}
		if !strings.Contains(errText, strings.ToLower(s)) {
			got := "no error"
			if r.Failed {
				got = shown
			}
			out = append(out, Unmet{Expectation: fmt.Sprintf("error_contains[%d]", i), Expected: s, Got: got})
		}
	}
	out = append(out, checkJSONPaths(exp.JSONPath, r)...)
	if exp.StatusCode != nil {
		out = append(out, checkStatus(*exp.StatusCode, r)...)
	}
	return out
}

func checkJSONPaths(paths map[string]any, r *result.Result) []Unmet {
	if len(paths) == 0 {
		return nil
	}
	keys := make([]string, 0, len(paths))
	for k := range paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	doc, haveDoc := r.JSON()
	var out []Unmet
	for _, path := range keys {
		want := paths[path]
		name := fmt.Sprintf("json_path %q", path)
		segs, err := result.SplitPath(path)
		if err != nil {
			out = append(out, Unmet{Expectation: name, Expected: want, Got: "invalid path: " + err.Error()})
			continue
		}
		root, rootOK, missing := doc, haveDoc, "no JSON text content"
		if segs[0] == "_meta" {
			root, rootOK, segs = metaRoot(r), r.Meta != nil, segs[1:]
			missing = "no _meta in the result"
		}
		if !rootOK {
			out = append(out, Unmet{Expectation: name, Expected: want, Got: missing + ": " + Trim(r.Text())})
			continue
		}
		got, ok := result.Lookup(root, segs)
		if !ok {
			out = append(out, Unmet{Expectation: name, Expected: want, Got: "path not found in " + Trim(Format(root))})
			continue
		}
		if !Match(want, got) {
			out = append(out, Unmet{Expectation: name, Expected: want, Got: Trim(Format(got))})
		}
	}
	return out
}

// metaRoot gives _meta as a generic JSON value, so paths index it like any other document.
func metaRoot(r *result.Result) any {
	if r.Meta == nil {
		return nil
	}
	b, err := json.Marshal(r.Meta)
	if err != nil {
		return nil
	}
	v, _ := result.ParseJSON(string(b))
	return v
}

func checkStatus(want int, r *result.Result) []Unmet {
	doc, ok := r.JSON()
	m, isMap := doc.(map[string]any)
	got, has := m["status_code"]
	if !ok || !isMap || !has {
		return []Unmet{{Expectation: "status_code", Expected: want, Got: "no status_code field in " + Trim(r.Text())}}
	}
	if !Match(want, got) {
		return []Unmet{{Expectation: "status_code", Expected: want, Got: Format(got)}}
	}
	return nil
}

// Trim shortens s for a failure message.
func Trim(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > MaxShown {
		return s[:MaxShown] + fmt.Sprintf("... (%d more bytes)", len(s)-MaxShown)
	}
	if s == "" {
		return `""`
	}
	return s
}

// Format renders a value compactly for messages: JSON for structures, plain for scalars.
func Format(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case nil:
		return "null"
	case fmt.Stringer:
		return x.String()
	}
	text, err := result.JSONText(Normalize(v))
	if err != nil {
		return fmt.Sprint(v)
	}
	return text
}
