// Package result is the one shape every tool call's outcome takes, whether the tool was the
// SUT's or a runner test tool, so that expectations and templates treat both alike.
package result

import (
	"encoding/json"
	"strings"
)

// Result is a tool call's outcome.
type Result struct {
	// Failed is true for a JSON-RPC error, an isError result, or a test tool that failed.
	Failed bool
	// Texts are the text contents in order. For a failed call they hold the error text.
	Texts []string
	// Code is the JSON-RPC error code when the SUT answered a call with a JSON-RPC error
	// (e.g. -32602 for an unknown tool); 0 otherwise, isError results included.
	Code int
	// Meta is the result's _meta object (nil when absent).
	Meta map[string]any
	// Value is the structured value of a test tool's result; nil for SUT results, whose
	// value is read from the first text content that is JSON.
	Value any
}

// Text is all text contents joined by newlines: what contains/not_contains read.
func (r *Result) Text() string {
	return strings.Join(r.Texts, "\n")
}

// JSON returns the value json_path reads: Value when set, else the first text content that
// parses as JSON. ok is false when there is none.
func (r *Result) JSON() (v any, ok bool) {
	if r.Value != nil {
		return r.Value, true
	}
	for _, t := range r.Texts {
		if v, ok := ParseJSON(t); ok {
			return v, true
		}
	}
	return nil, false
}

// Stored is what a passed step leaves for templates: its JSON value when it has one, else
// its text.
func (r *Result) Stored() any {
	if v, ok := r.JSON(); ok {
		return v
	}
	return r.Text()
}

// Object wraps a test tool's result map, keeping its JSON (JSONText) as the text so that
// contains and not_contains read test tool results as they read SUT results. A map whose
// `success` is false (test_call_mock_tool reporting a refused call) is a failed call, so
// that the step's `success` expectation reads what the tool says.
func Object(m map[string]any) *Result {
	text, err := JSONText(m)
	if err != nil {
		text = err.Error()
	}
	ok, has := m["success"].(bool)
	return &Result{Texts: []string{text}, Value: m, Failed: has && !ok}
}

// JSONText is v as compact JSON with map keys sorted and without HTML escaping: the text a
// scenario author reads and matches with contains. json.Marshal would write &, < and > as
// \u0026, \u003c and \u003e, and `not_contains: ["a&b"]` would pass on an answer holding
// "a&b".
func JSONText(v any) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}

// Failure is a failed call whose error text is msg.
func Failure(msg string) *Result {
	return &Result{Failed: true, Texts: []string{msg}}
}

// ParseJSON decodes s when it is a JSON document (object, array, number, bool, string or
// null after trimming). Numbers decode as float64, as everywhere in expectations.
func ParseJSON(s string) (any, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, false
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, false
	}
	return v, true
}
