package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/muster-test/muster-test/internal/event"
)

// JSON writes the run as DIR/muster-test-report-YYYYMMDD-HHMMSS.json (local time of the run's
// start, muster's naming) at RunFinished. The document has muster's report shape, so tools
// reading muster's reports read ours, plus extra keys (never renamed ones): see jsonRun.
// muster's `duration` keys are integer nanoseconds; every duration is also given as
// `duration_ms` (and the phases as `timings_ms`), milliseconds as a float, which is what a
// person or a dashboard reads.
// Its Path is the file written, or "" before RunFinished or after a failure.
type JSON struct {
	*FileWriter
	dir string
}

// NewJSON returns a JSON reporter writing into dir, created if missing.
func NewJSON(dir string) *JSON {
	j := &JSON{dir: dir}
	j.FileWriter = newFileWriter("JSON report", "", j.write)
	return j
}

// ReportFileName is muster's report file name for a run started at start (local time).
func ReportFileName(start time.Time) string {
	return "muster-test-report-" + start.Local().Format("20060102-150405") + ".json"
}

func (j *JSON) write(run *event.Run) (string, error) {
	data, err := json.MarshalIndent(newJSONRun(run), "", "  ")
	if err != nil {
		return "", fmt.Errorf("json report: %w", err)
	}
	if err := os.MkdirAll(j.dir, 0o755); err != nil {
		return "", fmt.Errorf("json report: %w", err)
	}
	start := run.Start
	if start.IsZero() {
		start = time.Now()
	}
	path := filepath.Join(j.dir, ReportFileName(start))
	if err := writeFileAtomic(path, append(data, '\n')); err != nil {
		return "", fmt.Errorf("json report: %w", err)
	}
	return path, nil
}

// jsonRun is muster's TestSuiteResult; cancelled_scenarios is ours.
type jsonRun struct {
	StartTime          time.Time            `json:"start_time"`
	EndTime            time.Time            `json:"end_time"`
	Duration           time.Duration        `json:"duration"`
	DurationMS         millis               `json:"duration_ms"`
	TotalScenarios     int                  `json:"total_scenarios"`
	PassedScenarios    int                  `json:"passed_scenarios"`
	FailedScenarios    int                  `json:"failed_scenarios"`
	SkippedScenarios   int                  `json:"skipped_scenarios"`
	ErrorScenarios     int                  `json:"error_scenarios"`
	CancelledScenarios int                  `json:"cancelled_scenarios"`
	ScenarioResults    []jsonScenarioResult `json:"scenario_results"`
	Configuration      event.RunInfo        `json:"configuration"`
}

// jsonScenarioResult is muster's TestScenarioResult; file, timings and trace are ours.
type jsonScenarioResult struct {
	Scenario     jsonScenario     `json:"scenario"`
	Result       event.Status     `json:"result"`
	StartTime    time.Time        `json:"start_time"`
	EndTime      time.Time        `json:"end_time"`
	Duration     time.Duration    `json:"duration"`
	DurationMS   millis           `json:"duration_ms"`
	StepResults  []jsonStepResult `json:"step_results"`
	Error        string           `json:"error,omitempty"`
	Output       string           `json:"output,omitempty"`
	InstanceLogs *jsonLogs        `json:"instance_logs,omitempty"`
	File         string           `json:"file"`
	Timings      event.Timings    `json:"timings"`
	TimingsMS    jsonTimingsMS    `json:"timings_ms"`
	Trace        []string         `json:"trace,omitempty"`
	Requests     []jsonExchange   `json:"requests,omitempty"`
	Notes        []string         `json:"notes,omitempty"`
	AfterSignal  string           `json:"sut_output_after_signal,omitempty"`
}

type jsonScenario struct {
	Name        string   `json:"name"`
	Category    string   `json:"category"`
	Concept     string   `json:"concept"`
	Description string   `json:"description"`
	Tags        []string `json:"tags,omitempty"`
}

// jsonLogs is muster's InstanceLogs. We capture the SUT's output as one stream.
type jsonLogs struct {
	Stdout   string `json:"stdout"`
	Stderr   string `json:"stderr"`
	Combined string `json:"combined"`
}

// jsonStepResult is muster's TestStepResult; the keys after retry_count are ours.
type jsonStepResult struct {
	Step       jsonStep      `json:"step"`
	Result     event.Status  `json:"result"`
	StartTime  time.Time     `json:"start_time"`
	EndTime    time.Time     `json:"end_time"`
	Duration   time.Duration `json:"duration"`
	DurationMS millis        `json:"duration_ms"`
	Response   string        `json:"response,omitempty"`
	Error      string        `json:"error,omitempty"`
	RetryCount int           `json:"retry_count"`

	Phase         event.Phase `json:"phase"`
	Line          int         `json:"line,omitempty"`
	User          string      `json:"user,omitempty"`
	Attempts      int         `json:"attempts"`
	Expectation   string      `json:"expectation,omitempty"`
	ExpectedValue any         `json:"expected_value,omitempty"`
	// ExpectationLine and ExpectationCol are where the unmet expectation stands in the
	// file; Got is the value it read from the answer, with its type.
	ExpectationLine    int      `json:"expectation_line,omitempty"`
	ExpectationCol     int      `json:"expectation_col,omitempty"`
	Got                string   `json:"got,omitempty"`
	AlsoUnmet          []string `json:"also_unmet,omitempty"`
	ContinuedOnFailure bool     `json:"continued_on_failure,omitempty"`
}

// jsonExchange is an event.Exchange with its duration in milliseconds.
type jsonExchange struct {
	Time       time.Time `json:"time"`
	DurationMS millis    `json:"duration_ms"`
	From       string    `json:"from"`
	To         string    `json:"to"`
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	Detail     string    `json:"detail,omitempty"`
	Bearer     string    `json:"bearer,omitempty"`
	Status     int       `json:"status,omitempty"`
	Error      string    `json:"error,omitempty"`
	Step       string    `json:"step,omitempty"`
}

// millis is a duration in milliseconds, as a float (1.5 is 1500µs).
type millis float64

func ms(d time.Duration) millis { return millis(float64(d) / float64(time.Millisecond)) }

// jsonTimingsMS is event.Timings in milliseconds.
type jsonTimingsMS struct {
	Environment millis `json:"environment"`
	SUTStart    millis `json:"sut_start"`
	SUTListen   millis `json:"sut_listen"`
	Ready       millis `json:"ready"`
	Steps       millis `json:"steps"`
	Teardown    millis `json:"teardown"`
}

type jsonStep struct {
	ID          string         `json:"id"`
	Tool        string         `json:"tool"`
	Description string         `json:"description,omitempty"`
	Args        map[string]any `json:"args,omitempty"`
}

func newJSONRun(run *event.Run) jsonRun {
	sum := summaryOf(run)
	out := jsonRun{
		StartTime:          run.Start,
		EndTime:            run.End,
		Duration:           run.Duration,
		DurationMS:         ms(run.Duration),
		TotalScenarios:     sum.Total,
		PassedScenarios:    sum.Passed,
		FailedScenarios:    sum.Failed,
		SkippedScenarios:   sum.Skipped,
		ErrorScenarios:     sum.Errors,
		CancelledScenarios: sum.Cancelled,
		ScenarioResults:    make([]jsonScenarioResult, 0, len(run.Results)),
		Configuration:      run.Info,
	}
	for i := range run.Results {
		out.ScenarioResults = append(out.ScenarioResults, newJSONScenario(&run.Results[i]))
	}
	return out
}

func newJSONScenario(r *event.ScenarioResult) jsonScenarioResult {
	out := jsonScenarioResult{
		Scenario: jsonScenario{
			Name: r.Name, Category: r.Category, Concept: r.Concept,
			Description: r.Description, Tags: r.Tags,
		},
		Result:      r.Status,
		StartTime:   r.Start,
		EndTime:     r.End,
		Duration:    r.Duration,
		DurationMS:  ms(r.Duration),
		StepResults: make([]jsonStepResult, 0, len(r.Steps)),
		Error:       r.Error,
		File:        r.File,
		Timings:     r.Timings,
		TimingsMS: jsonTimingsMS{Environment: ms(r.Timings.Environment), SUTStart: ms(r.Timings.SUTStart),
			SUTListen: ms(r.Timings.SUTListen), Ready: ms(r.Timings.Ready), Steps: ms(r.Timings.Steps), Teardown: ms(r.Timings.Teardown)},
		Trace:       r.Trace,
		Notes:       r.Notes,
		AfterSignal: r.AfterSignal,
	}
	if r.SUTLog != "" {
		out.InstanceLogs = &jsonLogs{Combined: r.SUTLog}
	}
	for _, e := range r.Exchanges {
		out.Requests = append(out.Requests, jsonExchange{Time: e.Time, DurationMS: ms(e.Duration), From: e.From, To: e.To,
			Method: e.Method, Path: e.Path, Detail: e.Detail, Bearer: e.Bearer, Status: e.Status, Error: e.Error, Step: e.Step})
	}
	for _, s := range r.Steps {
		out.StepResults = append(out.StepResults, jsonStepResult{
			Step:               jsonStep{ID: s.ID, Tool: s.Tool, Description: s.Description, Args: jsonSafeMap(s.Args)},
			Result:             s.Status,
			StartTime:          s.Start,
			EndTime:            s.Start.Add(s.Duration),
			Duration:           s.Duration,
			DurationMS:         ms(s.Duration),
			Response:           s.Response,
			Error:              s.Message,
			RetryCount:         max(0, s.Attempts-1),
			Phase:              s.Phase,
			Line:               s.Line,
			User:               s.User,
			Attempts:           s.Attempts,
			Expectation:        s.Expectation,
			ExpectedValue:      jsonSafe(s.Expected),
			ExpectationLine:    s.ExpectationLine,
			ExpectationCol:     s.ExpectationCol,
			Got:                s.Got,
			AlsoUnmet:          s.AlsoUnmet,
			ContinuedOnFailure: s.ContinuedOnFailure,
		})
	}
	return out
}

// jsonSafe turns maps with non-string keys (as a YAML decoder may produce) into maps
// encoding/json accepts, so one odd argument cannot cost the whole report.
func jsonSafe(v any) any {
	switch t := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[fmt.Sprint(k)] = jsonSafe(e)
		}
		return m
	case map[string]any:
		return jsonSafeMap(t)
	case []any:
		l := make([]any, len(t))
		for i, e := range t {
			l[i] = jsonSafe(e)
		}
		return l
	default:
		return v
	}
}

func jsonSafeMap(in map[string]any) map[string]any {
	if in == nil {
		return nil
	}
	m := make(map[string]any, len(in))
	for k, e := range in {
		m[k] = jsonSafe(e)
	}
	return m
}
