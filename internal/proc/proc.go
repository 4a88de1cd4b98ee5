// Package proc reads what the runner needs to know about processes from Linux's /proc: a
// process's parent, state and start time, and its environment. A pid alone does not name a
// process for long (pids are reused), so callers pair it with the start time.
package proc

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Stat is the part of /proc/PID/stat the runner uses.
type Stat struct {
	PID   int
	State byte // R, S, D, T, Z, ...
	PPID  int
	PGID  int
	// Start is when the process started, in clock ticks since boot: with the pid it names
	// one process (pids are reused, start times of a pid are not within a boot).
	Start uint64
}

// Dead reports whether the process has ended: a zombie or dead task runs no code.
func (s Stat) Dead() bool { return s.State == 'Z' || s.State == 'X' }

// ReadStat reads /proc/PID/stat. An error wrapping os.ErrNotExist means no such process.
func ReadStat(pid int) (Stat, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Stat{}, err
	}
	return parseStat(pid, b)
}

func parseStat(pid int, b []byte) (Stat, error) {
	// The command name, in parentheses, may itself hold spaces and parentheses: the
	// fields start after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return Stat{}, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); start time is field 22.
	if len(f) < 20 || len(f[0]) != 1 {
		return Stat{}, fmt.Errorf("/proc/%d/stat: malformed", pid)
	}
	s := Stat{PID: pid, State: f[0][0]}
	var errs [3]error
	s.PPID, errs[0] = strconv.Atoi(f[1])
	s.PGID, errs[1] = strconv.Atoi(f[2])
	s.Start, errs[2] = strconv.ParseUint(f[19], 10, 64)
	if err := errors.Join(errs[:]...); err != nil {
		return Stat{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return s, nil
}

// Self is the calling process's own stat.
func Self() (Stat, error) { return ReadStat(os.Getpid()) }

// PIDs lists the pids of every process now visible in /proc.
func PIDs() ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	pids := make([]int, 0, len(entries))
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// Children lists the stats of the processes whose parent is pid. It reads the children
// lists the kernel keeps per thread, and scans all of /proc where the kernel keeps none.
func Children(pid int) ([]Stat, error) {
	kids, err := childPIDs(pid)
	if errors.Is(err, fs.ErrNotExist) && exists(pid) {
		return scanChildren(pid)
	}
	if err != nil {
		return nil, err
	}
	out := make([]Stat, 0, len(kids))
	for _, k := range kids {
		// A child that is gone by now is no child any more.
		if st, err := ReadStat(k); err == nil && st.PPID == pid {
			out = append(out, st)
		}
	}
	return out, nil
}

// Descendants lists the pids of pid's children, their children, and so on. Reading a few
// children lists costs far less than reading every process's stat; where the kernel keeps
// no children lists (CONFIG_PROC_CHILDREN off), the error wraps fs.ErrNotExist.
func Descendants(pid int) ([]int, error) {
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		kids, err := childPIDs(p)
		if err != nil {
			if p == pid {
				return nil, err
			}
			continue // p has exited meanwhile
		}
		out = append(out, kids...)
		queue = append(queue, kids...)
	}
	return out, nil
}

// childPIDs reads /proc/PID/task/*/children: each thread's children.
func childPIDs(pid int) ([]int, error) {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []int
	for i, t := range tasks {
		b, err := os.ReadFile(dir + "/" + t.Name() + "/children")
		if err != nil {
			if i == 0 && errors.Is(err, fs.ErrNotExist) && exists(pid) {
				return nil, err // no children lists in this kernel
			}
			continue // the thread has ended
		}
		for _, f := range strings.Fields(string(b)) {
			if k, err := strconv.Atoi(f); err == nil {
				out = append(out, k)
			}
		}
	}
	return out, nil
}

func exists(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}

// scanChildren is Children by reading every process's stat.
func scanChildren(pid int) ([]Stat, error) {
	pids, err := PIDs()
	if err != nil {
		return nil, err
	}
	var out []Stat
	for _, p := range pids {
		if st, err := ReadStat(p); err == nil && st.PPID == pid {
			out = append(out, st)
		}
	}
	return out, nil
}

// Environ is /proc/PID/environ: the environment the process was started with, as NUL-
// separated NAME=value entries. It is empty for a zombie (its memory is gone) and for an
// instant during an exec; it cannot be read for other users' processes.
func Environ(pid int) ([]byte, error) {
	return os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
}

// Lookup returns the value of the variable name in env as Environ returns it.
func Lookup(env []byte, name string) (value string, ok bool) {
	for _, e := range bytes.Split(env, []byte{0}) {
		if k, v, found := bytes.Cut(e, []byte{'='}); found && string(k) == name {
			return string(v), true
		}
	}
	return "", false
}

// Getenv returns the value of the environment variable name the process was started with.
// ok is false when it has none, and when its environment cannot be read (see Environ).
func Getenv(pid int, name string) (value string, ok bool) {
	env, err := Environ(pid)
	if err != nil {
		return "", false
	}
	return Lookup(env, name)
}
