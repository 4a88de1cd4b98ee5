package tempdir

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/muster-test/muster-test/internal/proc"
)

// isolate gives the test a TMPDIR of its own, so Sweep sees only what the test made.
func isolate(t *testing.T) string {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	return tmp
}

// deadProcess returns the pid and start time of a process that ran and has been reaped.
func deadProcess(t *testing.T) proc.Stat {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Not yet waited for: the pid names this process (running or a zombie) until Wait.
	st, err := proc.ReadStat(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	return st
}

func ownedDir(t *testing.T, tmp, label string, pid int, start uint64) string {
	p := filepath.Join(tmp, fmt.Sprintf("muster-test-%s-12345.run%d.%d", label, pid, start))
	if err := os.MkdirAll(filepath.Join(p, "muster"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p, "sut.log"), []byte("log"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSweepRemovesOnlyDeadRunnersDirs(t *testing.T) {
	tmp := isolate(t)
	me, err := proc.Self()
	if err != nil {
		t.Fatal(err)
	}
	dead := deadProcess(t)
	deadDir := ownedDir(t, tmp, "killed-runner", dead.PID, dead.Start)
	// Our own pid with another start time: a runner whose pid this process now reuses.
	reusedDir := ownedDir(t, tmp, "reused-pid", me.PID, me.Start+1)
	liveDir := ownedDir(t, tmp, "live-runner", me.PID, me.Start)
	kept, err := Create("kept by the user", true)
	if err != nil {
		t.Fatal(err)
	}
	// A link that looks owned by a dead runner must not lead Sweep anywhere.
	target := t.TempDir()
	link := filepath.Join(tmp, fmt.Sprintf("muster-test-link-1.run%d.%d", dead.PID, dead.Start))
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}

	removed, err := Sweep()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	want := []string{deadDir, reusedDir}
	slices.Sort(want)
	if !slices.Equal(removed, want) {
		t.Errorf("removed %q, want %q", removed, want)
	}
	for _, gone := range want {
		if _, err := os.Lstat(gone); !os.IsNotExist(err) {
			t.Errorf("%s still there (%v)", gone, err)
		}
	}
	for _, stays := range []string{liveDir, kept, link, target} {
		if _, err := os.Lstat(stays); err != nil {
			t.Errorf("%s was removed: %v", stays, err)
		}
	}
}

func TestCreatedDirsAreOwnedAndRemovedByRemoveAll(t *testing.T) {
	tmp := isolate(t)
	a, err := Create("a/b*c", false)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Create("other", false)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(a) != tmp || !strings.HasPrefix(filepath.Base(a), "muster-test-a_b_c-") || !ownedName.MatchString(filepath.Base(a)) {
		t.Fatalf("dir %s: want an owned muster-test-a_b_c-* below %s", a, tmp)
	}
	// This process runs: a sweep (another runner's start) must keep them.
	if removed, err := Sweep(); err != nil || len(removed) > 0 {
		t.Fatalf("Sweep removed %q (%v) while their runner runs", removed, err)
	}
	if err := Remove(b); err != nil {
		t.Fatal(err)
	}
	if err := RemoveAll(); err != nil {
		t.Fatal(err)
	}
	defer func() { mu.Lock(); closed = false; mu.Unlock() }()
	if d, err := Create("after", false); err == nil {
		t.Errorf("Create after RemoveAll made %s", d)
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("left in TMPDIR: %v", left)
	}
}

// TestRemoveAllWaitsForARemovalInProgress: an exit at once while a scenario's teardown is
// removing its dir must not take the dir for gone and exit in the middle of the removal.
func TestRemoveAllWaitsForARemovalInProgress(t *testing.T) {
	isolate(t)
	defer func() { mu.Lock(); closed = false; mu.Unlock() }()
	dir, err := Create("big", false)
	if err != nil {
		t.Fatal(err)
	}
	const files = 3000
	for i := range files {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprint(i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	removed := make(chan error, 1)
	go func() { removed <- Remove(dir) }()
	// Wait until the removal is under way.
	for {
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) < files {
			break
		}
	}
	if err := RemoveAll(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("RemoveAll returned while %s was still being removed (%v)", dir, err)
	}
	if err := <-removed; err != nil {
		t.Fatal(err)
	}
}
