package reaper

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/proc"
)

// startTree starts `sh -c script` in a group of its own through Start, with tag (if any) in
// its environment, and returns the cmd and the pid the script prints first.
func startTree(t *testing.T, tag Tag, script string) (*exec.Cmd, int) {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if tag != "" {
		cmd.Env = append(os.Environ(), tag.Env())
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := Start(cmd); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("read the grandchild's pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Ours, started above: nothing may stay when an assertion failed.
		_ = syscall.Kill(pid, syscall.SIGKILL)
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait() // an error when the test waited already
		Waited(cmd.Process.Pid)
	})
	return cmd, pid
}

// waitUntil polls cond until it holds or the deadline passes.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition with a deadline
	}
}

// runs reports whether pid has exec'd the program named comm and shows its environment
// again (the exec sets the name first, the environment a moment later).
func runs(pid int, comm string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	_, tagged := proc.Getenv(pid, TagVar)
	return err == nil && strings.TrimSpace(string(b)) == comm && tagged
}

// absent reports whether pid is fully gone: not running and not a zombie.
func absent(pid int) bool {
	_, err := proc.ReadStat(pid)
	return errors.Is(err, fs.ErrNotExist)
}

func TestKillReachesAGrandchildInItsOwnSession(t *testing.T) {
	tag := NewTag()
	cmd, grandchild := startTree(t, tag, `setsid sleep 60 & echo $!; wait`)
	waitUntil(t, "the grandchild runs sleep in a session of its own", func() bool {
		st, err := proc.ReadStat(grandchild)
		return err == nil && st.PGID == grandchild && runs(grandchild, "sleep")
	})
	// Another tree with another tag is not touched.
	other := NewTag()
	_, bystander := startTree(t, other, `sleep 60 & echo $!; wait`)

	if _, left := Kill(tag, time.Now().Add(5*time.Second)); len(left) > 0 {
		t.Fatalf("still alive after Kill: %v", left)
	}
	if err := cmd.Wait(); err == nil {
		t.Error("the tagged shell exited normally; want it killed")
	}
	Waited(cmd.Process.Pid)
	// The grandchild is init's child or ours; either way it must no longer run.
	if st, err := proc.ReadStat(grandchild); err == nil && !st.Dead() {
		t.Errorf("grandchild %d still runs: %+v", grandchild, st)
	}
	if st, err := proc.ReadStat(bystander); err != nil || st.Dead() {
		t.Errorf("the other tree's process %d was killed (%v)", bystander, err)
	}
}

func TestSubreaperAdoptsKillsAndReapsAnOrphan(t *testing.T) {
	if err := Enable(); err != nil {
		t.Fatalf("PR_SET_CHILD_SUBREAPER: %v", err)
	}
	tag := NewTag()
	// The shell exits at once, orphaning its setsid child.
	cmd, orphan := startTree(t, tag, `setsid sleep 60 & echo $!`)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	Waited(cmd.Process.Pid)
	// Kill cannot see a process in the middle of an exec (setsid becoming sleep).
	waitUntil(t, "the orphan is adopted by this process and runs sleep", func() bool {
		st, err := proc.ReadStat(orphan)
		return err == nil && st.PPID == os.Getpid() && runs(orphan, "sleep")
	})
	if _, left := Kill(tag, time.Now().Add(5*time.Second)); len(left) > 0 {
		t.Fatalf("still alive after Kill: %v", left)
	}
	waitUntil(t, "the orphan is reaped, not left a zombie", func() bool { Reap(); return absent(orphan) })
}

func TestReapLeavesChildrenStartedThroughStart(t *testing.T) {
	if err := Enable(); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", "exit 7")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := Start(cmd); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the child has exited", func() bool {
		st, err := proc.ReadStat(cmd.Process.Pid)
		return err == nil && st.Dead()
	})
	Reap()
	KillAdopted(time.Now().Add(time.Second))
	var ee *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Fatalf("Wait: %v, want exit status 7: Reap took the exec.Cmd's child", err)
	}
	Waited(cmd.Process.Pid)
}

func TestKillAdoptedEndsUntaggedOrphans(t *testing.T) {
	if err := Enable(); err != nil {
		t.Fatal(err)
	}
	// An orphan that dropped its environment carries no tag.
	cmd, orphan := startTree(t, "", `env -i setsid sleep 60 & echo $!`)
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	Waited(cmd.Process.Pid)
	waitUntil(t, "the orphan is adopted", func() bool {
		st, err := proc.ReadStat(orphan)
		return err == nil && st.PPID == os.Getpid()
	})
	KillAdopted(time.Now().Add(5 * time.Second))
	if !absent(orphan) {
		t.Errorf("orphan %d survived KillAdopted", orphan)
	}
}
