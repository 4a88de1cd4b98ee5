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

	"github.com/muster-test/muster-test/internal/reaper"
)

// stopGrace is how long Stop gives a SUT between SIGTERM and SIGKILL. muster exits within
// tens of milliseconds of SIGTERM; a SUT slower than this is not worth waiting for.
const stopGrace = time.Second

// sweepFloor is the least time the search for a SUT's strays gets, even when the stop's
// deadline has passed: killed processes need a moment to be seen gone.
const sweepFloor = 200 * time.Millisecond

// outputDrain bounds how long the output of an exited SUT is still read (see WaitDelay).
const outputDrain = 200 * time.Millisecond

// logKeep bounds the in-memory copy of a SUT's output; the whole log is in its file.
const logKeep = 256 << 10

// process is a SUT child in its own process group, with its output captured.
type process struct {
	cmd  *exec.Cmd
	tag  reaper.Tag // in the environment of the SUT and everything it starts
	log  *tailBuffer
	out  *switchWriter // where the output goes: log, then log and file once attached
	mu   sync.Mutex    // guards file and fileDone
	file *os.File
	// fileDone is set once the process has exited; a file attached later is not kept.
	fileDone bool
	done     chan struct{} // closed when the process has exited and been reaped
	err      error         // Wait's result, valid after done
	spare    bool          // a spare took this start (see Spares)
}

// startProcess starts argv with env added to the runner's environment, in a new process
// group (so Stop reaches its children too) that dies with the runner (Pdeathsig), and with
// a tag of its own that its descendants inherit (so Stop finds those that left the group).
// Its output goes to memory and is appended to logPath, after note. A spare of argv's
// binary takes its place when spares has one (see Spares).
func startProcess(argv []string, env []string, dir, logPath, note string, spares *Spares) (*process, error) {
	if p := spares.take(argv, env, dir, logPath, note); p != nil {
		return p, nil
	}
	p := newProcess(argv, env, dir)
	if err := p.attach(logPath, note); err != nil {
		p.closeFile()
		return nil, err
	}
	if err := p.start(); err != nil {
		p.closeFile()
		return nil, err
	}
	return p, nil
}

// newProcess prepares argv as startProcess describes, its output going to memory only.
func newProcess(argv []string, env []string, dir string) *process {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	tag := reaper.NewTag()
	cmd.Env = append(append(os.Environ(), env...), tag.Env())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &process{cmd: cmd, tag: tag, log: &tailBuffer{max: logKeep, wrote: make(chan struct{}, 1)}, done: make(chan struct{})}
	p.out = &switchWriter{w: p.log}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	// The output is copied through a pipe, which a child of the SUT that outlives it (a
	// stdio upstream in its own session) would hold open; without a bound, Wait would not
	// return, the SUT's death would go unnoticed and stop would hang.
	cmd.WaitDelay = outputDrain
	return p
}

// attach writes note to the process's output and from then on appends that output to
// logPath too ("": memory only). Appended, so the output of an earlier start of the same
// scenario stays.
func (p *process) attach(logPath, note string) error {
	var out io.Writer = p.log
	if logPath != "" {
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		p.mu.Lock()
		if p.fileDone {
			f.Close()
		} else {
			p.file, out = f, io.MultiWriter(p.log, f)
		}
		p.mu.Unlock()
	}
	_, err := io.WriteString(out, note)
	p.out.set(out)
	return err
}

// start starts the prepared command and reaps it when it exits.
func (p *process) start() error {
	if err := reaper.Start(p.cmd); err != nil {
		return fmt.Errorf("start %s: %w", p.cmd.Path, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		reaper.Waited(p.cmd.Process.Pid)
		p.closeFile()
		close(p.done)
	}()
	return nil
}

func (p *process) closeFile() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fileDone = true
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

// stop ends the SUT and everything it started: SIGTERM to its process group, SIGKILL to the
// group at the deadline (at once when the SUT has exited: children it left in its group),
// then SIGKILL to every process that carries its tag wherever it moved (a grandchild in a
// session of its own). It returns once the SUT is reaped: killed says it had not exited by
// the deadline, notes name the processes it left outside its group. Only the group and the
// processes this runner tagged are signalled.
func (p *process) stop(deadline time.Time) (killed bool, notes []string) {
	if !p.exited() {
		p.killGroup(syscall.SIGTERM)
		t := time.NewTimer(time.Until(deadline))
		select {
		case <-p.done:
		case <-t.C:
			killed = true
		}
		t.Stop()
	}
	p.killGroup(syscall.SIGKILL)
	<-p.done
	sweep := deadline
	if floor := time.Now().Add(sweepFloor); floor.After(sweep) {
		sweep = floor
	}
	hit, left := reaper.Kill(p.tag, sweep)
	var strays []string
	for _, st := range hit {
		// Members of the SUT's group were signalled with it; the rest escaped the group.
		if st.PGID != p.cmd.Process.Pid {
			strays = append(strays, fmt.Sprint(st.PID))
		}
	}
	if len(strays) > 0 {
		notes = append(notes, fmt.Sprintf("killed %d process(es) the SUT left outside its process group (pid %s)",
			len(strays), strings.Join(strays, ", ")))
	}
	if len(left) > 0 {
		notes = append(notes, fmt.Sprintf("processes the SUT started still ran after SIGKILL: pid %v", left))
	}
	return killed, notes
}

func (p *process) killGroup(sig syscall.Signal) {
	// The negative pid addresses the process group that Setpgid made with the child's pid.
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
}

// switchWriter is a process's output stream, whose destination changes when a spare is
// attached to a scenario.
type switchWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *switchWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

func (s *switchWriter) set(w io.Writer) {
	s.mu.Lock()
	s.w = w
	s.mu.Unlock()
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	max     int
	total   int64 // bytes written since the start, kept or not
	dropped bool
	wrote   chan struct{} // receives once after any number of writes (nil: no one listens)
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	b.total += int64(len(p))
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
		b.dropped = true
	}
	select {
	case b.wrote <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// mark is a position in the output, for since.
func (b *tailBuffer) mark() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total
}

// since is what was written after mark, as far as it is still kept.
func (b *tailBuffer) since(mark int64) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := int(min(b.total-mark, int64(b.buf.Len())))
	return string(b.buf.Bytes()[b.buf.Len()-n:])
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
