// Package event is the vocabulary between the executor and the reporters: outcomes of steps
// and scenarios, and the listener interface reporters implement. Reporters see nothing else
// of a run, which keeps data flowing one way (loader -> executor -> reporters).
package event

import (
	"fmt"
	"time"
)

// Status is the outcome of a step or a scenario.
type Status string

// Outcomes. The strings match muster's JSON report (PASSED, FAILED, ERROR, SKIPPED), plus
// CANCELLED for scenarios that --fail-fast, an interrupt or the run's timeout stopped, and
// NOT_RUN for the steps a scenario never reached (after the step that decided it, or all
// of them when it never started), which muster's report leaves out.
const (
	Passed    Status = "PASSED"
	Failed    Status = "FAILED"
	Error     Status = "ERROR"
	Skipped   Status = "SKIPPED"
	Cancelled Status = "CANCELLED"
	NotRun    Status = "NOT_RUN"
)

// Phase says which list of a scenario a step came from.
type Phase string

// Phases, in the order they run.
const (
	PhaseStep        Phase = "step"
	PhaseCleanup     Phase = "cleanup"      // the scenario's cleanup list; can fail the scenario
	PhaseStepCleanup Phase = "step-cleanup" // step-level cleanup items; never change the verdict
)

// StepResult is the outcome of one step (all its attempts and parallel copies).
type StepResult struct {
	ID          string         `json:"id"`
	Tool        string         `json:"tool"`
	Description string         `json:"description,omitempty"`
	Phase       Phase          `json:"phase"`
	Line        int            `json:"line,omitempty"` // line of the step in its file
	User        string         `json:"user,omitempty"`
	Args        map[string]any `json:"args,omitempty"` // after template resolution
	Status      Status         `json:"result"`
	Start       time.Time      `json:"start_time"`
	Duration    time.Duration  `json:"duration"`
	Attempts    int            `json:"attempts"`
	// Failure details (FAILED or ERROR): which expectation, what it wanted, what came back.
	Expectation string `json:"expectation,omitempty"`
	Expected    any    `json:"expected_value,omitempty"`
	Message     string `json:"error,omitempty"` // the whole failure message
	// ExpectationLine and ExpectationCol are where the unmet expectation stands in the
	// scenario file: its own key or item, not the step's line. Excerpt is the source there,
	// with a caret under it (scenario.Excerpt).
	ExpectationLine int    `json:"expectation_line,omitempty"`
	ExpectationCol  int    `json:"expectation_col,omitempty"`
	Excerpt         string `json:"excerpt,omitempty"`
	// AlsoUnmet are the step's other unmet expectations, one line each.
	AlsoUnmet []string `json:"also_unmet,omitempty"`
	// Got is what a latency expectation measured ("3.048s"), or the one value of the answer
	// a json_path or status_code expectation read, with its type; the answer is in Response.
	Got      string `json:"got,omitempty"`
	Response string `json:"response,omitempty"`
	// ContinuedOnFailure is set when the step failed but had continue_on_failure: true.
	ContinuedOnFailure bool `json:"continued_on_failure,omitempty"`
	// Group is the id of the concurrently group the step ran in.
	Group string `json:"group,omitempty"`
	// TimedOut: the step's timeout cut its call off.
	TimedOut bool `json:"timed_out,omitempty"`
}

// Timings splits a scenario's wall time into the runner's phases.
type Timings struct {
	Environment time.Duration `json:"environment"` // mocks started
	SUTStart    time.Duration `json:"sut_start"`   // config written, process started, first answer
	SUTListen   time.Duration `json:"sut_listen"`  // the SUT's own exec-to-listening time, from its log
	Ready       time.Duration `json:"ready"`       // until every configured server settled
	Steps       time.Duration `json:"steps"`
	Teardown    time.Duration `json:"teardown"` // sessions closed, SUT and mocks stopped, temp dir removed
}

// ScenarioResult is the outcome of one scenario.
type ScenarioResult struct {
	Name        string        `json:"name"`
	File        string        `json:"file"`
	Category    string        `json:"category,omitempty"`
	Concept     string        `json:"concept,omitempty"`
	Description string        `json:"description,omitempty"`
	Tags        []string      `json:"tags,omitempty"`
	Status      Status        `json:"result"`
	Start       time.Time     `json:"start_time"`
	End         time.Time     `json:"end_time"`
	Duration    time.Duration `json:"duration"`
	Steps       []StepResult  `json:"step_results"`
	// Error says why an ERROR or CANCELLED scenario stopped (SUT died, timeout, ...).
	Error string `json:"error,omitempty"`
	// SUTLog is the tail of the SUT's output, kept for failures and with --debug.
	SUTLog string `json:"sut_log,omitempty"`
	// Trace is the MCP traffic (requests and responses), kept with --debug.
	Trace []string `json:"trace,omitempty"`
	// Exchanges are the HTTP requests of the scenario, in the order they started: what the
	// runner sent (its MCP sessions, its browser, its OAuth client) and what the mocks
	// answered to others (the SUT), each tied to the step that was running.
	Exchanges []Exchange `json:"exchanges,omitempty"`
	// Notes are what a user should know even of a passing scenario: a SUT start that was
	// retried, a kept temp dir.
	Notes   []string `json:"notes,omitempty"`
	Timings Timings  `json:"timings"`
	// AfterSignal is what the SUT wrote after the runner sent it the sut block's
	// on_timeout signal (a Go SUT's goroutine stacks for SIGQUIT).
	AfterSignal string `json:"sut_output_after_signal,omitempty"`
}

// GroupTool is the Tool of a concurrently group's own result.
const GroupTool = "concurrently"

// FailedStep returns the step that decided a FAILED or ERROR verdict, if any: for a
// concurrently group, the step inside it whose failure failed the group.
func (r *ScenarioResult) FailedStep() *StepResult {
	for i := range r.Steps {
		s := &r.Steps[i]
		if (s.Status == Failed || s.Status == Error) && !s.ContinuedOnFailure && s.Phase != PhaseStepCleanup && s.Tool != GroupTool {
			return s
		}
	}
	return nil
}

// Summary counts a run's outcomes.
type Summary struct {
	Total     int `json:"total_scenarios"`
	Passed    int `json:"passed_scenarios"`
	Failed    int `json:"failed_scenarios"`
	Errors    int `json:"error_scenarios"`
	Skipped   int `json:"skipped_scenarios"`
	Cancelled int `json:"cancelled_scenarios"`
}

// Add counts one scenario outcome.
func (s *Summary) Add(st Status) {
	s.Total++
	switch st {
	case Passed:
		s.Passed++
	case Failed:
		s.Failed++
	case Error:
		s.Errors++
	case Skipped:
		s.Skipped++
	case Cancelled:
		s.Cancelled++
	}
}

// OK reports whether the run passed: nothing failed, errored or was cancelled.
func (s Summary) OK() bool { return s.Failed == 0 && s.Errors == 0 && s.Cancelled == 0 }

// RunInfo describes a run for the reporters' headers.
type RunInfo struct {
	SUT         string `json:"sut"`      // driver name and binary path
	Source      string `json:"source"`   // where the scenarios came from
	Parallel    int    `json:"parallel"` // workers
	Scenarios   int    `json:"scenarios"`
	Interrupted string `json:"interrupted,omitempty"` // signal name when the run was interrupted
}

// Run is a finished run.
type Run struct {
	Info     RunInfo          `json:"configuration"`
	Start    time.Time        `json:"start_time"`
	End      time.Time        `json:"end_time"`
	Duration time.Duration    `json:"duration"`
	Summary  Summary          `json:"summary"`
	Results  []ScenarioResult `json:"scenario_results"`
}

// Listener receives a run's events. Calls for different scenarios may come from different
// goroutines at once; a Listener must be safe for that.
type Listener interface {
	RunStarted(info RunInfo)
	ScenarioStarted(name string)
	ScenarioFinished(result ScenarioResult)
	RunFinished(run Run)
}

// Key names a step in its scenario: its id, or "line N" for a step without one. An
// Exchange's Step is a Key.
func (s StepResult) Key() string {
	if s.ID != "" {
		return s.ID
	}
	return fmt.Sprintf("line %d", s.Line)
}
