package spare

import (
	"bytes"
	"os"
	"strconv"
	"strings"
)

// retitle makes the process's command line, as /proc/PID/cmdline and ps show it, the
// binary followed by args, the way setproctitle does: it writes over the argument strings
// the kernel placed at exec, in the room that Command's empty arguments left, through
// /proc/self/mem. Await has pointed os.Args at the handed strings before, so the strings
// that change under it are no longer used. Anything unexpected (no /proc, another layout) leaves
// the title as it was: it is for people and tools that look, not for the run.
func retitle(args []string) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return
	}
	// Fields after the command name in parentheses, which may hold spaces; arg_start and
	// arg_end are fields 48 and 49 of proc(5).
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return
	}
	f := strings.Fields(string(stat[i+1:]))
	const argStart, argEnd = 48 - 3, 49 - 3 // fields 1 and 2 precede the first kept
	if len(f) <= argEnd {
		return
	}
	start, err1 := strconv.ParseUint(f[argStart], 10, 64)
	end, err2 := strconv.ParseUint(f[argEnd], 10, 64)
	if err1 != nil || err2 != nil {
		return
	}
	// The room runs from the first argument after the binary to the end, less the last
	// byte, which stays NUL: a non-NUL there tells the kernel the title ran on into the
	// environment.
	from := start + uint64(len(os.Args[0])) + 1 // os.Args[0] is the binary as exec'd
	if from >= end {
		return
	}
	room := int(end - from - 1)
	title := []byte(strings.Join(args, "\x00"))
	if len(title) > room {
		title = title[:room]
	}
	title = append(title, make([]byte, room+1-len(title))...)
	mem, err := os.OpenFile("/proc/self/mem", os.O_WRONLY, 0)
	if err != nil {
		return
	}
	defer mem.Close()
	// Check that the room is where Command put it: the role, then NULs.
	if !bytes.HasPrefix(readMem(from, len(Role)+2), []byte(Role+"\x00\x00")) {
		return
	}
	_, _ = mem.WriteAt(title, int64(from))
}

func readMem(at uint64, n int) []byte {
	b := make([]byte, n)
	f, err := os.Open("/proc/self/mem")
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.ReadAt(b, int64(at)); err != nil {
		return nil
	}
	return b
}
