package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"gopkg.in/yaml.v3"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/sut"
	"github.com/muster-test/muster-test/internal/testbin"
	"github.com/muster-test/muster-test/internal/testtools"
)

// fakeSUTEnv makes this test binary act as a SUT (see TestMain): a program that speaks
// just enough MCP to be driven, and then misbehaves as the mode says.
const fakeSUTEnv = "MUSTER_TEST_FAKE_SUT"

var muster string // the muster-test binary built for these tests

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeSUTEnv); mode != "" {
		os.Exit(fakeSUT(mode, os.Args[1:]))
	}
	os.Exit(testbin.RunMain(m, &muster))
}

// takeTwice locks mu twice, which blocks for good.
func takeTwice(mu *sync.Mutex) {
	mu.Lock()
	mu.Lock()
}

// fakePIDFileEnv names a file where the fake SUT writes the pid of a process it started.
const fakePIDFileEnv = "MUSTER_TEST_FAKE_PIDFILE"

// fakeSUT serves `serve --config-path DIR` like muster: modes "crash" (the tool `crash`
// kills the process), "crash-orphan" (the same, leaving a child in a session of its own),
// "never-ready" (never listens), "exit-early" (fails at start), "port-taken-once" (its
// first start in a directory finds its port taken; with --port it serves direct mode), "setsid-grandchild" (starts
// a child in a session of its own, then serves), "freeze" (the tool `freeze` stops the
// process with SIGSTOP).
func fakeSUT(mode string, args []string) int {
	fmt.Fprintln(os.Stderr, "fake SUT starting in mode", mode)
	switch mode {
	case "never-ready":
		select {} // blocks until the runner kills it
	case "exit-early":
		fmt.Fprintln(os.Stderr, "Error: failed to initialize application: simulated bad config")
		return 1
	case "port-taken-once":
		// The first start in a scenario's temp dir (its working directory) loses the race
		// for its port, as a server does when another process took the port first.
		if _, err := os.Stat("started-once"); err != nil {
			_ = os.WriteFile("started-once", nil, 0o644)
			fmt.Fprintln(os.Stderr, "listen tcp 127.0.0.1:1: bind: address already in use")
			return 1
		}
	}
	var cfg struct {
		Aggregator struct{ Port int } `yaml:"aggregator"`
	}
	var cfgDir string
	for i, a := range args {
		switch {
		case a == "--config-path" && i+1 < len(args):
			cfgDir = args[i+1]
		case a == "--port" && i+1 < len(args): // direct mode: a command with a port
			cfg.Aggregator.Port, _ = strconv.Atoi(args[i+1])
		}
	}
	if cfgDir != "" {
		b, err := os.ReadFile(filepath.Join(cfgDir, "config.yaml"))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := yaml.Unmarshal(b, &cfg); err != nil {
			return 1
		}
	}
	if mode == "setsid-grandchild" {
		// Leaves the SUT's process group and session: only its tag still ties it to the run.
		child := exec.Command("sleep", "60")
		child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := child.Start(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := os.WriteFile(os.Getenv(fakePIDFileEnv), []byte(strconv.Itoa(child.Process.Pid)), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	s := server.NewMCPServer("fake-sut", "1")
	s.AddTool(mcp.NewTool("freeze"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		// The stop may take a moment to reach every thread; the call must not be
		// answered meanwhile.
		_ = syscall.Kill(os.Getpid(), syscall.SIGSTOP)
		select {}
	})
	s.AddTool(mcp.NewTool("ok"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultText("fine"), nil
	})
	s.AddTool(mcp.NewTool("deadlock"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var mu sync.Mutex
		takeTwice(&mu) // never returns: the hung call a SIGQUIT dump must show
		return nil, nil
	})
	s.AddTool(mcp.NewTool("crash"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		if mode == "crash-orphan" {
			// A child in a session of its own, holding the SUT's output open after it dies.
			orphan := exec.Command("sleep", "60")
			orphan.Stdout, orphan.Stderr = os.Stdout, os.Stderr
			orphan.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
			if err := orphan.Start(); err == nil {
				fmt.Fprintf(os.Stderr, "orphan pid %d\n", orphan.Process.Pid)
			}
		}
		fmt.Fprintln(os.Stderr, "panic: simulated crash")
		os.Exit(3)
		return nil, nil
	})
	mux := http.NewServeMux()
	// Sessions, as muster has: the freeze test counts the session DELETE left unanswered.
	mux.Handle("/mcp", server.NewStreamableHTTPServer(s, server.WithStreamableHTTPProtocolVersions(mcp.LegacyProtocolVersions()...)))
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(cfg.Aggregator.Port))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return map[bool]int{true: 0, false: 1}[errors.Is(http.Serve(l, mux), http.ErrServerClosed)]
}

// recorder wraps a driver and remembers every address a run used, so the test can check
// that none of them outlives the run.
type recorder struct {
	sut.Driver
	tmp       string // the run's $TMPDIR, fresh for it
	mu        sync.Mutex
	started   bool
	endpoints []string
	// starts counts the SUT starts, fromSpare those a spare took.
	starts, fromSpare int
}

// Unwrap lets the runner see the driver it wraps, as it does for any wrapping driver.
func (r *recorder) Unwrap() sut.Driver { return r.Driver }

func (r *recorder) Start(ctx context.Context, spec *sut.Spec) (*sut.Instance, error) {
	r.mu.Lock()
	r.started = true
	for _, u := range spec.Upstreams {
		if s, ok := u.Spec["url"].(string); ok {
			r.endpoints = append(r.endpoints, s)
		}
	}
	r.mu.Unlock()
	inst, err := r.Driver.Start(ctx, spec)
	if inst != nil {
		r.mu.Lock()
		r.endpoints = append(r.endpoints, inst.Endpoint)
		r.starts++
		if inst.FromSpare() {
			r.fromSpare++
		}
		r.mu.Unlock()
	}
	return inst, err
}

// assertNothingLeft checks that nothing of the run remains under its $TMPDIR, that no
// process runs with that directory on its command line or with a tag of this runner, and
// that nothing listens on the run's ports.
func (r *recorder) assertNothingLeft(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started {
		t.Fatal("the driver was never started")
	}
	if left, err := os.ReadDir(r.tmp); err != nil || len(left) > 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Errorf("left in the run's TMPDIR %s: %v (%v)", r.tmp, names, err)
	}
	// An orphan the run killed at its end may take a moment to die: polled, not sampled.
	testbin.WaitNoneLeft(t, 5*time.Second, func() []string {
		var left []string
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			if _, err := strconv.Atoi(e.Name()); err != nil {
				continue
			}
			cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
			if bytes.Contains(cmd, []byte(r.tmp)) && !bytes.Contains(stat, []byte(") Z ")) {
				left = append(left, fmt.Sprintf("%s %q", e.Name(), cmd))
			}
		}
		// Whatever their command lines show (the tests of a package run one at a time).
		for _, pid := range testbin.Tagged(os.Getpid()) {
			cmd, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
			left = append(left, fmt.Sprintf("%d %q", pid, bytes.TrimRight(cmd, "\x00")))
		}
		return left
	})
	for _, ep := range r.endpoints {
		u, err := url.Parse(ep)
		if err != nil {
			t.Fatal(err)
		}
		host := u.Host
		if u.Hostname() == "localhost" {
			host = net.JoinHostPort("127.0.0.1", u.Port())
		}
		if c, err := net.DialTimeout("tcp", host, time.Second); err == nil {
			c.Close()
			t.Errorf("%s still accepts connections after the run", ep)
		}
	}
}

type runOutcome struct {
	code   int
	stdout string
	run    map[string]any
	// starts and fromSpare count the SUT starts and those a spare took (see recorder).
	starts, fromSpare int
}

// runFiles runs scenario files through the real runner with a recording driver, with a
// $TMPDIR of its own. Every test that runs files thereby checks that nothing of the run is
// left (assertNothingLeft, at the end of the test).
// testReadyTimeout is the --ready-timeout of the runs here: long enough for a race-built
// SUT to start on a machine loaded by other test packages, which a shorter one failed.
const testReadyTimeout = 10 * time.Second

func runFiles(t *testing.T, driver sut.Driver, files ...string) runOutcome {
	t.Helper()
	return runFilesWith(t, driver, SUTOptions{Self: muster}, files...)
}

// runFilesWith is runFiles with the SUT options of the command line.
func runFilesWith(t *testing.T, driver sut.Driver, so SUTOptions, files ...string) runOutcome {
	t.Helper()
	var out, errOut bytes.Buffer
	root := t.TempDir()
	reportDir, tmp := filepath.Join(root, "report"), filepath.Join(root, "tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TMPDIR", tmp)
	opts := &Options{ConfigPaths: files, Stdout: &out, Stderr: &errOut, NoColor: true, Parallel: 2,
		ReportDir: reportDir, ReadyTimeout: testReadyTimeout, SUT: so}
	rec := &recorder{Driver: driver, tmp: tmp}
	t.Cleanup(func() { rec.assertNothingLeft(t) })
	code := MainWith(context.Background(), opts, rec)
	o := runOutcome{code: code, stdout: out.String() + errOut.String(), starts: rec.starts, fromSpare: rec.fromSpare}
	reports, _ := filepath.Glob(filepath.Join(reportDir, "*.json"))
	if len(reports) == 1 {
		b, _ := os.ReadFile(reports[0])
		_ = json.Unmarshal(b, &o.run)
	}
	return o
}

func fakeDriver(t *testing.T, mode string) sut.Driver {
	t.Setenv(fakeSUTEnv, mode)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return &sut.ServeDriver{Label: "fake SUT (" + mode + ")", Command: []string{self}}
}

func TestSUTCrashMidScenarioIsErrorWithLogTail(t *testing.T) {
	o := runFiles(t, fakeDriver(t, "crash"), "../../testdata/e2e/crash.yaml")
	if o.code != ExitFailed {
		t.Fatalf("exit %d, want 1\n%s", o.code, o.stdout)
	}
	for _, want := range []string{"SUT exited with code 3", "panic: simulated crash", "crashes"} {
		if !strings.Contains(o.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, o.stdout)
		}
	}
	if strings.Contains(o.stdout, "never-runs") {
		t.Errorf("a step ran after the SUT died:\n%s", o.stdout)
	}
}

// TestSUTCrashWithOrphanHoldingItsOutput: a SUT whose child outlives it, holding its
// output open, is still seen to have died, the scenario ends instead of hanging, and the
// orphan (in a session of its own) is killed and reaped with the scenario.
func TestSUTCrashWithOrphanHoldingItsOutput(t *testing.T) {
	o := runFiles(t, fakeDriver(t, "crash-orphan"), "../../testdata/e2e/crash.yaml")
	m := regexp.MustCompile(`orphan pid (\d+)`).FindStringSubmatch(o.stdout)
	if m == nil {
		t.Fatalf("the fake SUT did not report its orphan:\n%s", o.stdout)
	}
	pid, _ := strconv.Atoi(m[1])
	assertGone(t, pid)
	if o.code != ExitFailed || !strings.Contains(o.stdout, "SUT exited with code 3") {
		t.Fatalf("exit %d, want the SUT's death reported:\n%s", o.code, o.stdout)
	}
	if !strings.Contains(o.stdout, "killed 1 process(es) the SUT left outside its process group (pid "+m[1]+")") {
		t.Errorf("no note on the killed orphan:\n%s", o.stdout)
	}
}

// assertGone fails unless pid is gone entirely: not running, and not a zombie either (the
// runner is the subreaper that must reap it). It kills the process if it still runs.
func assertGone(t *testing.T, pid int) {
	t.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGKILL) // ours: started by the fake SUT for this test
	t.Errorf("process %d outlived its scenario: %s", pid, stat)
}

// TestSUTGrandchildInItsOwnSessionDiesWithTheScenario: a grandchild that left the SUT's
// process group and session (setsid) while the SUT keeps running is killed at teardown.
func TestSUTGrandchildInItsOwnSessionDiesWithTheScenario(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "grandchild.pid")
	t.Setenv(fakePIDFileEnv, pidFile)
	o := runFiles(t, fakeDriver(t, "setsid-grandchild"), "../../testdata/e2e/plain.yaml")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the fake SUT wrote no grandchild pid: %v\n%s", err, o.stdout)
	}
	pid, _ := strconv.Atoi(string(b))
	assertGone(t, pid)
	if o.code != ExitOK {
		t.Fatalf("exit %d:\n%s", o.code, o.stdout)
	}
	if !strings.Contains(o.stdout, "killed 1 process(es) the SUT left outside its process group") {
		t.Errorf("no note on the killed grandchild:\n%s", o.stdout)
	}
}

// TestFrozenSUTTeardownIsBounded: a SUT stopped with SIGSTOP answers neither the session
// DELETE nor SIGTERM; the teardown is cut at its budget and the result says so.
func TestFrozenSUTTeardownIsBounded(t *testing.T) {
	o := runFiles(t, fakeDriver(t, "freeze"), "../../testdata/e2e/freeze.yaml")
	if o.code != ExitFailed || !strings.Contains(o.stdout, "scenario timed out after 5s") ||
		!regexp.MustCompile(`step:\s+freezes`).MatchString(o.stdout) {
		t.Fatalf("exit %d, want the scenario's timeout in the step that froze the SUT:\n%s", o.code, o.stdout)
	}
	const note = "teardown cut to its 2s budget: 1 MCP session close(s) (DELETE) unanswered after 500ms; " +
		"the SUT did not exit on SIGTERM in time and was killed (SIGKILL)"
	if !strings.Contains(o.stdout, note) {
		t.Errorf("console lacks the note %q:\n%s", note, o.stdout)
	}
	results, _ := o.run["scenario_results"].([]any)
	if len(results) != 1 {
		t.Fatalf("report has %d results", len(results))
	}
	r := results[0].(map[string]any)
	if notes, _ := r["notes"].([]any); !slices.Contains(notes, any(note)) {
		t.Errorf("JSON report notes %v lack %q", notes, note)
	}
	// The scenario's 5s, then at most the budget (before, 5s of DELETE and 3s of grace).
	d := time.Duration(r["duration"].(float64))
	teardown := time.Duration(r["timings"].(map[string]any)["teardown"].(float64))
	if teardown > TeardownBudget+500*time.Millisecond || d > 5*time.Second+TeardownBudget+time.Second {
		t.Errorf("scenario took %s, teardown %s; want the teardown within its %s budget", d, teardown, TeardownBudget)
	}
}

func TestSUTThatNeverBecomesReady(t *testing.T) {
	start := time.Now()
	o := runFiles(t, fakeDriver(t, "never-ready"), "../../testdata/e2e/plain.yaml")
	if o.code != ExitFailed || !strings.Contains(o.stdout, "SUT not ready after "+testReadyTimeout.String()) || !strings.Contains(o.stdout, "fake SUT starting") {
		t.Fatalf("exit %d:\n%s", o.code, o.stdout)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestSUTThatExitsBeforeReady(t *testing.T) {
	o := runFiles(t, fakeDriver(t, "exit-early"), "../../testdata/e2e/plain.yaml")
	if o.code != ExitFailed || !strings.Contains(o.stdout, "exited with code 1 before it was ready") ||
		!strings.Contains(o.stdout, "simulated bad config") {
		t.Fatalf("exit %d:\n%s", o.code, o.stdout)
	}
}

func TestReferenceSUTEndToEnd(t *testing.T) {
	driver, err := ChooseDriver(SUTOptions{Kind: "builtin", Self: muster})
	if err != nil {
		t.Fatal(err)
	}
	o := runFiles(t, driver, "../../testdata/e2e/login.yaml")
	if o.code != ExitOK {
		t.Fatalf("exit %d:\n%s", o.code, o.stdout)
	}
	results, _ := o.run["scenario_results"].([]any)
	if len(results) != 1 {
		t.Fatalf("report has %d results", len(results))
	}
	steps, _ := results[0].(map[string]any)["step_results"].([]any)
	if len(steps) != 14 {
		t.Fatalf("report has %d steps, want 14", len(steps))
	}
	for _, s := range steps {
		if r := s.(map[string]any)["result"]; r != string(event.Passed) {
			t.Errorf("step %v: %v", s.(map[string]any)["step"], r)
		}
	}
	checkRequests(t, results[0].(map[string]any)["requests"])
}

// checkRequests: the login scenario's requests, from the runner and from the mocks' logs,
// are in the report, each once, under the step that caused it.
func checkRequests(t *testing.T, raw any) {
	t.Helper()
	var lines []string
	for _, r := range raw.([]any) {
		e := r.(map[string]any)
		line := fmt.Sprintf("%v: %v -> %v %v %v", e["step"], e["from"], e["to"], e["method"], e["path"])
		if d, ok := e["detail"]; ok {
			line += fmt.Sprintf(" %v", d)
		}
		if b, ok := e["bearer"].(string); ok {
			line += " bearer:" + strings.TrimSuffix(b[:7], "…")
		}
		line += fmt.Sprintf(" %v", e["status"])
		lines = append(lines, line)
	}
	count := func(re string) int {
		n := 0
		for _, l := range lines {
			if regexp.MustCompile(re).MatchString(l) {
				n++
			}
		}
		return n
	}
	for _, c := range []struct {
		re       string
		min, max int
	}{
		{`^login: browser -> idp:idp GET /authorize\?.* 30\d$`, 1, 1},
		{`^login: browser -> SUT GET /oauth/proxy/callback\?code=\S+\.\.\.&.* 200$`, 1, 1},
		{`^login: SUT -> idp:idp POST /token grant=authorization_code sub=test-user-123 200$`, 1, 1},
		{`^call: runner -> SUT POST /mcp tools/call x_secure_whoami 200$`, 1, 1},
		{`^call: SUT -> mcp:secure POST /mcp tools/call whoami bearer:ory_at_ 200$`, 1, 1},
		{`^call-after-expiry: SUT -> mcp:secure POST /mcp tools/call whoami bearer:ory_at_ 401$`, 1, 1},
		{`^call-after-expiry: SUT -> idp:idp POST /token grant=refresh_token sub=test-user-123 200$`, 1, 1},
		{`^bob-cannot-call: runner -> SUT POST /mcp tools/call x_secure_whoami 200$`, 1, 1},
		{`^<nil>: runner -> SUT POST /mcp initialize 200$`, 2, 2}, // readiness's session, the first user's
		{`^<nil>: runner -> SUT DELETE /mcp 200$`, 4, 4},          // the same, bob's and carol's
		// The mocks' own copies of what the runner sent are left out: the runner goes to a
		// mock only as the browser of the two logins.
		{`^\S+: (runner|browser) -> (idp|mcp):`, 2, 2},
		{`: SUT -> idp:idp GET /authorize`, 0, 0},
	} {
		if got := count(c.re); got < c.min || got > c.max {
			t.Errorf("%d requests match %s, want %d to %d", got, c.re, c.min, c.max)
		}
	}
	if t.Failed() {
		t.Logf("requests:\n%s", strings.Join(lines, "\n"))
	}
}

// TestScenarioTimeoutDuringSUTStart: when the scenario's own timeout ends the SUT's start,
// the message says so instead of blaming the ready timeout.
func TestScenarioTimeoutDuringSUTStart(t *testing.T) {
	o := runFiles(t, fakeDriver(t, "never-ready"), "../../testdata/e2e/plain-short-timeout.yaml")
	if o.code != ExitFailed || !strings.Contains(o.stdout, "SUT not ready when the scenario's time ran out") {
		t.Fatalf("exit %d:\n%s", o.code, o.stdout)
	}
}

// TestCleanupAfterTheScenarioTimeout: the scenario's timeout does not skip its cleanup
// silently: cleanup runs within its grace after the timeout, and what the grace does not
// cover is reported as not run, in the console and in the JSON report.
func TestCleanupAfterTheScenarioTimeout(t *testing.T) {
	o := runFiles(t, fakeDriver(t, "plain"), "../../testdata/e2e/timeout-cleanup.yaml")
	if o.code != ExitFailed || !strings.Contains(o.stdout, "scenario timed out after 4s") {
		t.Fatalf("exit %d, want the scenario's timeout:\n%s", o.code, o.stdout)
	}
	const notRun = `step "tidy-last" (tool ok): not run: the scenario's time and the 2s of cleanup after it ran out`
	if !regexp.MustCompile(`SKIP\s+tidy-last ok .*\[cleanup\]`).MatchString(o.stdout) || !strings.Contains(o.stdout, notRun) {
		t.Errorf("console does not show tidy-last as not run:\n%s", o.stdout)
	}
	results, _ := o.run["scenario_results"].([]any)
	if len(results) != 1 {
		t.Fatalf("report has %d results", len(results))
	}
	got := map[string]string{}
	for _, s := range results[0].(map[string]any)["step_results"].([]any) {
		s := s.(map[string]any)
		id := s["step"].(map[string]any)["id"].(string)
		got[id] = fmt.Sprint(s["result"], " ", s["phase"])
		if id == "tidy-last" && s["error"] != notRun {
			t.Errorf("JSON error of tidy-last: %q, want %q", s["error"], notRun)
		}
	}
	want := map[string]string{"waits-forever": "ERROR step", "tidy": "PASSED cleanup",
		"tidy-slowly": "ERROR cleanup", "tidy-last": "SKIPPED cleanup"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("JSON steps %v, want %v", got, want)
	}
}

// TestStageRecordsNoTraffic: load mode's world keeps no requests (a run makes millions),
// while a scenario's does (TestReferenceSUTEndToEnd).
func TestStageRecordsNoTraffic(t *testing.T) {
	set := testtools.Loader().LoadPaths("../../testdata/e2e/login.yaml")
	if len(set.Errors) > 0 || len(set.Scenarios) != 1 {
		t.Fatalf("load: %v", set.Errors)
	}
	t.Setenv("TMPDIR", t.TempDir())
	opts := &Options{Stdout: io.Discard, Stderr: io.Discard, ReadyTimeout: testReadyTimeout, SUT: SUTOptions{Kind: "builtin", Self: muster}}
	stage, err := SetUpStage(context.Background(), opts, set.Scenarios[0])
	if err != nil {
		t.Fatal(err)
	}
	defer stage.Close(false)
	if stage.World.Env.Traffic != nil {
		t.Error("the stage records its traffic")
	}
}
