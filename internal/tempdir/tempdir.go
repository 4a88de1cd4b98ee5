// Package tempdir makes the scenarios' temporary directories and makes sure none outlives
// its runner: each carries the pid and start time of the runner that made it in its name,
// the process remembers the ones it has not removed yet (for an emergency exit), and a
// runner starting later removes the directories of runners that are gone (SIGKILL leaves
// them, since a killed process cannot clean up).
package tempdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"

	"github.com/muster-test/muster-test/internal/proc"
)

// prefix starts every directory this package makes, owned or kept.
const prefix = "muster-test-"

// ownedName matches an owned directory: muster-test-<label>-<random>.run<pid>.<start>. The
// owner is a suffix because os.MkdirTemp's random part is digits only: a kept directory
// (muster-test-<label>-<random>) can then never look owned, whatever its label.
var ownedName = regexp.MustCompile(`^` + prefix + `.*\.run(\d+)\.(\d+)$`)

var (
	mu     sync.Mutex
	live   = map[string]bool{}
	closed bool // after RemoveAll: the process is exiting
)

// self is this process's pid and start time, the owner written into directory names.
var self = sync.OnceValues(proc.Self)

// unsafe are the characters a label loses: the name must stay one path element, and
// os.MkdirTemp gives '*' a meaning.
var unsafe = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Create makes a new directory below os.TempDir() whose name starts with muster-test-<label>-
// (characters other than letters, digits, '.', '_' and '-' in label become '_'). keep is for a directory the user asked to keep: it carries no owner, so no later runner
// removes it, and RemoveAll leaves it. Any other directory is owned by this process until
// Remove.
func Create(label string, keep bool) (string, error) {
	label = unsafe.ReplaceAllString(label, "_")
	if keep {
		return os.MkdirTemp("", prefix+label+"-")
	}
	me, err := self()
	if err != nil {
		return "", fmt.Errorf("who am I: %w", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if closed {
		return "", errors.New("the runner is exiting")
	}
	dir, err := os.MkdirTemp("", fmt.Sprintf("%s%s-*.run%d.%d", prefix, label, me.PID, me.Start))
	if err != nil {
		return "", err
	}
	live[dir] = true
	return dir, nil
}

// Remove removes a directory Create made, with everything in it. It holds the lock while
// it removes, so that a RemoveAll meanwhile (an exit at once) waits for the removal to be
// complete instead of taking the directory for gone and exiting in the middle of it.
func Remove(dir string) error {
	mu.Lock()
	defer mu.Unlock()
	err := os.RemoveAll(dir)
	delete(live, dir)
	return err
}

// RemoveAll removes every owned directory of this process that is still there, and refuses
// any later Create: for an exit that cannot wait for the scenarios' own teardown.
func RemoveAll() error {
	mu.Lock()
	defer mu.Unlock()
	closed = true
	var errs []error
	for dir := range live {
		errs = append(errs, os.RemoveAll(dir))
		delete(live, dir)
	}
	return errors.Join(errs...)
}

// Sweep removes the owned directories in os.TempDir() whose runner no longer runs, and
// returns the paths it removed. Only this user's directories are looked at, symbolic links
// are never followed, and a directory whose owner cannot be told dead is left alone.
func Sweep() ([]string, error) {
	root := os.TempDir()
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		m := ownedName.FindStringSubmatch(e.Name())
		if m == nil || e.Type()&fs.ModeType != fs.ModeDir || !mine(e) {
			continue
		}
		pid, err1 := strconv.Atoi(m[1])
		start, err2 := strconv.ParseUint(m[2], 10, 64)
		if err1 != nil || err2 != nil || !gone(pid, start) {
			continue
		}
		p := filepath.Join(root, e.Name())
		if err := os.RemoveAll(p); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, p)
	}
	return removed, errors.Join(errs...)
}

func mine(e fs.DirEntry) bool {
	info, err := e.Info()
	if err != nil {
		return false
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}

// gone reports whether the process that was pid, started at start, has ended: no such
// pid, a zombie, or a pid now reused by a process that started at another time.
func gone(pid int, start uint64) bool {
	st, err := proc.ReadStat(pid)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	if err != nil {
		return false
	}
	return st.Start != start || st.Dead()
}
