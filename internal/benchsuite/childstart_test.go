package benchsuite

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// childStarts is how many starts each child start figure is the median of.
const childStarts = 20

// childProbe starts a child role and recognises the line that says it is ready.
type childProbe struct {
	name   string
	args   func(t *testing.T, dir string) []string // after the binary
	stdin  string                                  // written once started
	stderr bool                                    // the ready line comes on stderr, not stdout
	ready  string                                  // a substring of the ready line
	env    []string                                // added to the environment
	// plays, when set, tells whether bin has the role at all: a build of an older commit
	// (MUSTER_TEST_BENCH_BIN) may lack it.
	plays func(t *testing.T, bin string) bool
}

var childProbes = []childProbe{
	{
		name: "reference SUT (exec until listening, no upstreams)",
		args: func(t *testing.T, dir string) []string {
			cfg := filepath.Join(dir, "muster")
			writeFile(t, filepath.Join(cfg, "config.yaml"), fmt.Sprintf(
				"aggregator:\n  enabled: true\n  host: localhost\n  port: %d\n  transport: streamable-http\n", freePort(t)))
			return []string{"reference-sut", "serve", "--config-path", cfg}
		},
		stderr: true,
		ready:  "Started aggregator manager on",
	},
	{
		name: "stdio mock MCP server (exec until initialize answered)",
		args: func(t *testing.T, dir string) []string {
			file := filepath.Join(dir, "mock.yaml")
			writeFile(t, file, "tools:\n  - name: hello\n    responses:\n      - response: hi\n")
			return []string{"--mock-mcp-server", "--mock-config", file}
		},
		stdin: `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",` +
			`"capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}` + "\n",
		ready: `"id":1`,
	},
	{
		name: "reference server (exec until listening, trusting a mock IdP by URL)",
		args: func(t *testing.T, dir string) []string {
			// In this process: the IdP's own start is not the child's. The server asks it
			// for its metadata before it listens, as in a direct-mode scenario.
			s := idp.New(t, idp.Config{Scopes: []string{"tools:call"}})
			return []string{"reference-server", "serve", "--issuer", s.Issuer(), "--port", "0"}
		},
		ready: "reference-server listening on",
		// muster-test-child plays it since the reference server stopped linking fosite.
		plays: func(t *testing.T, bin string) bool {
			return exec.Command(bin, "reference-server", "serve", "--help").Run() == nil
		},
	},
}

// relayProbe starts the stdio relay joined to a mock served by this process, as the runner
// serves it, and answers the same initialize as the stdio mock's probe.
func relayProbe(t *testing.T) childProbe {
	cfg, err := mcpserver.ConfigFromYAML([]byte("tools:\n  - name: hello\n    responses:\n      - response: hi\n"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := mcpserver.StartRelayed(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return childProbe{
		args:  func(*testing.T, string) []string { return []string{"--connect", r.Addr()} },
		stdin: childProbes[1].stdin,
		ready: childProbes[1].ready,
	}
}

// TestChildStartBenchmark prints the CPU time a scenario's child processes take to start,
// from muster-test-child and from muster-test itself (the fallback), with a Go hello world
// for scale. The reference server is a child of direct-mode scenarios that trust a mock IdP
// by URL; with --with-as it needs muster-test, which links the mock IdP.
func TestChildStartBenchmark(t *testing.T) {
	if os.Getenv("MUSTER_TEST_BENCH") == "" {
		t.Skip("run by `make bench` (MUSTER_TEST_BENCH=1)")
	}
	printTable(childStartRows(t, buildCommands(t)))
}

// childStartRows measures every child role started from each binary. The starts take
// turns, so a change in the machine's load during the measurement hits all alike.
func childStartRows(t *testing.T, bins map[string]string) [][]string {
	type subject struct {
		label, bin string
		probe      childProbe
		cpu        []time.Duration
	}
	var subjects []*subject
	for _, label := range []string{"muster-test-child", "muster-test"} {
		if bin, ok := bins[label]; ok {
			for _, p := range childProbes {
				if p.plays != nil && !p.plays(t, bin) {
					t.Logf("%s does not play the %s: row left out", bin, p.name)
					continue
				}
				subjects = append(subjects, &subject{label: fmt.Sprintf("%s from %s", p.name, label), bin: bin, probe: p})
			}
		}
	}
	if bin, ok := bins["muster-test-child"]; ok {
		// The reference SUT as a scenario run starts it (see runner.sutEnv).
		p := childProbes[0]
		p.env = []string{"GOMAXPROCS=1"}
		subjects = append(subjects, &subject{label: p.name + " from muster-test-child with GOMAXPROCS=1, as a scenario run starts it", bin: bin, probe: p})
	}
	if bin, ok := bins["muster-test-relay"]; ok {
		subjects = append(subjects, &subject{label: "stdio mock through muster-test-relay (exec until initialize " +
			"answered; the mock's session runs in the runner)", bin: bin, probe: relayProbe(t)})
	}
	hello := childProbe{args: func(*testing.T, string) []string { return nil }, ready: "hello"}
	subjects = append(subjects, &subject{label: "Go hello world (exec until exit), for scale", bin: helloWorld(t), probe: hello})
	for range childStarts {
		for _, s := range subjects {
			s.cpu = append(s.cpu, startCPU(t, s.bin, s.probe))
		}
	}
	var rows [][]string
	for _, s := range subjects {
		rows = append(rows, []string{"child start CPU: " + s.label,
			fmt.Sprintf("median %s, min %s of %d starts (user+sys)", msFine(quantile(s.cpu, 0.5)), msFine(quantile(s.cpu, 0)), childStarts)})
	}
	return rows
}

// startCPU starts the probe's child and returns the CPU time (user + system, from the
// reaped child's rusage) it used from exec until ready. The child is killed once ready,
// so its teardown is not counted.
func startCPU(t *testing.T, bin string, p childProbe) time.Duration {
	t.Helper()
	cmd := exec.Command(bin, p.args(t, t.TempDir())...)
	cmd.Env = append(os.Environ(), p.env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out io.ReadCloser
	if p.stderr {
		out, err = cmd.StderrPipe()
	} else {
		out, err = cmd.StdoutPipe()
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// A child that never gets ready is killed, which ends the read below.
	stuck := time.AfterFunc(30*time.Second, func() { _ = cmd.Process.Kill() })
	defer stuck.Stop()
	if p.stdin != "" {
		_, _ = io.WriteString(stdin, p.stdin)
	}
	ready, seen := false, &strings.Builder{}
	sc := bufio.NewScanner(out)
	for !ready && sc.Scan() {
		seen.WriteString(sc.Text() + "\n")
		ready = strings.Contains(sc.Text(), p.ready)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	if !ready {
		t.Fatalf("%s %s: never ready; output:\n%s", bin, p.name, seen)
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// helloWorld builds the smallest Go program that prints, the floor of any Go child's start.
func helloWorld(t *testing.T) string {
	dir := t.TempDir()
	src := filepath.Join(dir, "hello.go")
	writeFile(t, src, "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n")
	bin := filepath.Join(dir, "hello")
	if out, err := exec.Command("go", "build", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("build hello world: %v\n%s", err, out)
	}
	return bin
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// freePort is a loopback port free at the moment; the reference SUT binds it right after.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func msFine(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}
