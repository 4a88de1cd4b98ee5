// Package spare is the wire between the runner and a child process it started before it
// knew what the child would run: a spare. A Go child spends tens of milliseconds of CPU in
// package init before it can do anything (see package child); a spare spends them while
// the previous scenario runs, then blocks until the runner hands it the command line,
// environment and working directory of the start it stands in for, and runs that as if it
// had been started with it.
//
// The handoff comes on file descriptor 3, so that the child's stdin, stdout and stderr are
// the ones a fresh start would have. A spare that reads end of file there (the runner
// closed it or died) exits at once with code 0.
//
// A spare also takes the command line it stands in for as its own, as ps and
// /proc/PID/cmdline show it, so that a SUT is found by its configuration path as when it
// is started afresh (see retitle); cmdline then ends in the empty arguments that made room
// for it.
package spare

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"
)

// Role is the command line of a spare after the binary: `muster-test-child spare`.
const Role = "spare"

// fd is where a spare reads its handoff: the first of exec.Cmd's ExtraFiles.
const fd = 3

// titleRoom is how many bytes of command line a spare can show after its binary: the
// room its empty arguments give (see Command). Handed command lines are a config path and
// a few flags; a longer one shows cut short, and runs whole.
const titleRoom = 2048

// Command is the command line that starts binary as a spare.
func Command(binary string) []string {
	argv := make([]string, 2+titleRoom-len(Role)-1)
	argv[0], argv[1] = binary, Role
	return argv
}

// IsSpare reports whether args, a command line after its binary, starts a spare.
func IsSpare(args []string) bool { return len(args) > 0 && args[0] == Role }

// Handoff is the start a spare stands in for.
type Handoff struct {
	Args []string `json:"args"` // the command line after the binary
	Env  []string `json:"env"`  // KEY=VALUE, added to the environment the spare started with
	Dir  string   `json:"dir"`  // the working directory ("" keeps the spare's)
}

// Send writes h to a spare's handoff pipe.
func Send(w io.Writer, h Handoff) error { return json.NewEncoder(w).Encode(h) }

// Fits reports whether a spare can stand in for the start h describes. Variables that
// act before any Go code runs (the Go runtime's GOGC, GODEBUG, ...; the dynamic loader's
// LD_*; the C library's MALLOC_*) are read at exec, when a spare's environment is still
// the runner's; and the handoff's JSON would change bytes that are not UTF-8. Such a start
// must be a fresh process. GOMAXPROCS is the exception: Await sets it as the runtime
// would have at exec (see procs).
func Fits(h Handoff) bool {
	for _, kv := range h.Env {
		if k, v, _ := strings.Cut(kv, "="); k == "GOMAXPROCS" {
			if procs(v) == 0 {
				return false
			}
			continue
		}
		for _, p := range []string{"GO", "LD_", "MALLOC_"} {
			if strings.HasPrefix(kv, p) {
				return false
			}
		}
	}
	return utf8.ValidString(h.Dir) && !slices.ContainsFunc(append(slices.Clone(h.Args), h.Env...),
		func(s string) bool { return !utf8.ValidString(s) })
}

// procs is the GOMAXPROCS value v sets at exec, parsed as the runtime parses it (a
// positive 32-bit decimal); 0 when v is one the runtime ignores, which Fits then leaves to
// a fresh start to ignore. A spare's package init ran with the setting it was started
// with, but init runs on one goroutine: what it is handed runs with the handed one.
func procs(v string) int {
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n <= 0 {
		return 0
	}
	return int(n)
}

// Await is a spare's side. It blocks until the handoff arrives, applies its working
// directory and environment, and returns what run returns for its command line; ok false
// from run (a command line it does not know) is a usage error, exit code 2.
func Await(run func(args []string) (code int, ok bool)) int {
	// A spare typed by hand has no handoff pipe: its fd 3, if open at all, is someone
	// else's (the Go runtime's own cgroup file, or one inherited), not to be read or closed.
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		fmt.Fprintln(os.Stderr, "spare: fd 3 is not a handoff pipe: a spare is started by the runner only")
		return 2
	}
	f := os.NewFile(fd, "handoff")
	var h Handoff
	err := json.NewDecoder(f).Decode(&h)
	f.Close()
	switch {
	case errors.Is(err, io.EOF):
		return 0 // not needed after all
	case err != nil:
		fmt.Fprintln(os.Stderr, "spare: reading the handoff on fd 3:", err)
		return 2
	case IsSpare(h.Args):
		fmt.Fprintln(os.Stderr, "spare: handed another spare's command line")
		return 2
	}
	// os.Args past the binary point into the argument area that retitle overwrites.
	os.Args = append([]string{os.Args[0]}, h.Args...)
	retitle(h.Args)
	if h.Dir != "" {
		if err := os.Chdir(h.Dir); err != nil {
			fmt.Fprintln(os.Stderr, "spare:", err)
			return 2
		}
	}
	for _, kv := range h.Env {
		k, v, _ := strings.Cut(kv, "=")
		if err := os.Setenv(k, v); err != nil {
			fmt.Fprintln(os.Stderr, "spare:", err)
			return 2
		}
		if n := procs(v); k == "GOMAXPROCS" && n > 0 {
			runtime.GOMAXPROCS(n)
		}
	}
	code, ok := run(h.Args)
	if !ok {
		fmt.Fprintf(os.Stderr, "spare: not a child command line: %q\n", h.Args)
		return 2
	}
	return code
}
