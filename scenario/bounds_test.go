package scenario_test

import (
	"fmt"
	"strings"
	"testing"
)

// valueAt is the "line:col" of the value in the first occurrence of "key: value" in doc.
func valueAt(doc, keyValue string) string {
	i := strings.Index(doc, keyValue)
	if i < 0 {
		return "not in the document"
	}
	i += strings.Index(keyValue, ": ") + 2
	line := strings.Count(doc[:i], "\n") + 1
	return fmt.Sprintf("%d:%d", line, i-strings.LastIndex(doc[:i], "\n"))
}

// TestBounds: numeric keys whose size costs time or resources have an upper bound (and a
// written 0 where 0 would silently mean "the default" is refused), reported at the value.
func TestBounds(t *testing.T) {
	step := func(keys string) string {
		return "name: x\nsteps:\n  - {id: a, tool: t, " + keys + ", expected: {success: true}}\n"
	}
	mock := func(delay string) string {
		return "name: x\npre_configuration:\n  mcp_servers:\n    - name: m\n      config:\n        tools:\n" +
			"          - {name: op, responses: [{response: x, delay: " + delay + "}]}\n" + ok
	}
	tests := []struct {
		name, doc, value, msg string // msg "" = loads
	}{
		{"parallel at the bound", step("parallel: 1000"), "", ""},
		{"parallel over", step("parallel: 1000000"), "parallel: 1000000", "steps[0].parallel: must be from 1 to 1000, got 1000000"},
		{"parallel zero", step("parallel: 0"), "parallel: 0", "steps[0].parallel: must be from 1 to 1000, got 0"},
		{"retry at the bounds", step("retry: {count: 1000, delay: 10m, backoff_multiplier: 10}"), "", ""},
		{"retry count over", step("retry: {count: 1001}"), "count: 1001", "steps[0].retry.count: must be from 0 to 1000, got 1001"},
		{"retry count negative", step("retry: {count: -1}"), "count: -1", "steps[0].retry.count: must be from 0 to 1000, got -1"},
		{"backoff huge", step("retry: {count: 3, backoff_multiplier: 1e308}"), "backoff_multiplier: 1e308",
			"steps[0].retry.backoff_multiplier: must be from 1 to 10, got 1e+308"},
		{"backoff NaN", step("retry: {backoff_multiplier: .nan}"), "backoff_multiplier: .nan", "must be from 1 to 10, got NaN"},
		{"backoff infinite", step("retry: {backoff_multiplier: .inf}"), "backoff_multiplier: .inf", "must be from 1 to 10, got +Inf"},
		// 0 once read as "not given" (multiplier 1): refused rather than guessed.
		{"backoff zero", step("retry: {backoff_multiplier: 0}"), "backoff_multiplier: 0", "must be from 1 to 10, got 0"},
		{"retry delay over", step("retry: {delay: 11m}"), "delay: 11m", "steps[0].retry.delay: must be from 0s to 10m0s, got 11m0s"},
		{"step timeout zero", step("timeout: 0s"), "timeout: 0s", "steps[0].timeout: must be from 1ms to 1h0m0s, got 0s"},
		{"step timeout over", step("timeout: 2h"), "timeout: 2h", "steps[0].timeout: must be from 1ms to 1h0m0s, got 2h0m0s"},
		{"wait_for_state over", "name: x\nsteps:\n  - {id: a, tool: t, expected: {success: true, wait_for_state: 61m}}\n",
			"wait_for_state: 61m", "steps[0].expected.wait_for_state: must be from 0s to 1h0m0s, got 1h1m0s"},
		{"scenario timeout over", "name: x\ntimeout: 25h\n" + ok, "timeout: 25h", "timeout: must be from 1ms to 24h0m0s, got 25h0m0s"},
		{"scenario timeout zero", "name: x\ntimeout: 0s\n" + ok, "timeout: 0s", "timeout: must be from 1ms to 24h0m0s, got 0s"},
		{"mock delay at the bound", mock("10m"), "", ""},
		{"mock delay over", mock("1h"), "delay: 1h",
			"pre_configuration.mcp_servers[0].config.tools[0].responses[0].delay: must be from 0s to 10m0s, got 1h0m0s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, diags := loader.Parse("in.yaml", []byte(tt.doc))
			if tt.msg == "" {
				if s == nil {
					t.Fatalf("want it to load, got %v", diags)
				}
				return
			}
			checkUnordered(t, diags, []want{{valueAt(tt.doc, tt.value), tt.msg}})
		})
	}
}
