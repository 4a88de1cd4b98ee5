package executor

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/muster-test/muster-test/internal/result"
	"github.com/muster-test/muster-test/scenario"
)

// store holds what passed steps left for templates, and which ids the scenario has at all.
// The steps of a concurrently group record their results at the same time, hence mu.
type store struct {
	mu     sync.RWMutex
	known  map[string]bool // every step id of the scenario
	values map[string]any  // id -> stored value, for steps that passed
	failed map[string]bool // ids that ran and did not pass
	world  map[string]any  // the scenario's world (scenario.WorldRoots -> values)
}

func newStore(ids []string, world map[string]any) *store {
	s := &store{known: map[string]bool{}, values: map[string]any{}, failed: map[string]bool{}, world: world}
	for _, id := range ids {
		if id != "" {
			s.known[id] = true
		}
	}
	return s
}

// pass records the value a step that passed left for templates.
func (s *store) pass(id string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values[id] = v
}

// fail records that a step ran and did not pass.
func (s *store) fail(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed[id] = true
}

// resolve replaces templates whose root is a step id of the scenario throughout v. The
// mock MCP server walks its responses alike (mcpserver's render) but for another grammar,
// the call's argument names, and a mock may not import the runner: the walks stay apart.
func (s *store) resolve(v any) (any, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.resolveLocked(v)
}

func (s *store) resolveLocked(v any) (any, error) {
	switch x := v.(type) {
	case string:
		return s.resolveString(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			r, err := s.resolveLocked(val)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, val := range x {
			r, err := s.resolveLocked(val)
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
	w, inWorld := s.world[r.Root]
	if r.Path == "" || !(s.known[r.Root] || inWorld) {
		return nil, false, nil
	}
	segs, err := result.SplitPath(r.Path)
	if err != nil {
		return nil, true, fmt.Errorf("template {{ %s }}: %v", r.Path, err)
	}
	if inWorld { // the loader keeps step ids and world roots apart
		if v, ok := result.Lookup(w, segs[1:]); ok {
			return v, true, nil
		}
		return nil, true, fmt.Errorf("template {{ .%s }}: not in the scenario's world", r.Path)
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
	text, err := result.JSONText(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return text
}

// ResolveWorld resolves the world templates ({{ .sut.port }}, {{ .idp.NAME.issuer_url }},
// ...) throughout v and leaves every other template as written.
func ResolveWorld(v any, world map[string]any) (any, error) {
	return newStore(nil, world).resolve(v)
}

// expectation is e with the templates of its strings resolved, like the args: the world's
// and the results of earlier steps (a token a step returned must not appear in a later
// answer: `not_contains: ["{{ login.access_token }}"]`).
func (s *store) expectation(e *scenario.Expectation) (*scenario.Expectation, error) {
	if e == nil {
		return e, nil
	}
	out := *e
	strs := func(in []string) ([]string, error) {
		if in == nil {
			return nil, nil
		}
		r := make([]string, len(in))
		for i, v := range in {
			got, err := s.resolve(v)
			if err != nil {
				return nil, err
			}
			r[i] = formatInline(got)
		}
		return r, nil
	}
	var err error
	if out.Contains, err = strs(e.Contains); err != nil {
		return nil, err
	}
	if out.NotContains, err = strs(e.NotContains); err != nil {
		return nil, err
	}
	if out.ErrorContains, err = strs(e.ErrorContains); err != nil {
		return nil, err
	}
	if e.JSONPath != nil {
		jp, err := s.resolve(e.JSONPath)
		if err != nil {
			return nil, err
		}
		out.JSONPath, _ = jp.(map[string]any)
	}
	return &out, nil
}
