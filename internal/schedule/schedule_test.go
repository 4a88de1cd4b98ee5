package schedule

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/scenario"
)

// recorder is a Listener that keeps what it was told.
type recorder struct {
	mu       sync.Mutex
	started  []string
	finished []event.ScenarioResult
	run      *event.Run
}

func (r *recorder) RunStarted(event.RunInfo) {}
func (r *recorder) ScenarioStarted(n string) {
	r.mu.Lock()
	r.started = append(r.started, n)
	r.mu.Unlock()
}
func (r *recorder) ScenarioFinished(res event.ScenarioResult) {
	r.mu.Lock()
	r.finished = append(r.finished, res)
	r.mu.Unlock()
}
func (r *recorder) RunFinished(run event.Run) { r.run = &run }

func suite(n int) []*scenario.Scenario {
	var out []*scenario.Scenario
	for i := range n {
		out = append(out, &scenario.Scenario{Name: fmt.Sprintf("s%02d", i), Pos: scenario.Pos{File: fmt.Sprintf("f%02d.yaml", i)}})
	}
	return out
}

// blockingRun finishes a scenario with the status its name asks for ("fail" fails), and
// blocks others until their context ends, like a SUT that takes its time.
func blockingRun(ctx context.Context, sc *scenario.Scenario) event.ScenarioResult {
	res := Skeleton(sc)
	if strings.Contains(sc.Name, "fail") {
		res.Status = event.Failed
		return res
	}
	if strings.Contains(sc.Name, "pass") {
		res.Status = event.Passed
		return res
	}
	<-ctx.Done()
	res.Status, res.Error = event.Cancelled, context.Cause(ctx).Error()
	return res
}

func TestFailFastCancelsRunningAndQueued(t *testing.T) {
	scs := []*scenario.Scenario{{Name: "block-1"}, {Name: "fail"}, {Name: "queued-1"}, {Name: "queued-2"}}
	rec := &recorder{}
	run := Run(context.Background(), scs, Options{Parallel: 2, FailFast: true}, blockingRun, rec)
	want := []event.Status{event.Cancelled, event.Failed, event.Cancelled, event.Cancelled}
	for i, r := range run.Results {
		if r.Name != scs[i].Name || r.Status != want[i] {
			t.Errorf("result %d = %s %s, want %s %s", i, r.Name, r.Status, scs[i].Name, want[i])
		}
		if r.Status == event.Cancelled && !strings.Contains(r.Error, "fail-fast") {
			t.Errorf("%s: cancellation does not say why: %q", r.Name, r.Error)
		}
	}
	if len(rec.finished) != 4 || run.Summary.Cancelled != 3 || run.Summary.Failed != 1 || run.Summary.OK() {
		t.Fatalf("listener saw %d results, summary %+v", len(rec.finished), run.Summary)
	}
	if run.Info.Interrupted != "" {
		t.Errorf("fail-fast is not an interrupt: %q", run.Info.Interrupted)
	}
}

func TestWithoutFailFastAllRun(t *testing.T) {
	scs := []*scenario.Scenario{{Name: "fail"}, {Name: "pass-1"}, {Name: "pass-2"}, {Name: "skipped", Skip: true}}
	run := Run(context.Background(), scs, Options{Parallel: 1}, blockingRun, &recorder{})
	if s := run.Summary; s.Failed != 1 || s.Passed != 2 || s.Skipped != 1 || s.Total != 4 {
		t.Fatalf("summary %+v", s)
	}
}

func TestInterruptCancelsEverythingAndSaysWhy(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	var started atomic.Int32
	runOne := func(ctx context.Context, sc *scenario.Scenario) event.ScenarioResult {
		if started.Add(1) == 2 {
			cancel(errors.New("interrupted by SIGINT"))
		}
		return blockingRun(ctx, sc)
	}
	run := Run(ctx, suite(6), Options{Parallel: 2}, runOne, &recorder{})
	if run.Summary.Cancelled != 6 || run.Info.Interrupted != "interrupted by SIGINT" {
		t.Fatalf("summary %+v, interrupted %q", run.Summary, run.Info.Interrupted)
	}
	for _, r := range run.Results {
		if !strings.Contains(r.Error, "SIGINT") {
			t.Errorf("%s: %q", r.Name, r.Error)
		}
	}
}

func TestRunTimeoutCancels(t *testing.T) {
	run := Run(context.Background(), suite(3), Options{Parallel: 1, Timeout: 30 * time.Millisecond}, blockingRun, &recorder{})
	if run.Summary.Cancelled != 3 {
		t.Fatalf("summary %+v", run.Summary)
	}
	if !strings.Contains(run.Results[0].Error, "--timeout") {
		t.Errorf("error %q", run.Results[0].Error)
	}
	if !strings.Contains(run.Info.Interrupted, "--timeout") {
		t.Errorf("the summary must say the run's timeout stopped it: %q", run.Info.Interrupted)
	}
}

func TestParallelRunsConcurrently(t *testing.T) {
	var cur, peak atomic.Int32
	gate := make(chan struct{})
	var once sync.Once
	runOne := func(ctx context.Context, sc *scenario.Scenario) event.ScenarioResult {
		n := cur.Add(1)
		if n > peak.Load() {
			peak.Store(n)
		}
		if n == 4 {
			once.Do(func() { close(gate) })
		}
		select {
		case <-gate:
		case <-ctx.Done():
		}
		cur.Add(-1)
		res := Skeleton(sc)
		res.Status = event.Passed
		return res
	}
	run := Run(context.Background(), suite(8), Options{Parallel: 4, Timeout: 10 * time.Second}, runOne, &recorder{})
	if peak.Load() != 4 || run.Summary.Passed != 8 {
		t.Fatalf("peak %d, summary %+v", peak.Load(), run.Summary)
	}
}

func TestPanicIsErrorNotCrash(t *testing.T) {
	runOne := func(ctx context.Context, sc *scenario.Scenario) event.ScenarioResult { panic("kaboom") }
	run := Run(context.Background(), suite(1), Options{}, runOne, &recorder{})
	if run.Results[0].Status != event.Error || !strings.Contains(run.Results[0].Error, "kaboom") {
		t.Fatalf("%+v", run.Results[0])
	}
}

func TestShardPartitionStableAndComplete(t *testing.T) {
	all := suite(23)
	for _, n := range []int{1, 2, 3, 4, 7, 30} {
		seen := map[string]int{}
		for k := 1; k <= n; k++ {
			part, err := Select(all, Filter{Shard: Shard{K: k, N: n}})
			if err != nil {
				t.Fatal(err)
			}
			if len(part) < 23/n || len(part) > 23/n+1 {
				t.Errorf("shard %d/%d has %d scenarios", k, n, len(part))
			}
			// Stable: the same input in another order gives the same part.
			rev := append([]*scenario.Scenario(nil), all...)
			for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
				rev[i], rev[j] = rev[j], rev[i]
			}
			again, _ := Select(rev, Filter{Shard: Shard{K: k, N: n}})
			if names(again, true) != names(part, true) {
				t.Errorf("shard %d/%d depends on input order", k, n)
			}
			for _, sc := range part {
				seen[sc.Name]++
			}
		}
		if len(seen) != 23 {
			t.Errorf("N=%d covers %d of 23", n, len(seen))
		}
		for name, c := range seen {
			if c != 1 {
				t.Errorf("N=%d: %s in %d shards", n, name, c)
			}
		}
	}
}

func names(scs []*scenario.Scenario, sorted bool) string {
	var out []string
	for _, s := range scs {
		out = append(out, s.Name)
	}
	if sorted {
		for i := range out {
			for j := i + 1; j < len(out); j++ {
				if out[j] < out[i] {
					out[i], out[j] = out[j], out[i]
				}
			}
		}
	}
	return strings.Join(out, ",")
}

func TestSelectFilters(t *testing.T) {
	all := []*scenario.Scenario{
		{Name: "oauth-sso-detection", Category: "behavioral", Concept: "mcpserver", Tags: []string{"oauth", "sso"}},
		{Name: "oauth-token-refresh", Category: "behavioral", Concept: "oauth", Tags: []string{"oauth"}},
		{Name: "workflow-basic", Category: "integration", Concept: "workflow"},
	}
	cases := []struct {
		f    Filter
		want string
	}{
		{Filter{}, "oauth-sso-detection,oauth-token-refresh,workflow-basic"},
		{Filter{Names: []string{"workflow-basic"}}, "workflow-basic"},
		{Filter{Tags: []string{"oauth"}}, "oauth-sso-detection,oauth-token-refresh"},
		{Filter{Tags: []string{"oauth", "sso"}}, "oauth-sso-detection"},
		{Filter{Category: "integration"}, "workflow-basic"},
		{Filter{Concept: "oauth"}, "oauth-token-refresh"},
	}
	for _, c := range cases {
		got, err := Select(all, c.f)
		if err != nil || names(got, false) != c.want {
			t.Errorf("%+v: got %q %v, want %q", c.f, names(got, false), err, c.want)
		}
	}
	_, err := Select(all, Filter{Names: []string{"oauth-sso-detektion"}})
	if err == nil || !strings.Contains(err.Error(), `did you mean "oauth-sso-detection"`) || !strings.Contains(err.Error(), "workflow-basic") {
		t.Fatalf("miss error: %v", err)
	}
}

func TestParseShard(t *testing.T) {
	if s, err := ParseShard("2/4"); err != nil || s != (Shard{2, 4}) {
		t.Fatalf("%v %v", s, err)
	}
	for _, bad := range []string{"0/4", "5/4", "x/2", "2", "1/0"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// A scenario none of whose steps ran (skipped, stopped before it started, or ended before
// its first step) lists them all as NOT_RUN with the reason, so a report shows what was not
// checked; the listener sees the same result as the run.
func TestStepsOfScenariosThatNeverRanAreListed(t *testing.T) {
	steps := []scenario.Step{{ID: "a", Tool: "t", Pos: scenario.Pos{Line: 5}}, {ID: "b", Tool: "t", Pos: scenario.Pos{Line: 8}}}
	cleanup := []scenario.Step{{ID: "c", Tool: "t", Pos: scenario.Pos{Line: 12}}}
	scs := []*scenario.Scenario{
		{Name: "fail", Steps: steps, Cleanup: cleanup},
		{Name: "skipped", Skip: true, Steps: steps},
		{Name: "queued", Steps: steps},
	}
	rec := &recorder{}
	run := Run(context.Background(), scs, Options{Parallel: 1, FailFast: true}, blockingRun, rec)
	for i, want := range []string{
		"step a NOT_RUN (line 5); step b NOT_RUN (line 8); cleanup c NOT_RUN (line 12)",
		"step a NOT_RUN (line 5); step b NOT_RUN (line 8)",
		"step a NOT_RUN (line 5); step b NOT_RUN (line 8)",
	} {
		r := run.Results[i]
		var got []string
		for _, s := range r.Steps {
			got = append(got, fmt.Sprintf("%s %s %s (line %d)", s.Phase, s.ID, s.Status, s.Line))
			if !strings.HasPrefix(s.Message, "not run") {
				t.Errorf("%s: step %s message %q", r.Name, s.ID, s.Message)
			}
		}
		if strings.Join(got, "; ") != want {
			t.Errorf("%s: steps %q, want %q", r.Name, strings.Join(got, "; "), want)
		}
	}
	if m := run.Results[1].Steps[0].Message; m != "not run: skip: true" {
		t.Errorf("skipped step message %q", m)
	}
	for _, r := range rec.finished {
		if len(r.Steps) == 0 {
			t.Errorf("listener got %s without its steps", r.Name)
		}
	}
}
