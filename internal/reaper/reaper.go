// Package reaper keeps track of every process a run starts and of their descendants, so
// that none outlives its scenario: not the SUT's children that left its process group, nor
// a grandchild that started a session of its own (setsid) and was orphaned.
//
// Three things work together. Each SUT is started with a tag in its environment
// (MUSTER_TEST_PROCESS_TAG), which its descendants inherit whatever group or session they
// move to, so Kill finds them all through /proc. On Linux the runner is a child subreaper
// (Enable): a descendant orphaned by its parent's death becomes the runner's child instead
// of init's, so Reap can collect its exit status instead of leaving a zombie. And because a
// subreaper's children include processes os/exec did not start, Reap must never take the
// status of a child that an exec.Cmd waits for: a process that uses this package starts its
// children through Start, which records them while holding the lock that Reap takes.
package reaper

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/muster-test/muster-test/internal/proc"
)

// TagVar is the environment variable that marks a process tree as started by a runner.
const TagVar = "MUSTER_TEST_PROCESS_TAG"

var (
	// mu is held while a child is started and recorded and while children are reaped, so a
	// child of an exec.Cmd is always known before Reap could see it.
	mu      sync.Mutex
	started = map[int]bool{} // children started through Start and not yet waited for
	closed  bool             // after KillAll: nothing more is started
	seq     atomic.Int64
)

// runID names this runner in its tags: pid and start time, unique on the machine.
var runID = sync.OnceValue(func() string {
	me, err := proc.Self()
	if err != nil {
		return strconv.Itoa(os.Getpid())
	}
	return fmt.Sprintf("%d-%d", me.PID, me.Start)
})

// subreaper is set once Enable succeeded.
var subreaper atomic.Bool

// Enable makes this process a child subreaper (Linux PR_SET_CHILD_SUBREAPER): orphaned
// descendants are reparented to it instead of to init.
func Enable() error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return err
	}
	subreaper.Store(true)
	return nil
}

// candidates are the processes that may carry one of this runner's tags, and which of them
// are its descendants. As a subreaper the runner keeps every process a SUT started below
// itself (orphans come back to it), so its descendants are enough; reading their few
// children lists costs far less than looking at every process of the machine, which is
// what it does otherwise.
func candidates() (pids []int, descendant map[int]bool) {
	desc, err := proc.Descendants(os.Getpid())
	descendant = make(map[int]bool, len(desc))
	for _, p := range desc {
		descendant[p] = true
	}
	if subreaper.Load() && err == nil {
		return desc, descendant
	}
	pids, _ = proc.PIDs()
	return pids, descendant
}

// Tag marks one process tree.
type Tag string

// NewTag returns a tag no other process tree of this or any other runner carries.
func NewTag() Tag { return Tag(fmt.Sprintf("%s.%d", runID(), seq.Add(1))) }

// Env is the environment entry that gives a process the tag.
func (t Tag) Env() string { return TagVar + "=" + string(t) }

// Start starts cmd, which must lead a process group of its own (Setpgid), and records it
// as a child its caller waits for; call Waited once cmd.Wait has returned.
func Start(cmd *exec.Cmd) error {
	mu.Lock()
	defer mu.Unlock()
	if closed {
		return fmt.Errorf("start %s: the runner is exiting", cmd.Path)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	started[cmd.Process.Pid] = true
	return nil
}

// Run is cmd.Run for a child started through Start.
func Run(cmd *exec.Cmd) error {
	if err := Start(cmd); err != nil {
		return err
	}
	defer Waited(cmd.Process.Pid)
	return cmd.Wait()
}

// Waited forgets a child Start started, once its exec.Cmd has reaped it.
func Waited(pid int) {
	mu.Lock()
	delete(started, pid)
	mu.Unlock()
}

// pollStart and pollMax pace Kill's checks that the killed processes are gone: SIGKILL
// takes effect within a millisecond or two, so the first check comes early.
const (
	pollStart = 2 * time.Millisecond
	pollMax   = 50 * time.Millisecond
)

// Kill sends SIGKILL to every live process that carries tag, repeating until no such
// process is left or the deadline has passed (one pass is always made), waits until they
// are dead, and reaps those that were this process's adopted children. It returns what it
// signalled, as first seen, and the pids still alive at the end.
//
// A process in the middle of an exec shows no environment for an instant; a pass that saw
// one is followed by another. What Kill still misses and the runner adopted, KillAdopted
// ends at the end of the run.
func Kill(tag Tag, deadline time.Time) (hit []proc.Stat, left []int) {
	match := func(v string) bool { return v == string(tag) }
	seen := map[int]bool{}
	rescanned := false
	poll(deadline, func() bool {
		pass, unsure := killMatching(match)
		for _, st := range pass {
			if !seen[st.PID] {
				seen[st.PID] = true
				hit = append(hit, st)
			}
		}
		if len(pass) > 0 {
			return false
		}
		if unsure && !rescanned {
			rescanned = true
			return false
		}
		return true
	})
	poll(deadline, func() bool {
		left = left[:0]
		for _, st := range hit {
			if running(st) {
				left = append(left, st.PID)
			}
		}
		Reap()
		return len(left) == 0
	})
	return hit, left
}

// poll calls done, always once, then again until it reports true or the deadline passed.
func poll(deadline time.Time, done func() bool) {
	wait := pollStart
	for !done() && time.Now().Before(deadline) {
		t := time.NewTimer(min(wait, time.Until(deadline)))
		<-t.C
		wait = min(2*wait, pollMax)
	}
}

// killMatching sends SIGKILL to every live process whose tag satisfies match and returns
// what they were, and whether it saw a live process without any environment (one in the
// middle of an exec). Each is signalled through a pidfd opened before its tag is checked,
// so a pid reused in between is never hit.
func killMatching(match func(string) bool) (hit []proc.Stat, unsure bool) {
	self := os.Getpid()
	pids, descendant := candidates()
	for _, pid := range pids {
		if pid == self {
			continue
		}
		env, err := proc.Environ(pid)
		if err != nil {
			continue
		}
		if len(env) == 0 {
			// Zombies and kernel threads show none either; only a descendant of ours
			// that still runs is worth another look.
			if descendant[pid] {
				st, err := proc.ReadStat(pid)
				unsure = unsure || (err == nil && !st.Dead())
			}
			continue
		}
		if v, ok := proc.Lookup(env, TagVar); !ok || !match(v) {
			continue
		}
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			continue // gone already
		}
		st, err := proc.ReadStat(pid)
		if v, ok := proc.Getenv(pid, TagVar); ok && match(v) && err == nil {
			if unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0) == nil {
				hit = append(hit, st)
			}
		}
		unix.Close(fd)
	}
	return hit, unsure
}

// Reap collects the exit status of every child of this process that exited and was not
// started through Start: descendants adopted as a subreaper. It never blocks.
func Reap() {
	mu.Lock()
	defer mu.Unlock()
	kids, err := proc.Children(os.Getpid())
	if err != nil {
		return
	}
	for _, k := range kids {
		if k.Dead() && !started[k.PID] {
			var ws unix.WaitStatus
			_, _ = unix.Wait4(k.PID, &ws, unix.WNOHANG, nil)
		}
	}
}

// KillAdopted kills every child of this process that was not started through Start (orphans
// of the run that carry no tag because they replaced their environment) and reaps them,
// waiting for them until the deadline. Call it only when no scenario runs: until then such a
// child cannot be told apart by scenario.
func KillAdopted(deadline time.Time) {
	poll(deadline, func() bool { return killAdopted() == 0 })
}

// killAdopted reaps the adopted children that exited, sends SIGKILL to the others, and
// returns how many were still to be reaped.
func killAdopted() int {
	mu.Lock()
	defer mu.Unlock()
	kids, err := proc.Children(os.Getpid())
	if err != nil {
		return 0
	}
	n := 0
	for _, k := range kids {
		switch {
		case started[k.PID]:
		case k.Dead():
			var ws unix.WaitStatus
			_, _ = unix.Wait4(k.PID, &ws, unix.WNOHANG, nil)
		default:
			_ = syscall.Kill(k.PID, syscall.SIGKILL)
			n++
		}
	}
	return n
}

// KillAll is the exit at once: it sends SIGKILL to the process group of every child Start
// started and to every process that carries one of this runner's tags, refuses any later
// Start, and waits until they are dead or the deadline passed.
func KillAll(deadline time.Time) {
	mu.Lock()
	closed = true
	var groups []int
	for pid := range started {
		groups = append(groups, pid)
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
	mu.Unlock()
	prefix := runID() + "."
	hit, _ := killMatching(func(v string) bool { return strings.HasPrefix(v, prefix) })
	for _, pid := range groups {
		if st, err := proc.ReadStat(pid); err == nil {
			hit = append(hit, st)
		}
	}
	poll(deadline, func() bool {
		for _, st := range hit {
			if running(st) {
				return false
			}
		}
		return true
	})
}

// running reports whether the process st describes has not ended (a pid since reused by
// a process with another start time does not count).
func running(st proc.Stat) bool {
	now, err := proc.ReadStat(st.PID)
	return err == nil && now.Start == st.Start && !now.Dead()
}
