package load

import (
	"context"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/runner"
	"github.com/muster-test/muster-test/internal/testbin"
	"github.com/muster-test/muster-test/internal/testtools"
	"github.com/muster-test/muster-test/scenario"
	"github.com/muster-test/muster-test/workloads"
)

var muster string // the muster-test binary built for these tests

func TestMain(m *testing.M) {
	os.Exit(testbin.RunMain(m, &muster))
}

// counterWorkload drives the reference SUT in front of an HTTP mock whose calls the test
// counts: a good call, a two-user workflow, a tool error (with a step after it, which is
// not run) and an unmet expectation.
const counterWorkload = `name: counter
virtual_users: {count: 6, name_prefix: u}
pre_configuration:
  mcp_servers:
    - name: counter
      config:
        type: streamable-http
        tools:
          - name: hit
            responses: [{response: {ok: true, n: 7}}]
          - name: fail
            responses: [{error: "boom"}]
workflows:
  - name: single
    weight: 4
    steps:
      - {id: hit, tool: x_counter_hit, expected: {success: true, json_path: {ok: true}}}
  - name: pair
    weight: 2
    roles: [a, b]
    steps:
      - {id: pair-a, tool: x_counter_hit, expected: {success: true}}
      - {id: pair-b, tool: x_counter_hit, as_role: b, args: {n: "{{ pair-a.n }}"}, expected: {success: true}}
  - name: broken
    weight: 1
    steps:
      - {id: tool-error, tool: x_counter_fail, expected: {success: true}}
      - {id: after-error, tool: x_counter_hit, expected: {success: true}}
  - name: unmet
    weight: 1
    steps:
      - {id: unmet, tool: x_counter_hit, expected: {success: true, json_path: {ok: false}}}
thresholds:
  "step:hit p99": "< 5s"
  "workflow:broken error_rate": "< 1%"
`

func parseWorkload(t *testing.T, src string) *scenario.Workload {
	t.Helper()
	w, diags := testtools.Loader().ParseWorkload("w.yaml", []byte(src))
	if w == nil {
		t.Fatalf("workload does not load: %v", diags)
	}
	return w
}

func options(w *scenario.Workload) *Options {
	return &Options{Workload: w, Users: w.VirtualUsers.Count, Duration: 1500 * time.Millisecond, Seed: 7,
		Runner: &runner.Options{Stdout: os.Stdout, Stderr: os.Stderr, ReadyTimeout: 30 * time.Second,
			SUT: runner.SUTOptions{Kind: "builtin", Self: muster}}}
}

// TestCallsAtTheMockEqualTheCallsReported is the accuracy check: every call the figures
// count reached the mock, and every call that reached it is counted, errors included.
func TestCallsAtTheMockEqualTheCallsReported(t *testing.T) {
	o := options(parseWorkload(t, counterWorkload))
	var atMock map[string]int
	o.Observe = func(w *testtools.World) {
		srv, _ := w.Env.Server("counter")
		atMock = map[string]int{"hit": len(srv.HTTP.CallsTo("hit")), "fail": len(srv.HTTP.CallsTo("fail"))}
	}
	r, _, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	count := func(id string) int {
		if e := r.Steps[id]; e != nil {
			return int(e.Count)
		}
		return 0
	}
	hits := count("hit") + count("pair-a") + count("pair-b") + count("unmet")
	if hits == 0 || atMock["hit"] != hits || atMock["fail"] != count("tool-error") {
		t.Fatalf("mock saw hit %d, fail %d; figures say hit %d, fail %d", atMock["hit"], atMock["fail"], hits, count("tool-error"))
	}
	if int(r.Run.Count) != atMock["hit"]+atMock["fail"] {
		t.Errorf("run count %d, mock calls %d", r.Run.Count, atMock["hit"]+atMock["fail"])
	}
	if e := r.Steps["after-error"]; e != nil {
		t.Errorf("the step after a failed one never ran, yet is counted: %+v", e.ByKind)
	}
	if e := r.Steps["tool-error"]; e.Errors != e.Count || e.ByKind[KindToolError] != e.Count {
		t.Errorf("tool-error step: %+v", e.ByKind)
	}
	if e := r.Steps["unmet"]; e.Errors != e.Count || e.ByKind[KindExpectation] != e.Count {
		t.Errorf("unmet step: %+v", e.ByKind)
	}
	if e := r.Steps["hit"]; e.Errors != 0 || e.P50MS <= 0 || e.P99MS < e.P50MS || e.MaxMS < e.P99MS {
		t.Errorf("hit step: %+v", e)
	}
	// The time series: every call in one second's bucket, each second with calls has its p95,
	// none above the run's max.
	var perSecond uint64
	for i, sec := range r.Throughput {
		perSecond += sec.Calls
		if (sec.Calls > 0) != (sec.P95MS > 0) || sec.P95MS > r.Run.MaxMS {
			t.Errorf("second %d: %d calls, p95 %.3fms (run max %.3fms)", i, sec.Calls, sec.P95MS, r.Run.MaxMS)
		}
	}
	if perSecond != r.Run.Count {
		t.Errorf("calls per second add up to %d, run count %d", perSecond, r.Run.Count)
	}
	if r.Workflows["pair"].Count != r.Steps["pair-b"].Count {
		t.Errorf("pair workflows %d, pair-b steps %d", r.Workflows["pair"].Count, r.Steps["pair-b"].Count)
	}
	var users uint64
	for _, e := range r.UsersFig {
		users += e.Count
	}
	if users != r.Run.Count || len(r.UsersFig) != 6 {
		t.Errorf("users' calls %d of %d over %d users", users, r.Run.Count, len(r.UsersFig))
	}
	if r.Setup.Users != 6 || r.Setup.Failed != 0 || r.Setup.Login.Count != 6 {
		t.Errorf("setup %+v", r.Setup)
	}
	broken := r.Check(o.Workload.Parsed)
	if len(broken) != 1 || broken[0].Key != "workflow:broken error_rate" {
		t.Errorf("broken thresholds %+v", broken)
	}
}

// TestOpenModelStartsAtTheRate: with --rate the starts follow the clock, not the answers:
// exactly rate x duration workflows start.
func TestOpenModelStartsAtTheRate(t *testing.T) {
	w := parseWorkload(t, counterWorkload)
	w.Workflows = w.Workflows[:1]
	o := options(w)
	o.Rate, o.Duration = 40, time.Second
	r, _, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if n := r.Workflows["single"].Count; n != 40 {
		t.Errorf("%d workflows started at 40/s in 1s, want 40", n)
	}
	if r.Model != "open" || r.Run.Errors != 0 {
		t.Errorf("model %s, errors %d", r.Model, r.Run.Errors)
	}
}

func TestOpenOffsetRampsLinearly(t *testing.T) {
	// 10/s after a 2 s ramp: the ramp holds 10 starts (the area under the rising rate).
	if d := openOffset(10, 10, 2*time.Second); d != 2*time.Second {
		t.Errorf("start 10 due at %s, want 2s", d)
	}
	if d := openOffset(20, 10, 2*time.Second); d != 3*time.Second {
		t.Errorf("start 20 due at %s, want 3s", d)
	}
	if d := openOffset(5, 10, 0); d != 500*time.Millisecond {
		t.Errorf("start 5 without a ramp due at %s", d)
	}
}

// TestClockScheduleCausesRefreshes: with the IdP's clock advanced past the tokens'
// lifetime during the run, the gateway (the token's owner) refreshes them and the users'
// calls go on without errors; without the schedule nothing is refreshed.
func TestClockScheduleCausesRefreshes(t *testing.T) {
	data, err := fs.ReadFile(workloads.FS, "refsut-gateway.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(data), "      auto_approve: true\n", "      auto_approve: true\n      use_mock_clock: true\n      token_lifetime: 1m\n", 1)
	for _, storm := range []bool{false, true} {
		w := parseWorkload(t, src)
		if storm {
			// One advance within the 1.5 s run: every token expires at once and each is
			// refreshed. With several, a refreshed token could expire again before its retry
			// on a loaded machine, which is a storm no gateway survives without errors.
			w.Clock = &scenario.Clock{Advance: scenario.Duration(2 * time.Minute), Every: scenario.Duration(time.Second)}
		}
		o := options(w)
		o.Users = 4
		r, _, err := Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		refreshes := r.IdPs["idp"].Refresh
		if r.Run.Errors != 0 || r.Run.Count == 0 {
			t.Errorf("storm %v: %d errors of %d calls: %v", storm, r.Run.Errors, r.Run.Count, r.Run.ByKind)
		}
		if storm != (refreshes > 0) {
			t.Errorf("storm %v: %d refreshes", storm, refreshes)
		}
		if r.IdPs["idp"].AuthorizationCode != 4 {
			t.Errorf("storm %v: %d logins (code grants), want one per user", storm, r.IdPs["idp"].AuthorizationCode)
		}
	}
}
