package htmlreport

import (
	"fmt"
	"time"

	"github.com/muster-test/muster-test/internal/event"
)

var t0 = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)

// loginExchanges is a login as the reference SUT does it, then a call upstream, all in
// step "login", then a call in step "call" that the upstream refuses.
func loginExchanges() []event.Exchange {
	x := func(ms int, from, to, method, path, detail, bearer string, status int, step string) event.Exchange {
		return event.Exchange{Time: t0.Add(time.Duration(ms) * time.Millisecond), Duration: 3 * time.Millisecond, From: from, To: to,
			Method: method, Path: path, Detail: detail, Bearer: bearer, Status: status, Step: step}
	}
	return []event.Exchange{
		x(0, event.PartyRunner, event.PartySUT, "POST", "/mcp", "initialize", "", 200, ""),
		x(10, event.PartyBrowser, "idp:idp", "GET", "/authorize", "", "", 302, "login"),
		x(20, event.PartyBrowser, event.PartySUT, "GET", "/oauth/callback", "", "", 200, "login"),
		x(21, event.PartySUT, "idp:idp", "POST", "/token", "grant=authorization_code", "", 200, "login"),
		x(30, event.PartySUT, "mcp:search", "POST", "/mcp", "tools/list", "ory_at_Zx…", 200, "login"),
		x(40, event.PartyRunner, event.PartySUT, "POST", "/mcp", "tools/call x_search_find", "", 200, "call"),
		x(41, event.PartySUT, "mcp:search", "POST", "/mcp", "tools/call find", "ory_at_Zx…", 401, "call"),
	}
}

// failingResult is a scenario whose step "call" failed, with exchanges.
func failingResult(name string, xs []event.Exchange) event.ScenarioResult {
	return event.ScenarioResult{
		Name: name, File: "scenarios/" + name + ".yaml", Status: event.Failed, Start: t0, Duration: 1200 * time.Millisecond,
		Steps: []event.StepResult{
			{ID: "login", Tool: "test_simulate_oauth_callback", Phase: event.PhaseStep, Line: 12, Status: event.Passed, Duration: 30 * time.Millisecond},
			{ID: "call", Tool: "x_search_find", Phase: event.PhaseStep, Line: 18, Status: event.Failed, Duration: 5 * time.Millisecond,
				Expectation: "contains", Expected: []any{"found 1", 1}, Response: `{"error":"401 from upstream"}`,
				Message: "step call: expected text to contain \"found 1\"", ExpectationLine: 20, ExpectationCol: 25,
				AlsoUnmet: []string{"success: want true, got false"}},
			{ID: "after", Tool: "x_search_find", Phase: event.PhaseStep, Line: 24, Status: event.NotRun},
		},
		SUTLog:    "line 1\nupstream search answered 401\n",
		Exchanges: xs,
	}
}

func passingResult(name string, xs []event.Exchange) event.ScenarioResult {
	return event.ScenarioResult{
		Name: name, File: "scenarios/" + name + ".yaml", Status: event.Passed, Start: t0, Duration: 800 * time.Millisecond,
		Steps: []event.StepResult{
			{ID: "hello", Tool: "x_pub_hello", Phase: event.PhaseStep, Line: 9, Status: event.Passed, Duration: 2 * time.Millisecond},
			{ID: "tick", Tool: "test_advance_oauth_clock", Phase: event.PhaseStep, Line: 12, Status: event.Passed, Duration: time.Millisecond},
		},
		Exchanges: xs,
	}
}

// manyExchanges is n calls spread over the steps of failingResult, the failing step's last.
func manyExchanges(n int) []event.Exchange {
	var xs []event.Exchange
	for i := range n {
		step := "login"
		if i >= n-5 {
			step = "call"
		}
		xs = append(xs, event.Exchange{Time: t0.Add(time.Duration(i) * time.Millisecond), Duration: time.Millisecond,
			From: event.PartySUT, To: "mcp:search", Method: "POST", Path: "/mcp", Detail: fmt.Sprintf("tools/call find-%d", i),
			Bearer: "ory_at_Zx…", Status: 200, Step: step})
	}
	return xs
}

func runOf(results ...event.ScenarioResult) *event.Run {
	run := &event.Run{Info: event.RunInfo{SUT: "builtin (reference SUT)", Source: "scenarios"}, Start: t0, Duration: 3 * time.Second}
	for _, r := range results {
		run.Summary.Add(r.Status)
	}
	run.Results = results
	return run
}
