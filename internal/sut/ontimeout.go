package sut

import (
	"fmt"
	"strings"
	"time"
)

// Output after an on_timeout signal is taken once the SUT has been quiet for signalQuiet
// (a goroutine dump comes in a burst) or has exited, and for signalWait at most.
const (
	signalQuiet = 300 * time.Millisecond
	signalWait  = 3 * time.Second
)

// SignalOnTimeout sends the sut block's on_timeout signal to the started server (by the
// PID the runner started, not its group: the server is asked, its children are not) and
// returns what it wrote after it, with a line that says what was sent. "" when the spec
// names no signal or the server is not running.
func (i *Instance) SignalOnTimeout() string {
	d := i.spec.Direct
	if d == nil || d.OnTimeout == 0 || i.proc == nil {
		return ""
	}
	select {
	case <-i.proc.done:
		return ""
	default:
	}
	mark := i.proc.log.mark()
	if err := i.proc.cmd.Process.Signal(d.OnTimeout); err != nil {
		return fmt.Sprintf("sending %s to the SUT (pid %d) failed: %v", signalName(d.OnTimeout), i.proc.cmd.Process.Pid, err)
	}
	deadline := time.NewTimer(signalWait)
	defer deadline.Stop()
	quiet := time.NewTimer(signalQuiet)
	defer quiet.Stop()
wait:
	for {
		select {
		case <-i.proc.log.wrote:
			quiet.Reset(signalQuiet)
		case <-quiet.C:
			break wait
		case <-i.proc.done:
			break wait
		case <-deadline.C:
			break wait
		}
	}
	out := strings.TrimRight(i.proc.log.since(mark), "\n")
	if out == "" {
		out = "(nothing)"
	}
	return fmt.Sprintf("sent %s to the SUT (pid %d) after the timeout; it wrote:\n%s", signalName(d.OnTimeout), i.proc.cmd.Process.Pid, out)
}

func signalName(s interface{ String() string }) string {
	return "SIG" + strings.ToUpper(strings.TrimPrefix(strings.ToUpper(s.String()), "SIG"))
}
