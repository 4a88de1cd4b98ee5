package sut

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/reaper"
)

// idlePIDs waits until s has want idle spares of binary and returns their pids.
func idlePIDs(t *testing.T, s *Spares, binary string, want int) []int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.mu.Lock()
		var pids []int
		starting := 0
		if pl := s.pools[binary]; pl != nil {
			for _, sp := range pl.idle {
				pids = append(pids, sp.p.cmd.Process.Pid)
			}
			starting = pl.starting
		}
		s.mu.Unlock()
		if len(pids) == want && starting == 0 {
			return pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d spares idle and %d starting, want %d idle", len(pids), starting, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testSpares(t *testing.T, keep int, env ...string) (*Spares, string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s := NewSpares(keep, env)
	t.Cleanup(s.Close)
	return s, self
}

// TestASpareStandsInForTheSUTsStart: the driver's start of the spares' binary is the idle
// spare, which runs the driver's command line in the scenario's directory with the
// driver's environment, its output in the SUT's log; the next start, with no spare left to
// start, is a fresh process.
func TestASpareStandsInForTheSUTsStart(t *testing.T) {
	t.Setenv(fakeSUTEnv, "serve")
	// One more than this process has, which the spare's own default cannot be.
	procs := runtime.GOMAXPROCS(0) + 1
	procsVar := fmt.Sprintf("GOMAXPROCS=%d", procs)
	s, self := testSpares(t, 1, procsVar)
	s.Expect(self, 1)
	pids := idlePIDs(t, s, self, 1)
	// The spare has the spares' environment from its start, as a fresh start has the
	// driver's.
	if environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pids[0])); err != nil ||
		!slices.Contains(strings.Split(string(environ), "\x00"), procsVar) {
		t.Errorf("the idle spare's environment %q (%v) lacks %s", environ, err, procsVar)
	}
	for i, wantSpare := range []bool{true, false} {
		spec := &Spec{Dir: t.TempDir(), ReadyTimeout: 30 * time.Second, CAFile: "/ca.pem", Spares: s,
			Env: []string{procsVar}}
		inst, err := (&ServeDriver{Label: "fake", Command: []string{self}}).Start(context.Background(), spec)
		if err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
		pid := inst.proc.cmd.Process.Pid
		inst.Stop()
		if inst.FromSpare() != wantSpare {
			t.Errorf("start %d: FromSpare %v, want %v", i, inst.FromSpare(), wantSpare)
		}
		if (pid == pids[0]) != wantSpare {
			t.Errorf("start %d ran as pid %d, the spare was %d; want the spare: %v", i, pid, pids[0], wantSpare)
		}
		seen, err := os.ReadFile(filepath.Join(spec.Dir, "seen"))
		if want := fmt.Sprintf("%s\n/ca.pem\n%d", spec.Dir, procs); string(seen) != want || err != nil {
			t.Errorf("start %d saw directory, SSL_CERT_FILE and GOMAXPROCS %q (%v), want %q", i, seen, err, want)
		}
		if !inst.proc.exited() {
			t.Errorf("start %d: the process runs on after Stop", i)
		}
	}
	idlePIDs(t, s, self, 0)
}

// TestSparesStartWhatWasExpectedAndNoMore: no more than keep idle at once, no more than
// expected in all; an expected start that finds none is fresh.
func TestSparesStartWhatWasExpectedAndNoMore(t *testing.T) {
	t.Setenv(fakeSUTEnv, "exit")
	s, self := testSpares(t, 2)
	s.Expect(self, 3)
	dir := t.TempDir()
	argv := []string{self, "serve", "--config-path", filepath.Join(dir, "muster")}
	seen := map[int]bool{}
	for i, wantIdle := range []int{2, 2, 1, 0} {
		pids := idlePIDs(t, s, self, wantIdle)
		p, err := startProcess(argv, nil, dir, "", "", s)
		if err != nil {
			t.Fatal(err)
		}
		<-p.done
		pid := p.cmd.Process.Pid
		if fromSpare := len(pids) > 0 && pid == pids[0]; fromSpare != (wantIdle > 0) {
			t.Errorf("start %d: pid %d, idle spares %v", i, pid, pids)
		}
		if seen[pid] {
			t.Errorf("pid %d ran two starts", pid)
		}
		seen[pid] = true
	}
	if starts, _ := os.ReadFile(filepath.Join(dir, "starts")); len(starts) != 4 {
		t.Errorf("%d starts ran, want 4", len(starts))
	}
}

// TestAStartSkipsWhatASpareCannotBe: a spare killed while idle is not handed a start (nor
// left unreaped), and a start that sets a Go runtime variable, a process tag or bytes that
// are not UTF-8 is fresh.
func TestAStartSkipsWhatASpareCannotBe(t *testing.T) {
	t.Setenv(fakeSUTEnv, "exit")
	s, self := testSpares(t, 2)
	s.Expect(self, 2)
	pids := idlePIDs(t, s, self, 2)
	dir := t.TempDir()
	argv := []string{self, "serve", "--config-path", filepath.Join(dir, "muster")}

	for _, env := range [][]string{{"GOGC=50"}, {reaper.TagVar + "=another"}, {"A=\xff"}} {
		p, err := startProcess(argv, env, dir, "", "", s)
		if err != nil {
			t.Fatal(err)
		}
		<-p.done
		if pid := p.cmd.Process.Pid; pid == pids[0] || pid == pids[1] || p.spare {
			t.Errorf("a start with %q ran in spare %d", env, pid)
		}
		idlePIDs(t, s, self, 2)
	}

	dead := s.pools[self].idle[0].p
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-dead.done
	p, err := startProcess(argv, nil, dir, filepath.Join(dir, "log"), "the note\n", s)
	if err != nil {
		t.Fatal(err)
	}
	<-p.done
	if pid := p.cmd.Process.Pid; pid != pids[1] {
		t.Errorf("the start ran as pid %d, want the live spare %d (the killed one was %d)", pid, pids[1], pids[0])
	}
	log, _ := os.ReadFile(filepath.Join(dir, "log"))
	if !strings.HasPrefix(string(log), "the note\n") || !strings.Contains(string(log), "simulated bad config") {
		t.Errorf("the log file holds %q, want the note, then the start's output", log)
	}
}

// TestCloseEndsIdleSpares: Close leaves no spare running, and nothing starts after it.
func TestCloseEndsIdleSpares(t *testing.T) {
	t.Setenv(fakeSUTEnv, "exit")
	s, self := testSpares(t, 2)
	s.Expect(self, 5)
	idlePIDs(t, s, self, 2)
	procs := []*process{s.pools[self].idle[0].p, s.pools[self].idle[1].p}
	s.Close()
	for _, p := range procs {
		if !p.exited() {
			t.Errorf("spare %d runs on after Close", p.cmd.Process.Pid)
		}
	}
	s.Expect(self, 1)
	if p := s.take([]string{self, "serve"}, nil, t.TempDir(), "", ""); p != nil || len(s.pools[self].idle) != 0 || s.pools[self].starting != 0 {
		t.Errorf("after Close: took %v, %d idle, %d starting; want none", p, len(s.pools[self].idle), s.pools[self].starting)
	}
}

// TestEachBinaryHasItsSpares: a start takes a spare of its own binary only.
func TestEachBinaryHasItsSpares(t *testing.T) {
	t.Setenv(fakeSUTEnv, "exit")
	s, self := testSpares(t, 1)
	dir := t.TempDir()
	other := filepath.Join(dir, "other")
	if err := os.Symlink(self, other); err != nil {
		t.Fatal(err)
	}
	s.Expect(self, 1)
	s.Expect(other, 1)
	mine, theirs := idlePIDs(t, s, self, 1), idlePIDs(t, s, other, 1)
	for _, c := range []struct {
		binary string
		want   int
	}{{other, theirs[0]}, {self, mine[0]}} {
		p, err := startProcess([]string{c.binary, "serve", "--config-path", filepath.Join(dir, "muster")}, nil, dir, "", "", s)
		if err != nil {
			t.Fatal(err)
		}
		<-p.done
		if pid := p.cmd.Process.Pid; pid != c.want || !p.spare {
			t.Errorf("a start of %s ran as pid %d, want its own spare %d", c.binary, pid, c.want)
		}
	}
}

// TestASpareStandsInOnlyForStartsThatSetItsEnv: a start that does not set what the spares
// started with (their GOMAXPROCS) is fresh, and the spare stays for one that does.
func TestASpareStandsInOnlyForStartsThatSetItsEnv(t *testing.T) {
	t.Setenv(fakeSUTEnv, "serve")
	s, self := testSpares(t, 1, "GOMAXPROCS=1")
	s.Expect(self, 2)
	pids := idlePIDs(t, s, self, 1)
	for i, c := range []struct {
		env       []string
		wantSpare bool
	}{{nil, false}, {[]string{"GOMAXPROCS=2"}, false}, {[]string{"A=1", "GOMAXPROCS=1"}, true}} {
		spec := &Spec{Dir: t.TempDir(), ReadyTimeout: 30 * time.Second, Spares: s, Env: c.env}
		inst, err := (&ServeDriver{Label: "fake", Command: []string{self}}).Start(context.Background(), spec)
		if err != nil {
			t.Fatalf("start %d: %v", i, err)
		}
		inst.Stop()
		if inst.FromSpare() != c.wantSpare || (inst.proc.cmd.Process.Pid == pids[0]) != c.wantSpare {
			t.Errorf("start %d with %q: from a spare %v, want %v", i, c.env, inst.FromSpare(), c.wantSpare)
		}
	}
}

// TestDirectAddsTheSpecsEnvBeforeItsOwn: a direct SUT's process gets the spec's Env, and
// its own DirectSpec.Env after it, which wins where both set a variable.
func TestDirectAddsTheSpecsEnvBeforeItsOwn(t *testing.T) {
	t.Setenv(fakeSUTEnv, "serve")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	d := &DirectSpec{
		Command: []string{self, "serve", "--config-path", filepath.Join(dir, "muster")},
		Env:     []string{"SSL_CERT_FILE=/own.pem", "GOMAXPROCS=3"},
		Files:   map[string]string{"muster/config.yaml": fmt.Sprintf("aggregator:\n  port: %d\n", port)},
		URL:     fmt.Sprintf("http://127.0.0.1:%d/mcp", port),
	}
	spec := &Spec{Dir: dir, ReadyTimeout: 30 * time.Second, Direct: d, Env: []string{"SSL_CERT_FILE=/spec.pem", "GOMAXPROCS=2"}}
	inst, err := Direct{}.Start(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	inst.Stop()
	seen, err := os.ReadFile(filepath.Join(dir, "seen"))
	if want := dir + "\n/own.pem\n3"; string(seen) != want || err != nil {
		t.Errorf("the SUT saw directory, SSL_CERT_FILE and GOMAXPROCS %q (%v), want %q", seen, err, want)
	}
	spec.Direct.Env = nil
	if inst, err = (Direct{}).Start(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	inst.Stop()
	seen, err = os.ReadFile(filepath.Join(dir, "seen"))
	if want := dir + "\n/spec.pem\n2"; string(seen) != want || err != nil {
		t.Errorf("without its own: the SUT saw %q (%v), want %q", seen, err, want)
	}
}
