package report

import (
	"time"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/scenario"
)

// t0 is the fixture run's start. Fixed, so goldens and file names are deterministic.
var t0 = time.Date(2026, 1, 16, 9, 30, 5, 0, time.Local)

// sampleRun is a run with one scenario of each outcome, each carrying the details its
// reporters must show.
func sampleRun() event.Run {
	passed := event.ScenarioResult{
		Name: "oauth-login-works", File: "scenarios/login.yaml", Category: "behavioral",
		Concept: "mcpserver", Tags: []string{"oauth"}, Status: event.Passed,
		Start: t0, End: t0.Add(1230 * time.Millisecond), Duration: 1230 * time.Millisecond,
		Steps: []event.StepResult{
			{ID: "get-info", Tool: "test_get_oauth_server_info", Phase: event.PhaseStep, Line: 12,
				Status: event.Passed, Start: t0, Duration: 12 * time.Millisecond, Attempts: 1,
				Args:     map[string]any{"server": "mock-idp"},
				Response: "{\n  \"issuer\": \"http://localhost:4000\",\n  \"client_id\": \"muster\",\n  \"counters\": {\n    \"token\": 1\n  }\n}"},
			{ID: "call-tool", Tool: "x_protected_get_secret", Phase: event.PhaseStep, Line: 20,
				User: "alice", Status: event.Passed, Start: t0, Duration: 340 * time.Millisecond, Attempts: 3},
			{Tool: "core_mcpserver_delete", Phase: event.PhaseStepCleanup, Status: event.Failed,
				Start: t0, Duration: 4 * time.Millisecond, Attempts: 1, Message: "server not found"},
		},
		Timings: event.Timings{Environment: 10 * time.Millisecond, Steps: 352 * time.Millisecond},
	}
	failed := event.ScenarioResult{
		Name: "token-refresh", File: "scenarios/refresh.yaml", Concept: "oauth", Status: event.Failed,
		Start: t0, End: t0.Add(2500 * time.Millisecond), Duration: 2500 * time.Millisecond,
		Steps: []event.StepResult{
			{ID: "login", Tool: "test_simulate_oauth_callback", Phase: event.PhaseStep, Line: 8,
				Status: event.Passed, Start: t0, Duration: 50 * time.Millisecond, Attempts: 1},
			{ID: "read-secret", Tool: "x_protected_get_secret", Phase: event.PhaseStep, Line: 17,
				User: "bob", Status: event.Failed, Start: t0.Add(time.Second), Duration: 800 * time.Millisecond,
				Attempts: 2, Expectation: "contains[0]", Expected: "top-secret",
				ExpectationLine: 19, ExpectationCol: 42, Excerpt: scenario.Excerpt([]byte(refreshSource), 19, 42),
				Response: "{\n  \"value\": \"nothing here\"\n}",
				Message:  `step "read-secret" (tool x_protected_get_secret): contains[0]: "top-secret" not in the answer`},
			{ID: "read-again", Tool: "x_protected_get_secret", Phase: event.PhaseStep, Line: 22,
				Status: event.NotRun, Message: `not run: step "read-secret" FAILED`},
			{ID: "logout", Tool: "test_logout", Phase: event.PhaseCleanup, Line: 30,
				Status: event.Passed, Start: t0.Add(2 * time.Second), Duration: 5 * time.Millisecond, Attempts: 1},
		},
		Error: `step "read-secret" (tool x_protected_get_secret): contains[0]: "top-secret" not in the answer`,
		Trace: []string{`-> tools/call {"name":"x_protected_get_secret"}`, `<- result {"value":"nothing here"}`},
		Exchanges: []event.Exchange{
			{Time: t0.Add(-time.Second), From: event.PartyRunner, To: "SUT", Method: "POST", Path: "/mcp",
				Detail: "initialize", Error: "dial tcp 127.0.0.1:4242: connect: connection refused"},
			{Time: t0.Add(-time.Second / 2), Duration: time.Millisecond, From: event.PartySUT, To: "idp:mock-idp", Method: "GET",
				Path: "/.well-known/openid-configuration", Status: 200},
			{Time: t0.Add(-time.Second / 4), Duration: time.Millisecond, From: event.PartyRunner, To: "SUT", Method: "POST",
				Path: "/mcp", Detail: "initialize", Status: 200},
			{Time: t0.Add(10 * time.Millisecond), Duration: 3 * time.Millisecond, From: event.PartyBrowser, To: "idp:mock-idp",
				Method: "GET", Path: "/authorize?client_id=muster&state=eyJz...", Status: 302, Step: "login"},
			{Time: t0.Add(20 * time.Millisecond), Duration: 4 * time.Millisecond, From: event.PartySUT, To: "idp:mock-idp",
				Method: "POST", Path: "/token", Detail: "grant=authorization_code sub=bob", Status: 200, Step: "login"},
			{Time: t0.Add(time.Second), Duration: 790 * time.Millisecond, From: event.PartyRunner, To: "SUT", Method: "POST",
				Path: "/mcp", Detail: "tools/call x_protected_get_secret", Status: 200, Step: "read-secret"},
			{Time: t0.Add(time.Second + time.Millisecond), Duration: 2 * time.Millisecond, From: event.PartySUT, To: "mcp:protected",
				Method: "POST", Path: "/mcp", Detail: "tools/call get_secret", Bearer: "ory_at_Zx7…", Status: 401, Step: "read-secret"},
			{Time: t0.Add(3 * time.Second), Duration: time.Millisecond, From: event.PartyRunner, To: "SUT", Method: "DELETE",
				Path: "/mcp", Status: 200},
		},
	}
	errored := event.ScenarioResult{
		Name: "sut-crash", File: "scenarios/crash.yaml", Status: event.Error,
		Start: t0, End: t0.Add(3 * time.Second), Duration: 3 * time.Second,
		Steps: []event.StepResult{
			{ID: "list-tools", Tool: "core_service_list", Phase: event.PhaseStep, Line: 5,
				Status: event.Error, Start: t0, Duration: 3 * time.Second, Attempts: 1,
				Message: "transport error: EOF"},
		},
		Error:  "SUT exited with status 2",
		SUTLog: "starting muster\nlistening on 127.0.0.1:4242\npanic: nil map\n\x1b[31mgoroutine 1\x1b[0m",
	}
	skipped := event.ScenarioResult{
		Name: "not-ready-yet", File: "scenarios/skip.yaml", Category: "integration", Status: event.Skipped,
		Start: t0, End: t0, Error: "skip: true",
	}
	cancelled := event.ScenarioResult{
		Name: "slow one", File: "scenarios/slow.yaml", Status: event.Cancelled,
		Start: t0, End: t0.Add(700 * time.Millisecond), Duration: 700 * time.Millisecond,
		Error: "cancelled: --fail-fast after token-refresh failed",
	}
	results := []event.ScenarioResult{passed, failed, errored, skipped, cancelled}
	var sum event.Summary
	for _, r := range results {
		sum.Add(r.Status)
	}
	return event.Run{
		Info:  event.RunInfo{SUT: "muster (/usr/local/bin/muster)", Source: "./scenarios", Parallel: 4, Scenarios: 5},
		Start: t0, End: t0.Add(8 * time.Second), Duration: 8 * time.Second,
		Summary: sum, Results: results,
	}
}

// replay sends a run's events to l as the executor would.
func replay(l event.Listener, run event.Run) {
	l.RunStarted(run.Info)
	for _, r := range run.Results {
		l.ScenarioStarted(r.Name)
		l.ScenarioFinished(r)
	}
	l.RunFinished(run)
}

// refreshSource is the part of scenarios/refresh.yaml the failed step's excerpt shows.
const refreshSource = "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n" +
	"  - id: read-secret\n" +
	"    tool: x_protected_get_secret\n" +
	"    expected: {success: true, contains: [top-secret]}\n" +
	"  - id: read-again\n"
