package sut_test

// This file is an external test package (sut_test) so it can drive the whole runner, which
// itself imports sut, without an import cycle.

import (
	"context"
	"encoding/json"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/runner"
	"github.com/muster-test/muster-test/internal/sut"
)

// musterBinaryEnv names a real muster binary and musterScenariosEnv a checkout of muster's
// scenario directory; CI has neither, so the test skips without them.
const (
	musterBinaryEnv    = "MUSTER_BINARY"
	musterScenariosEnv = "MUSTER_SCENARIOS"
)

// musterOAuthScenarios are muster's OAuth scenario files at commit af5d3ca1 (all of them at
// that commit), with the scenario name each file declares. Later commits add OAuth files
// that use test tools muster-test does not implement yet, so the list is fixed rather than
// globbed.
var musterOAuthScenarios = []struct{ file, name string }{
	{"oauth-auth-meta-propagation.yaml", "oauth-auth-meta-propagation"},
	{"oauth-different-issuers.yaml", "oauth-different-issuers"},
	{"oauth-full-stack.yaml", "oauth-full-stack"},
	{"oauth-mock-server-basic.yaml", "oauth-mock-server-basic"},
	{"oauth-pre-auth-behavior.yaml", "oauth-pre-auth-behavior"},
	{"oauth-protected-mcp-server.yaml", "oauth-protected-mcp-server"},
	{"oauth-sso-detection.yaml", "oauth-sso-detection"},
	{"oauth-sso-token-reuse.yaml", "oauth-sso-token-reuse"},
	{"oauth-token-expiry-handling.yaml", "oauth-token-expiry-handling"},
	{"oauth-token-injection.yaml", "oauth-token-injection"},
	{"oauth-token-refresh-flow.yaml", "oauth-token-refresh-flow"},
}

// TestMusterOwnOAuthScenarios runs muster's own OAuth scenario files, read from the checkout
// named by $MUSTER_SCENARIOS, through our runner against the real muster named by
// $MUSTER_BINARY: every scenario and every step must pass, and no muster process may still
// listen afterwards.
func TestMusterOwnOAuthScenarios(t *testing.T) {
	bin, dir := os.Getenv(musterBinaryEnv), os.Getenv(musterScenariosEnv)
	var missing []string
	if bin == "" {
		missing = append(missing, musterBinaryEnv+" (a muster binary, e.g. built from github.com/giantswarm/muster at af5d3ca1)")
	}
	if dir == "" {
		missing = append(missing, musterScenariosEnv+" (a checkout's internal/testing/scenarios at af5d3ca1)")
	}
	if len(missing) > 0 {
		t.Skipf("runs muster's own OAuth scenario files against real muster; not set: %s", strings.Join(missing, ", "))
	}
	for _, tc := range musterOAuthScenarios {
		if _, err := os.Stat(filepath.Join(dir, tc.file)); err != nil {
			t.Fatalf("%s=%s does not hold muster's %s (want muster's internal/testing/scenarios at af5d3ca1): %v",
				musterScenariosEnv, dir, tc.file, err)
		}
	}
	driver, err := runner.ChooseDriver(runner.SUTOptions{Kind: "muster", MusterBinary: bin})
	if err != nil {
		t.Fatalf("%s=%s: %v", musterBinaryEnv, bin, err)
	}
	for _, tc := range musterOAuthScenarios {
		t.Run(tc.name, func(t *testing.T) {
			rec := &endpointRecorder{Driver: driver}
			run, code, out := runScenarioFile(t, rec, filepath.Join(dir, tc.file))
			if code != runner.ExitOK {
				t.Errorf("runner exit code %d, want %d", code, runner.ExitOK)
			}
			if !strings.HasPrefix(run.Configuration.SUT, "muster (") {
				t.Errorf("the run's SUT is %q, want the muster driver", run.Configuration.SUT)
			}
			if len(run.Results) != 1 || run.Results[0].Scenario.Name != tc.name {
				t.Fatalf("report holds %d results, want exactly scenario %s\n%s", len(run.Results), tc.name, out)
			}
			res := run.Results[0]
			if res.Result != event.Passed {
				t.Errorf("scenario %s: %s %s\n%s", tc.name, res.Result, res.Error, out)
			}
			if len(res.Steps) == 0 {
				t.Errorf("scenario %s ran no step", tc.name)
			}
			for _, s := range res.Steps {
				if s.Result != event.Passed {
					t.Errorf("step %s (%s): %s: %s", s.Step.ID, s.Step.Tool, s.Result, s.Error)
				}
			}
			rec.assertStopped(t)
		})
	}
}

// runScenarioFile runs one scenario file through the runner and returns its JSON report,
// the exit code and the console output.
func runScenarioFile(t *testing.T, driver sut.Driver, file string) (jsonReport, int, string) {
	t.Helper()
	var out strings.Builder
	reportDir := t.TempDir()
	opts := &runner.Options{
		ConfigPaths:  []string{file},
		Parallel:     2,
		NoColor:      true,
		Verbose:      true,
		ReportDir:    reportDir,
		ReadyTimeout: 20 * time.Second,
		Timeout:      2 * time.Minute,
		Stdout:       &syncWriter{w: &out},
		Stderr:       &syncWriter{w: &out},
	}
	code := runner.MainWith(context.Background(), opts, driver)
	reports, _ := filepath.Glob(filepath.Join(reportDir, "*.json"))
	if len(reports) != 1 {
		t.Fatalf("want one JSON report in %s, got %v (exit %d)\n%s", reportDir, reports, code, out.String())
	}
	b, err := os.ReadFile(reports[0])
	if err != nil {
		t.Fatal(err)
	}
	var run jsonReport
	if err := json.Unmarshal(b, &run); err != nil {
		t.Fatalf("decode %s: %v", reports[0], err)
	}
	return run, code, out.String()
}

// jsonReport is the part of the JSON report (muster's report format) the test reads.
type jsonReport struct {
	Configuration event.RunInfo `json:"configuration"`
	Results       []struct {
		Scenario struct {
			Name string `json:"name"`
		} `json:"scenario"`
		Result event.Status `json:"result"`
		Error  string       `json:"error"`
		Steps  []struct {
			Step struct {
				ID   string `json:"id"`
				Tool string `json:"tool"`
			} `json:"step"`
			Result event.Status `json:"result"`
			Error  string       `json:"error"`
		} `json:"step_results"`
	} `json:"scenario_results"`
}

// endpointRecorder remembers the endpoint of every SUT it started, so the test can check
// that muster no longer listens once the run is over.
type endpointRecorder struct {
	sut.Driver
	mu        sync.Mutex
	endpoints []string
}

func (r *endpointRecorder) Start(ctx context.Context, spec *sut.Spec) (*sut.Instance, error) {
	inst, err := r.Driver.Start(ctx, spec)
	if inst != nil {
		r.mu.Lock()
		r.endpoints = append(r.endpoints, inst.Endpoint)
		r.mu.Unlock()
	}
	return inst, err
}

func (r *endpointRecorder) assertStopped(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	// A start that failed left no endpoint; the scenario's ERROR already says why.
	for _, ep := range r.endpoints {
		u, err := url.Parse(ep)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after the run", ep)
		}
	}
}

// syncWriter serialises the runner's writes from its parallel workers.
type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
