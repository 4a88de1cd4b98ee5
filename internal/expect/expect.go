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
	// Key names the expectation in its block (scenario.Expectation.At): Expectation without
	// what the executor adds ("copy 2 of 3: ...").
	Key      string
	Expected any
	Got      string // what came back, trimmed for display
	// Latency marks a duration expectation: Got is then the time taken, not the answer.
	Latency bool
	// Value marks a Got that is one value read from the answer (a json_path's, the
	// status_code), shown with its type, rather than the answer itself.
	Value bool
}

// String is the expectation in one line, for a step's message: what was wanted and what
// came back when that is a value, never the whole answer (the report shows it once, apart).
func (u Unmet) String() string {
	switch {
	case u.Latency || u.Value:
		return fmt.Sprintf("%s: expected %s, got %s", u.Expectation, Typed(u.Expected), u.Got)
	case strings.HasPrefix(u.Key, "not_contains"):
		return fmt.Sprintf("%s: %s is in the answer", u.Expectation, Format(u.Expected))
	case strings.HasPrefix(u.Key, "error_contains") && u.Got == noError:
		return fmt.Sprintf("%s: %s expected in an error, but the call succeeded", u.Expectation, Format(u.Expected))
	case strings.HasPrefix(u.Key, "error_contains"):
		return fmt.Sprintf("%s: %s not in the error text", u.Expectation, Format(u.Expected))
	case strings.HasPrefix(u.Key, "contains"):
		return fmt.Sprintf("%s: %s not in the answer", u.Expectation, Format(u.Expected))
	case u.Key == "success":
		got := "success"
		if u.Expected == true {
			got = "a failure"
		}
		return fmt.Sprintf("%s: expected %v, got %s", u.Expectation, u.Expected, got)
	}
	return fmt.Sprintf("%s: expected %s, got %s", u.Expectation, Typed(u.Expected), firstLine(u.Got))
}

const noError = "no error"

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

// Typed is a value with its JSON type, so that "1" (string) and 1 (number) tell apart.
func Typed(v any) string {
	if _, ok := v.(fmt.Stringer); ok {
		return Format(v) // "at most 1s"
	}
	return Format(v) + " (" + TypeName(v) + ")"
}

// TypeName is the JSON type of a value as a scenario author reads it.
func TypeName(v any) string {
	switch Normalize(v).(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case map[string]any:
		return "map"
	case []any:
		return "list"
	}
	return fmt.Sprintf("%T", v)
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
		out = append(out, Unmet{Expectation: "success", Key: "success", Expected: want, Got: got})
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
			key := scenario.ExpectationKey("contains", i)
			out = append(out, Unmet{Expectation: key, Key: key, Expected: s, Got: shown})
		}
	}
	for i, s := range exp.NotContains {
		if strings.Contains(text, strings.ToLower(s)) {
			key := scenario.ExpectationKey("not_contains", i)
			out = append(out, Unmet{Expectation: key, Key: key, Expected: s, Got: shown})
		}
	}
	for i, s := range exp.ErrorContains {
		errText := ""
		if r.Failed {
			errText = strings.ToLower(r.Text())
		}
		if !strings.Contains(errText, strings.ToLower(s)) {
			got := noError
			if r.Failed {
				got = shown
			}
			key := scenario.ExpectationKey("error_contains", i)
			out = append(out, Unmet{Expectation: key, Key: key, Expected: s, Got: got})
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
		name := scenario.JSONPathKey(path)
		segs, err := result.SplitPath(path)
		if err != nil {
			out = append(out, Unmet{Expectation: name, Key: name, Expected: want, Got: "invalid path: " + err.Error(), Value: true})
			continue
		}
		root, rootOK, missing := doc, haveDoc, "no JSON text content"
		if segs[0] == "_meta" {
			root, rootOK, segs = metaRoot(r), r.Meta != nil, segs[1:]
			missing = "no _meta in the result"
		}
		if !rootOK {
			out = append(out, Unmet{Expectation: name, Key: name, Expected: want, Got: missing, Value: true})
			continue
		}
		got, ok := result.Lookup(root, segs)
		if !ok {
			out = append(out, Unmet{Expectation: name, Key: name, Expected: want, Got: notFound(root, segs), Value: true})
			continue
		}
		if !Match(want, got) {
			out = append(out, Unmet{Expectation: name, Key: name, Expected: want, Got: trimTyped(got), Value: true})
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
		return []Unmet{{Expectation: "status_code", Key: "status_code", Expected: want, Got: "no status_code field in the answer", Value: true}}
	}
	if !Match(want, got) {
		return []Unmet{{Expectation: "status_code", Key: "status_code", Expected: want, Got: trimTyped(got), Value: true}}
	}
	return nil
}

// notFound says where a json_path left the answer: the deepest part of it that exists and
// what that part holds (its keys, its length), not the whole answer, which the report
// shows once on its own.
func notFound(root any, segs []string) string {
	v, depth := root, 0
	for ; depth < len(segs); depth++ {
		next, ok := result.Lookup(v, segs[depth:depth+1])
		if !ok {
			break
		}
		v = next
	}
	where := "the answer"
	if depth > 0 {
		where = strings.Join(segs[:depth], ".")
	}
	missing := segs[depth]
	switch x := v.(type) {
	case map[string]any:
		ks := make([]string, 0, len(x))
		for k := range x {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		if len(ks) > 30 {
			ks = append(ks[:30], fmt.Sprintf("... %d more", len(ks)-30))
		}
		return fmt.Sprintf("no %q in %s, which has: %s", missing, where, strings.Join(ks, ", "))
	case []any:
		return fmt.Sprintf("no item %q in %s, a list of %d", missing, where, len(x))
	}
	return fmt.Sprintf("%s is %s, which has no %q", where, trimTyped(v), missing)
}

// trimTyped is a value from the answer with its type, trimmed for a message.
func trimTyped(v any) string {
	return Trim(Format(v)) + " (" + TypeName(v) + ")"
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
