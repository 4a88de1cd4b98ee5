package sut

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// stopGrace is how long a SUT gets between SIGTERM and SIGKILL. muster exits within tens of
// milliseconds of SIGTERM; a SUT slower than this is not worth waiting for.
const stopGrace = 3 * time.Second

// outputDrain bounds how long the output of an exited SUT is still read (see WaitDelay).
const outputDrain = 200 * time.Millisecond

// logKeep bounds the in-memory copy of a SUT's output; the whole log is in its file.
const logKeep = 256 << 10

// process is a SUT child in its own process group, with its output captured.
type process struct {
	cmd  *exec.Cmd
	log  *tailBuffer
	file *os.File
	done chan struct{} // closed when the process has exited and been reaped
	err  error         // Wait's result, valid after done
}

// startProcess starts argv with env added to the runner's environment, in a new process
// group (so Stop reaches its children too) that dies with the runner (Pdeathsig). Its
// output goes to memory and is appended to logPath, after note.
func startProcess(argv []string, env []string, dir, logPath, note string) (*process, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &process{cmd: cmd, log: &tailBuffer{max: logKeep}, done: make(chan struct{})}
	var out io.Writer = p.log
	if logPath != "" {
		// Appended, so the output of an earlier start of the same scenario stays.
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		p.file, out = f, io.MultiWriter(p.log, f)
	}
	if _, err := io.WriteString(out, note); err != nil {
		p.closeFile()
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = out, out
	// The output is copied through a pipe, which a child of the SUT that outlives it (a
	// stdio upstream in its own session) would hold open; without a bound, Wait would not
	// return, the SUT's death would go unnoticed and stop would hang.
	cmd.WaitDelay = outputDrain
	if err := cmd.Start(); err != nil {
		p.closeFile()
		return nil, fmt.Errorf("start %s: %w", argv[0], err)
	}
	go func() {
		p.err = cmd.Wait()
		p.closeFile()
		close(p.done)
	}()
	return p, nil
}

func (p *process) closeFile() {
	if p.file != nil {
		p.file.Close()
	}
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitDescription says how the process ended, e.g. "exited with code 2" or "killed by
// signal: segmentation fault". Valid after done.
func (p *process) exitDescription() string {
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "killed by signal " + ws.Signal().String()
		}
		return fmt.Sprintf("exited with code %d", ee.ExitCode())
	}
	if p.err != nil {
		return "ended: " + p.err.Error()
	}
	return "exited with code 0"
}

// stop ends the whole process group: SIGTERM, then SIGKILL after the grace period. It
// returns once the process is reaped. Only the group this runner created is signalled.
func (p *process) stop() {
	if p.exited() {
		p.killGroup(syscall.SIGKILL) // children the SUT left behind in its group
		return
	}
	p.killGroup(syscall.SIGTERM)
	t := time.NewTimer(stopGrace)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		p.killGroup(syscall.SIGKILL)
		<-p.done
	}
	p.killGroup(syscall.SIGKILL)
}

func (p *process) killGroup(sig syscall.Signal) {
	// The negative pid addresses the process group that Setpgid made with the child's pid.
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	max     int
	dropped bool
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
		b.dropped = true
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// tail returns the last n lines.
func (b *tailBuffer) tail(n int) string {
	s := strings.TrimRight(b.String(), "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
