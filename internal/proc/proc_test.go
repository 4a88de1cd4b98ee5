package proc

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"
)

func TestParseStatWithParenthesesInTheName(t *testing.T) {
	line := "4242 (a) b (c) Z 17 4242 4242 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 78524 3133440 393\n"
	st, err := parseStat(4242, []byte(line))
	if err != nil {
		t.Fatal(err)
	}
	want := Stat{PID: 4242, State: 'Z', PPID: 17, PGID: 4242, Start: 78524}
	if st != want || !st.Dead() {
		t.Errorf("got %+v, want %+v", st, want)
	}
	if _, err := parseStat(1, []byte("1 (x) S 0")); err == nil {
		t.Error("a short line parsed")
	}
}

func TestChildrenAndEnvironmentOfAChild(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	cmd.Env = append(os.Environ(), "PROC_TEST_MARK=yes")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	kids, err := Children(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, k := range kids {
		found = found || k.PID == cmd.Process.Pid
	}
	if !found {
		t.Errorf("child %d not among %+v", cmd.Process.Pid, kids)
	}
	// Start returns once the child has exec'd, but /proc may show the new environment a
	// moment later (seen empty once in CI), so it is polled with a deadline.
	var v string
	var ok bool
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		if v, ok = Getenv(cmd.Process.Pid, "PROC_TEST_MARK"); ok {
			break
		}
		runtime.Gosched()
	}
	if !ok || v != "yes" {
		t.Errorf("PROC_TEST_MARK=%q (%v), want yes", v, ok)
	}
	if _, ok := Getenv(os.Getpid(), "PROC_TEST_MARK"); ok {
		t.Error("the test process has a mark it never set")
	}
}

func TestDescendantsIncludeGrandchildren(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 60 & echo $!; wait")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var grandchild int
	if _, err := fmt.Fscan(out, &grandchild); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(grandchild, syscall.SIGKILL) // ours, started above
	d, err := Descendants(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(d, cmd.Process.Pid) || !slices.Contains(d, grandchild) {
		t.Errorf("descendants %v lack the child %d or the grandchild %d", d, cmd.Process.Pid, grandchild)
	}
}
