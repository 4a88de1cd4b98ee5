package sut

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/client/transport"

	"github.com/muster-test/muster-test/internal/mcpclient"
	"github.com/muster-test/muster-test/scenario"
)

const defaultReadyTimeout = 30 * time.Second

// Readiness polls fast first, because the SUT usually answers within tens of milliseconds,
// and backs off so a slow start costs little CPU. (Variables for tests.)
var (
	readyPollStart = 5 * time.Millisecond
	readyPollMax   = 100 * time.Millisecond
)

// settleWindow is how long a start that answers MCP may take to show every configured
// server before the driver gives up on it and starts the SUT afresh (muster's own runner
// also waits at most 5 s). muster af5d3ca1 has a start-up race that loses a protected
// server for good: its event handler deregisters the server ("state=stopped") just after
// the orchestrator registered it as pending authentication, so its authenticate tool never
// appears however long one waits.
var settleWindow = 5 * time.Second

// errStalled says the SUT answered MCP but did not show every configured server within the
// settle window.
var errStalled = errors.New("the SUT answered but did not settle")

// waitReady waits for an MCP initialize to succeed, then for `tools/list` to show every
// configured server as settled: its tools, or its authenticate tool when it is protected.
// ctx bounds the whole wait; settle > 0 also bounds the second phase, which then ends
// with errStalled.
func (i *Instance) waitReady(ctx context.Context, settle time.Duration) error {
	poll := readyPollStart
	// muster and the reference SUT log when they listen; the backed-off poll would notice
	// it up to a poll interval later (35 ms for a SUT that listens after 40 ms). Until the
	// first answer, their output wakes the wait to look for that line.
	output := i.proc.log.wrote
	wait := func(ctx context.Context) error {
		t := time.NewTimer(poll)
		defer t.Stop()
		poll = min(poll*2, readyPollMax)
		for {
			select {
			case <-t.C:
				return nil
			case <-output:
				if readyLineRE.MatchString(i.proc.log.String()) {
					output = nil
					return nil
				}
			case <-i.proc.done:
				return fmt.Errorf("SUT %s before it was ready\n--- last lines of the SUT log ---\n%s",
					i.proc.exitDescription(), i.LogTail(20))
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	var opts mcpclient.Options
	release := func() {}
	defer func() { release() }()
	for {
		sess, err := i.Connect(ctx, opts)
		var unauthorized *transport.AuthorizationRequiredError
		if g := i.spec.Gateway; g != nil && opts.Transport == nil && errors.As(err, &unauthorized) {
			// The SUT answers and protects itself: log in to it once. A login that fails
			// now will not succeed later.
			if opts.Transport, release, err = g.Login(ctx, i.Endpoint, ""); err != nil {
				release = func() {}
				return fmt.Errorf("%v\n--- last lines of the SUT log ---\n%s", err, i.LogTail(20))
			}
			continue
		}
		if err == nil {
			output = nil
			i.StartDur = time.Since(i.started)
			err = i.waitSettled(ctx, sess, settle, wait)
			sess.Close()
			i.ReadyDur = time.Since(i.started) - i.StartDur
			return err
		}
		var mismatch *mcpclient.ProtocolMismatchError
		if errors.As(err, &mismatch) {
			// The SUT answers, and will not learn the pinned revision by waiting.
			i.StartDur = time.Since(i.started)
			return err
		}
		if werr := wait(ctx); werr != nil {
			if ctx.Err() != nil {
				return i.notReady(ctx, "last connection error: "+err.Error())
			}
			return werr
		}
	}
}

type listSession interface {
	ListTools(ctx context.Context) ([]string, error)
}

func (i *Instance) waitSettled(ctx context.Context, sess listSession, settle time.Duration, wait func(context.Context) error) error {
	want := i.expectedTools()
	phase := ctx
	if settle > 0 {
		var cancel context.CancelFunc
		phase, cancel = context.WithTimeout(ctx, settle)
		defer cancel()
	}
	for {
		tools, err := sess.ListTools(phase)
		missing := want
		if err == nil {
			missing = slices.DeleteFunc(slices.Clone(want), func(n string) bool { return slices.Contains(tools, n) })
			if len(missing) == 0 {
				return nil
			}
		}
		if werr := wait(phase); werr != nil {
			if phase.Err() == nil {
				return werr // the SUT exited
			}
			detail := "still missing tools: " + strings.Join(missing, ", ")
			if err != nil {
				detail = "tools/list failed: " + err.Error()
			}
			if ctx.Err() == nil {
				return fmt.Errorf("%w within %s (%s)", errStalled, settle, detail)
			}
			return i.notReady(ctx, detail)
		}
	}
}

func (i *Instance) notReady(ctx context.Context, detail string) error {
	msg := fmt.Sprintf("SUT not ready after %s", i.spec.readyTimeout())
	if dl, ok := ctx.Deadline(); ok && dl.Before(i.readyDeadline) {
		// A deadline earlier than the ready timeout ended the wait: the scenario's own.
		msg = fmt.Sprintf("SUT not ready when the scenario's time ran out (%s after its start)",
			time.Since(i.started).Round(time.Millisecond))
	}
	if context.Cause(ctx) != context.DeadlineExceeded && context.Cause(ctx) != nil {
		msg = "SUT start interrupted: " + context.Cause(ctx).Error()
	}
	if detail != "" {
		msg += " (" + detail + ")"
	}
	return fmt.Errorf("%s\n--- last lines of the SUT log ---\n%s", msg, i.LogTail(20))
}

func (s *Spec) readyTimeout() time.Duration {
	if s.ReadyTimeout > 0 {
		return s.ReadyTimeout
	}
	return defaultReadyTimeout
}

// expectedTools are the names that show every upstream has settled.
func (i *Instance) expectedTools() []string {
	var out []string
	for _, u := range i.spec.Upstreams {
		prefix, _ := u.Spec["toolPrefix"].(string)
		if prefix == "" {
			prefix = u.Name
		}
		if u.Protected {
			// muster names its synthetic login tool like an upstream tool called
			// "authenticate", so a toolPrefix applies to it too (x_<toolPrefix>_authenticate).
			out = append(out, ExposedName(i.musterPrefix, prefix, "authenticate"))
			continue
		}
		for _, t := range u.Tools {
			out = append(out, ExposedName(i.musterPrefix, prefix, t))
		}
	}
	return out
}

// ExposedName is the name under which muster exposes an upstream tool: the scenario
// format's rule, which the loader checks steps' tool names with.
func ExposedName(musterPrefix, serverPrefix, tool string) string {
	return scenario.ExposedName(musterPrefix, serverPrefix, tool)
}
