package scenario

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// ExpectationKey names one expectation of an `expected` block the way a failure names it:
// "success", "contains[1]", `json_path "a.b"`, "status_code", "max_duration".
func ExpectationKey(key string, index int) string {
	return fmt.Sprintf("%s[%d]", key, index)
}

// JSONPathKey is the ExpectationKey of one json_path entry.
func JSONPathKey(path string) string { return fmt.Sprintf("json_path %q", path) }

// At is where the expectation named key (ExpectationKey) stands in the file: a failure
// points there rather than at the step. It is the block's own position when the key is
// unknown.
func (e *Expectation) At(key string) Pos {
	if p, ok := e.Keys[key]; ok {
		return p
	}
	return e.Pos
}

// expectationKeys records where each expectation of a step stands, for run-time failures.
func (c *checker) expectationKeys(e *Expectation) {
	if e == nil {
		return
	}
	e.Keys = map[string]Pos{}
	for key, field := range map[string]any{"success": &e.Success, "status_code": &e.StatusCode,
		"max_duration": &e.MaxDuration, "p95_duration": &e.P95Duration, "wait_for_state": &e.WaitForState} {
		if n := c.nodeOf(field); n != nil {
			e.Keys[key] = c.pos(n)
		}
	}
	for key, field := range map[string]*[]string{"contains": &e.Contains, "not_contains": &e.NotContains, "error_contains": &e.ErrorContains} {
		if n := c.nodeOf(field); n != nil && n.Kind == yaml.SequenceNode {
			for i, item := range n.Content {
				e.Keys[ExpectationKey(key, i)] = c.pos(item)
			}
		}
	}
	if n := c.nodeOf(&e.JSONPath); n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			e.Keys[JSONPathKey(n.Content[i].Value)] = c.pos(n.Content[i])
		}
	}
}

// vacuous flags expectations that cannot tell one answer from another: an empty string is
// in every answer (contains passes and not_contains fails whatever comes back), an empty
// json_path checks nothing, and an empty path names no field.
func (c *checker) vacuous(e *Expectation, path string) {
	if e == nil {
		return
	}
	for key, list := range map[string][]string{"contains": e.Contains, "not_contains": e.NotContains, "error_contains": e.ErrorContains} {
		for i, item := range list {
			if item == "" {
				c.warnAt(e.At(ExpectationKey(key, i)), "%s.expected.%s[%d]: an empty string is in every answer, so this checks nothing", path, key, i)
			}
		}
	}
	if n := c.nodeOf(&e.JSONPath); n != nil && len(e.JSONPath) == 0 {
		c.warnAt(c.pos(n), "%s.expected.json_path: no paths given, so this checks nothing", path)
	}
	if _, empty := e.JSONPath[""]; empty {
		c.errorAt(e.At(JSONPathKey("")), "%s.expected.json_path: an empty path names no field of the answer", path)
	}
}
