package conform

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/htmlreport"
	"github.com/muster-test/muster-test/internal/report"
)

// writeFiles writes what the options ask for: the baseline, the JSON report, the JUnit
// file. Each path it wrote is printed.
func writeFiles(opts Options, res *Result) error {
	if opts.WriteBaseline != "" {
		if err := writeBaseline(opts.WriteBaseline, res); err != nil {
			return fmt.Errorf("--write-baseline: %w", err)
		}
		fmt.Fprintln(opts.Stdout, "baseline written:", opts.WriteBaseline)
	}
	if opts.ReportDir != "" {
		p, err := writeJSON(opts.ReportDir, res)
		if err != nil {
			return fmt.Errorf("--report: %w", err)
		}
		fmt.Fprintln(opts.Stdout, "JSON report:", p)
	}
	if opts.JUnitFile != "" {
		j := report.NewJUnit(opts.JUnitFile)
		j.RunFinished(junitRun(res))
		if err := j.Err(); err != nil {
			return err
		}
	}
	if opts.HTMLFile != "" {
		if err := htmlreport.WriteConform(opts.HTMLFile, htmlRun(res)); err != nil {
			return fmt.Errorf("--html: %w", err)
		}
		fmt.Fprintln(opts.Stdout, "HTML report:", opts.HTMLFile)
	}
	return nil
}

// checkOutputs makes sure the report files can be written before any check runs.
func (opts *Options) checkOutputs() error {
	for _, f := range []struct{ flag, path string }{{"--junit", opts.JUnitFile}, {"--html", opts.HTMLFile}, {"--write-baseline", opts.WriteBaseline}} {
		if f.path == "" {
			continue
		}
		if err := report.CheckFile(f.path); err != nil {
			return fmt.Errorf("%s %s: %w", f.flag, f.path, err)
		}
	}
	if opts.ReportDir != "" {
		if err := report.CheckDir(opts.ReportDir); err != nil {
			return fmt.Errorf("--report %s: %w", opts.ReportDir, err)
		}
	}
	return nil
}

// htmlRun shapes the result for the HTML report.
func htmlRun(res *Result) *htmlreport.ConformRun {
	out := &htmlreport.ConformRun{Target: res.Target, Grade: grade(res), Start: res.Start, Duration: res.Duration}
	for _, l := range levels {
		out.Levels = append(out.Levels, string(l))
	}
	for _, o := range res.Outcomes {
		out.Checks = append(out.Checks, htmlreport.ConformCheck{ID: o.Check.ID, Level: string(o.Check.Level), Verdict: string(o.Verdict),
			Reason: o.Reason, Requirement: o.Check.Requirement, Refs: o.Check.Refs, Baselined: o.Baselined, Stale: o.Stale, Result: o.Result})
	}
	return out
}

// jsonCheck is one check in the JSON report.
type jsonCheck struct {
	ID          string                `json:"id"`
	Level       Level                 `json:"level"`
	Verdict     Verdict               `json:"verdict"`
	Reason      string                `json:"reason,omitempty"`
	Stale       bool                  `json:"stale_baseline_entry,omitempty"`
	Requirement string                `json:"requirement"`
	Paraphrase  bool                  `json:"paraphrase,omitempty"`
	Refs        []string              `json:"refs"`
	Result      *event.ScenarioResult `json:"result,omitempty"`
}

func writeJSON(dir string, res *Result) (string, error) {
	doc := struct {
		Target   string           `json:"target"`
		Grade    string           `json:"grade"`
		Counts   map[Level]counts `json:"counts"`
		Start    string           `json:"start_time"`
		Duration float64          `json:"duration_seconds"`
		Checks   []jsonCheck      `json:"checks"`
	}{Target: res.Target, Grade: grade(res), Counts: tally(res), Start: res.Start.UTC().Format("2006-01-02T15:04:05Z"),
		Duration: res.Duration.Seconds()}
	for _, o := range res.Outcomes {
		doc.Checks = append(doc.Checks, jsonCheck{ID: o.Check.ID, Level: o.Check.Level, Verdict: o.Verdict,
			Reason: o.Reason, Stale: o.Stale, Requirement: o.Check.Requirement, Paraphrase: o.Check.Paraphrase, Refs: o.Check.Refs, Result: o.Result})
	}
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	p := filepath.Join(dir, "muster-test-conform-"+res.Start.Format("20060102-150405")+".json")
	return p, report.WriteFile(p, append(data, '\n'))
}

// junitRun shapes the verdicts as a run for the JUnit reporter: a FAIL or a stale entry
// is a failure, N/A and XFAIL are skipped with their reason, PASS and WARN pass (a WARN
// never fails the run; its reason stays in the report's notes).
func junitRun(res *Result) event.Run {
	run := event.Run{Info: event.RunInfo{SUT: res.Target, Source: "muster-test conform"}, Start: res.Start,
		Duration: res.Duration, End: res.Start.Add(res.Duration)}
	for _, o := range res.Outcomes {
		r := event.ScenarioResult{Name: o.Check.ID, Category: "conform", Concept: string(o.Check.Level),
			Description: o.Check.requirementText()}
		if o.Result != nil {
			r = *o.Result
			r.Name, r.Description = o.Check.ID, o.Check.requirementText()
		}
		switch {
		case o.Stale:
			r.Status, r.Error = event.Failed, "stale baseline entry: the check passes, remove it from the baseline"
		case o.Verdict == Fail:
			r.Status, r.Error = event.Failed, o.Reason
		case o.Verdict == NA || o.Verdict == XFail:
			r.Status, r.Error = event.Skipped, string(o.Verdict)+": "+o.Reason
		default:
			r.Status, r.Error = event.Passed, ""
			if o.Verdict == Warn {
				r.Notes = append(r.Notes, "WARN (SHOULD not met): "+o.Reason)
			}
		}
		run.Summary.Add(r.Status)
		run.Results = append(run.Results, r)
	}
	return run
}
