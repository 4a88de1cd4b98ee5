package executor

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/muster-test/muster-test/internal/result"
	"github.com/muster-test/muster-test/scenario"
)

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
	refs := scenario.Templates(str)
	if len(refs) == 0 {
		return str, nil
	}
	// A string that is exactly one template keeps the value's type.
	if len(refs) == 1 && refs[0].Start == 0 && refs[0].End == len(str) {
		v, owned, err := s.lookup(refs[0])
		if err != nil || owned {
			return v, err
		}
		return str, nil
	}
	var b strings.Builder
	last := 0
	for _, r := range refs {
		b.WriteString(str[last:r.Start])
		v, owned, err := s.lookup(r)
		if err != nil {
			return nil, err
		}
		if owned {
			b.WriteString(formatInline(v))
		} else {
			b.WriteString(str[r.Start:r.End])
		}
		last = r.End
	}
	b.WriteString(str[last:])
	return b.String(), nil
}

// lookup resolves one expression. owned is false when the expression is not ours (not a
// plain path, or its root is not a step id), so the caller leaves it verbatim.
func (s *store) lookup(r scenario.TemplateRef) (v any, owned bool, err error) {
	if r.Path == "" || !s.known[r.Root] {
		return nil, false, nil
	}
	segs, err := result.SplitPath(r.Path)
	if err != nil {
		return nil, true, fmt.Errorf("template {{ %s }}: %v", r.Path, err)
	}
	root, ok := s.values[r.Root]
	if !ok {
		if s.failed[r.Root] {
			return nil, true, fmt.Errorf("template {{ %s }}: step %q did not pass", r.Path, r.Root)
		}
		return nil, true, fmt.Errorf("template {{ %s }}: step %q has not run yet", r.Path, r.Root)
	}
	v, ok = result.Lookup(root, segs[1:])
	if !ok {
		return nil, true, fmt.Errorf("template {{ %s }}: path not found in the result of step %q", r.Path, r.Root)
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
