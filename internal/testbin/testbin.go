// Package testbin builds muster-test and muster-test-child for tests that run them as a
// user does (test only; nothing in a product imports it).
package testbin

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/proc"
	"github.com/muster-test/muster-test/internal/reaper"
)

// Build builds both commands into a temp dir of t and returns the path of muster-test;
// muster-test-child lies beside it, so the runner starts children from it.
func Build(t testing.TB) string {
	t.Helper()
	bin, err := BuildInto(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// RunMain is a TestMain's body for a package whose tests all run the commands: it builds
// them into a temp dir, sets *bin to muster-test's path, runs the tests, removes the dir and
// returns the exit code.
func RunMain(m *testing.M, bin *string) int {
	dir, err := os.MkdirTemp("", "muster-test-bin-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if *bin, err = BuildInto(dir); err != nil {
		panic(err)
	}
	return m.Run()
}

// BuildInto is Build for a TestMain, which has no t: both commands go into dir, which the
// caller removes. They are built as `make build` builds them.
func BuildInto(dir string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", dir+"/", "github.com/muster-test/muster-test/cmd/...")
	// As `make build` builds them (see the Makefile): static, a few ms less per child start.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return filepath.Join(dir, "muster-test"), nil
}

// WaitNoneLeft polls left (processes a test started, as it lists them) until it lists
// none, and fails t when some are still there after within.
func WaitNoneLeft(t testing.TB, within time.Duration, left func() []string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		l := left()
		if len(l) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes left running: %v", l)
			return
		}
		time.Sleep(20 * time.Millisecond) // polling the process table, with a deadline
	}
}

// Tagged lists the live processes that carry a process tag of the runner with process id
// runner (package reaper): every process a run started, whatever its command line shows
// (a spare waiting for a start shows no scenario's path).
func Tagged(runner int) []int {
	prefix := strconv.Itoa(runner) + "-"
	pids, _ := proc.PIDs()
	var tagged []int
	for _, pid := range pids {
		tag, ok := proc.Getenv(pid, reaper.TagVar)
		if st, err := proc.ReadStat(pid); ok && strings.HasPrefix(tag, prefix) && err == nil && !st.Dead() {
			tagged = append(tagged, pid)
		}
	}
	return tagged
}
