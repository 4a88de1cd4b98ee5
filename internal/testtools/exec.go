package testtools

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/muster-test/muster-test/internal/executor"
	"github.com/muster-test/muster-test/internal/reaper"
	"github.com/muster-test/muster-test/scenario"
)

// execOutputMax bounds what test_exec keeps of each output stream.
const execOutputMax = 1 << 20

const defaultExecTimeout = 10 * time.Second

// execStrayWait bounds the wait for what a command left running to be killed.
const execStrayWait = 500 * time.Millisecond

// execCommand runs a command (argv, no shell) in the scenario's temp dir and answers its
// exit code and output: the way to read what a SUT left behind, such as an audit log.
func execCommand(ctx context.Context, run *executor.State, args map[string]any) (map[string]any, error) {
	w, err := worldOf(run)
	if err != nil {
		return nil, err
	}
	var argv []string
	for _, a := range args["command"].([]any) { // checked against the declaration
		argv = append(argv, a.(string))
	}
	timeout, _ := scenario.ToolDuration(args["timeout"])
	if timeout <= 0 {
		timeout = defaultExecTimeout
	}
	step := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = w.Env.Dir
	// The tag finds what the command leaves running outside its group (a daemon it
	// started), which goes with the step.
	tag := reaper.NewTag()
	cmd.Env = append(os.Environ(), tag.Env())
	defer reaper.Kill(tag, time.Now().Add(execStrayWait))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// The whole group goes, so a child of the command cannot outlive the step.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	cmd.Stdin = strings.NewReader(executor.StringArg(args, "stdin"))
	stdout, stderr := &cappedBuffer{max: execOutputMax}, &cappedBuffer{max: execOutputMax}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// Through the reaper, so that the runner, a subreaper, never reaps it in Wait's stead.
	err = reaper.Run(cmd)
	out := map[string]any{"command": strings.Join(argv, " "), "stdout": stdout.String(), "stderr": stderr.String()}
	var ee *exec.ExitError
	switch {
	case step.Err() != nil:
		// The step ended first (its own timeout, the scenario's, a signal), not the command's.
		return nil, fmt.Errorf("%s stopped: %s; stderr: %s", argv[0], stepEnd(step), stderr.String())
	case ctx.Err() != nil:
		return nil, fmt.Errorf("%s did not finish within %s; stderr: %s", argv[0], timeout, stderr.String())
	case errors.As(err, &ee):
		out["exit_code"], out["success"] = ee.ExitCode(), false
		out["error"] = fmt.Sprintf("%s exited with code %d", argv[0], ee.ExitCode())
	case err != nil:
		return nil, fmt.Errorf("run %s: %w", argv[0], err)
	default:
		out["exit_code"], out["success"] = 0, true
	}
	return out, nil
}

// cappedBuffer keeps the first max bytes written to it and says what it dropped.
type cappedBuffer struct {
	buf     bytes.Buffer
	max     int
	dropped int
}

// Write takes all of p, so the command never sees a short write.
func (b *cappedBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if room := max(b.max-b.buf.Len(), 0); room < n {
		b.dropped += n - room
		p = p[:room]
	}
	b.buf.Write(p)
	return n, nil
}

func (b *cappedBuffer) String() string {
	if b.dropped > 0 {
		return b.buf.String() + fmt.Sprintf("\n[... %d more bytes]", b.dropped)
	}
	return b.buf.String()
}

// stepEnd says why a step's context ended: its cause when one was given (an interrupt),
// else that its time ran out or that it was cancelled.
func stepEnd(ctx context.Context) string {
	if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
		return cause.Error()
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "the step's time ran out"
	}
	return "the step was cancelled"
}
