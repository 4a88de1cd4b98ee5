package executor

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/muster-test/muster-test/runner/result"
)

// templateRE finds `{{ ... }}` expressions; what is inside decides whether we own it.
var templateRE = regexp.MustCompile(`\{\{\s*(.*?)\s*\}\}`)

// plainPathRE is a plain path: an optional leading dot, then dot-separated segments, where
// a segment is a name, a number or a double-quoted literal. Anything else (`eq .a "b"`,
// pipes) is a workflow template of the SUT's and passes through untouched.
var plainPathRE = regexp.MustCompile(`^\.?(?:[A-Za-z0-9_-]+|"[^"]*")(?:\.(?:[A-Za-z0-9_-]+|"[^"]*"))*$`)

// store holds what passed steps left for templates, and which ids the scenario has at all.
type store struct {
	known  map[string]bool // every step id of the scenario
	values map[string]any  // id -> stored value, for steps that passed
	failed map[string]bool // ids that ran and did not pass
}

func newStore(ids []string) *store {
	s := &store{known: map[string]bool{}, values: map[string]any{}, failed: map[string]bool{}}
	for _, id := range ids {
		if id != "" {
			s.known[id] = true
		}
	}
	return s
}

// resolve replaces templates whose root is a step id of the scenario throughout v.
func (s *store) resolve(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return s.resolveString(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			r, err := s.resolve(val)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			r, err := s.resolve(val)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

func (s *store) resolveString(str string) (any, error) {
	locs := templateRE.FindAllStringSubmatchIndex(str, -1)
	if len(locs) == 0 {
		return str, nil
	}
	// A string that is exactly one template keeps the value's type.
	if len(locs) == 1 && locs[0][0] == 0 && locs[0][1] == len(str) {
		v, owned, err := s.lookup(str[locs[0][2]:locs[0][3]])
		if err != nil || owned {
			return v, err
		}
		return str, nil
	}
	var b strings.Builder
	last := 0
	for _, l := range locs {
		b.WriteString(str[last:l[0]])
		v, owned, err := s.lookup(str[l[2]:l[3]])
		if err != nil {
			return nil, err
		}
		if owned {
			b.WriteString(formatInline(v))
		} else {
			b.WriteString(str[l[0]:l[1]])
		}
		last = l[1]
	}
	b.WriteString(str[last:])
	return b.String(), nil
}

// lookup resolves one expression. owned is false when the expression is not ours (not a
// plain path, or its root is not a step id), so the caller leaves it verbatim.
func (s *store) lookup(expr string) (v any, owned bool, err error) {
	if !plainPathRE.MatchString(expr) {
		return nil, false, nil
	}
	segs, err := result.SplitPath(strings.TrimPrefix(expr, "."))
	if err != nil || !s.known[segs[0]] {
		return nil, false, nil
	}
	root, ok := s.values[segs[0]]
	if !ok {
		if s.failed[segs[0]] {
			return nil, true, fmt.Errorf("template {{ %s }}: step %q did not pass", expr, segs[0])
		}
		return nil, true, fmt.Errorf("template {{ %s }}: step %q has not run yet", expr, segs[0])
	}
	v, ok = result.Lookup(root, segs[1:])
	if !ok {
		return nil, true, fmt.Errorf("template {{ %s }}: path not found in the result of step %q", expr, segs[0])
	}
	return v, true, nil
}

// formatInline renders a value inside a longer string: numbers naturally (3, not 3.000000),
// structures as JSON.
func formatInline(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
