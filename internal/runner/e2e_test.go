package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
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
)

// fakeSUTEnv makes this test binary act as a SUT (see TestMain): a program that speaks
// just enough MCP to be driven, and then misbehaves as the mode says.
const fakeSUTEnv = "MUSTER_TEST_FAKE_SUT"

var muster string // the muster-test binary built for these tests

func TestMain(m *testing.M) {
	if mode := os.Getenv(fakeSUTEnv); mode != "" {
		os.Exit(fakeSUT(mode, os.Args[1:]))
	}
	dir, err := os.MkdirTemp("", "muster-test-runner-bin-")
	if err != nil {
		panic(err)
	}
	muster = filepath.Join(dir, "muster-test")
	build := exec.Command("go", "build", "-o", muster, "../../cmd/muster-test")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fakeSUT serves `serve --config-path DIR` like muster: modes "crash" (the tool `crash`
// kills the process), "never-ready" (never listens), "exit-early" (fails at start).
func fakeSUT(mode string, args []string) int {
	fmt.Fprintln(os.Stderr, "fake SUT starting in mode", mode)
	switch mode {
	case "never-ready":
		select {} // blocks until the runner kills it
	case "exit-early":
		fmt.Fprintln(os.Stderr, "Error: failed to initialize application: simulated bad config")
		return 1
	}
	var cfgDir string
	for i, a := range args {
		if a == "--config-path" && i+1 < len(args) {
			cfgDir = args[i+1]
		}
	}
	b, err := os.ReadFile(filepath.Join(cfgDir, "config.yaml"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var cfg struct {
		Aggregator struct{ Port int } `yaml:"aggregator"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		return 1
	}
	s := server.NewMCPServer("fake-sut", "1")
	s.AddTool(mcp.NewTool("ok"), func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultText("fine"), nil
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
	mux.Handle("/mcp", server.NewStreamableHTTPServer(s))
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(cfg.Aggregator.Port))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return map[bool]int{true: 0, false: 1}[errors.Is(http.Serve(l, mux), http.ErrServerClosed)]
}

// recorder wraps a driver and remembers every address and directory a run used, so the
// test can check that none of them outlives the run.
type recorder struct {
	sut.Driver
	mu        sync.Mutex
	dirs      []string
	endpoints []string
}

func (r *recorder) Start(ctx context.Context, spec *sut.Spec) (*sut.Instance, error) {
	r.mu.Lock()
	r.dirs = append(r.dirs, spec.Dir)
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
		r.mu.Unlock()
	}
	return inst, err
}

// assertNothingLeft checks that the run's temp dirs are gone, that no process runs with
// one of them on its command line, and that nothing listens on the run's ports.
func (r *recorder) assertNothingLeft(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.dirs) == 0 {
		t.Fatal("the driver was never started")
	}
	for _, d := range r.dirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("temp dir %s left behind", d)
		}
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			if _, err := strconv.Atoi(e.Name()); err != nil {
				continue
			}
			cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
			if bytes.Contains(cmd, []byte(d)) && !bytes.Contains(stat, []byte(") Z ")) {
				t.Errorf("process %s still runs with %s: %q", e.Name(), d, cmd)
			}
		}
	}
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
}

// runFiles runs scenario files through the real runner with a recording driver.
func runFiles(t *testing.T, driver sut.Driver, files ...string) (runOutcome, *recorder) {
	t.Helper()
	return runFilesWith(t, driver, SUTOptions{Self: muster}, files...)
}

// runFilesWith is runFiles with the SUT options of the command line.
func runFilesWith(t *testing.T, driver sut.Driver, so SUTOptions, files ...string) (runOutcome, *recorder) {
	t.Helper()
	var out, errOut bytes.Buffer
	reportDir := t.TempDir()
	opts := &Options{ConfigPaths: files, Stdout: &out, Stderr: &errOut, NoColor: true, Parallel: 2,
		ReportDir: reportDir, ReadyTimeout: 3 * time.Second, SUT: so}
	rec := &recorder{Driver: driver}
	code := MainWith(context.Background(), opts, rec)
	o := runOutcome{code: code, stdout: out.String() + errOut.String()}
	reports, _ := filepath.Glob(filepath.Join(reportDir, "*.json"))
	if len(reports) == 1 {
		b, _ := os.ReadFile(reports[0])
		_ = json.Unmarshal(b, &o.run)
	}
	return o, rec
}

func fakeDriver(t *testing.T, mode string) sut.Driver {
	t.Setenv(fakeSUTEnv, mode)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return &sut.Muster{Label: "fake SUT (" + mode + ")", Command: []string{self}}
}

func TestSUTCrashMidScenarioIsErrorWithLogTail(t *testing.T) {
	o, rec := runFiles(t, fakeDriver(t, "crash"), "../../testdata/e2e/crash.yaml")
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
	rec.assertNothingLeft(t)
}

// TestSUTCrashWithOrphanHoldingItsOutput: a SUT whose child outlives it, holding its
// output open, is still seen to have died, and the scenario ends instead of hanging.
func TestSUTCrashWithOrphanHoldingItsOutput(t *testing.T) {
	o, _ := runFiles(t, fakeDriver(t, "crash-orphan"), "../../testdata/e2e/crash.yaml")
	if m := regexp.MustCompile(`orphan pid (\d+)`).FindStringSubmatch(o.stdout); m != nil {
		pid, _ := strconv.Atoi(m[1])
		_ = syscall.Kill(pid, syscall.SIGKILL) // ours: started by the fake SUT for this test
	}
	if o.code != ExitFailed || !strings.Contains(o.stdout, "SUT exited with code 3") {
		t.Fatalf("exit %d, want the SUT's death reported:\n%s", o.code, o.stdout)
	}
}

func TestSUTThatNeverBecomesReady(t *testing.T) {
	start := time.Now()
	o, rec := runFiles(t, fakeDriver(t, "never-ready"), "../../testdata/e2e/plain.yaml")
	if o.code != ExitFailed || !strings.Contains(o.stdout, "SUT not ready after 3s") || !strings.Contains(o.stdout, "fake SUT starting") {
		t.Fatalf("exit %d:\n%s", o.code, o.stdout)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %s", d)
	}
	rec.assertNothingLeft(t)
}

func TestSUTThatExitsBeforeReady(t *testing.T) {
	o, rec := runFiles(t, fakeDriver(t, "exit-early"), "../../testdata/e2e/plain.yaml")
	if o.code != ExitFailed || !strings.Contains(o.stdout, "exited with code 1 before it was ready") ||
		!strings.Contains(o.stdout, "simulated bad config") {
		t.Fatalf("exit %d:\n%s", o.code, o.stdout)
	}
	rec.assertNothingLeft(t)
}

func TestReferenceSUTEndToEnd(t *testing.T) {
	driver, err := ChooseDriver(SUTOptions{Kind: "builtin", Self: muster})
	if err != nil {
		t.Fatal(err)
	}
	o, rec := runFiles(t, driver, "../../testdata/e2e/login.yaml")
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
	rec.assertNothingLeft(t)
}

// TestScenarioTimeoutDuringSUTStart: when the scenario's own timeout ends the SUT's start,
// the message says so instead of blaming the ready timeout.
func TestScenarioTimeoutDuringSUTStart(t *testing.T) {
	o, rec := runFiles(t, fakeDriver(t, "never-ready"), "../../testdata/e2e/plain-short-timeout.yaml")
	if o.code != ExitFailed || !strings.Contains(o.stdout, "SUT not ready when the scenario's time ran out") {
		t.Fatalf("exit %d:\n%s", o.code, o.stdout)
	}
	rec.assertNothingLeft(t)
}
