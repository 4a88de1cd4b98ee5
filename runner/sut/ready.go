package sut

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

const defaultReadyTimeout = 30 * time.Second

// Readiness polls fast first, because the SUT usually answers within tens of milliseconds,
// and backs off so a slow start costs little CPU.
const (
	readyPollStart = 5 * time.Millisecond
	readyPollMax   = 100 * time.Millisecond
)

// waitReady waits for an MCP initialize to succeed, then for `tools/list` to show every
// configured server as settled: its tools, or its authenticate tool when it is protected.
func (i *Instance) waitReady(ctx context.Context) error {
	timeout := i.spec.ReadyTimeout
	if timeout <= 0 {
		timeout = defaultReadyTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	poll := readyPollStart
	wait := func() error {
		t := time.NewTimer(poll)
		defer t.Stop()
		poll = min(poll*2, readyPollMax)
		select {
		case <-t.C:
			return nil
		case <-i.proc.done:
			return fmt.Errorf("SUT %s before it was ready\n--- last lines of the SUT log ---\n%s",
				i.proc.exitDescription(), i.LogTail(20))
		case <-ctx.Done():
			return i.notReady(ctx, "")
		}
	}
	var lastErr error
	for {
		sess, err := i.Connect(ctx)
		if err == nil {
			i.StartDur = time.Since(i.started)
			err = i.waitSettled(ctx, sess, wait)
			sess.Close()
			i.ReadyDur = time.Since(i.started) - i.StartDur
			return err
		}
		lastErr = err
		if err := wait(); err != nil {
			if ctx.Err() != nil && lastErr != nil {
				return i.notReady(ctx, "last connection error: "+lastErr.Error())
			}
			return err
		}
	}
}

type listSession interface {
	ListTools(ctx context.Context) ([]string, error)
}

func (i *Instance) waitSettled(ctx context.Context, sess listSession, wait func() error) error {
	want := i.expectedTools()
	for {
		tools, err := sess.ListTools(ctx)
		missing := want
		if err == nil {
			missing = slices.DeleteFunc(slices.Clone(want), func(n string) bool { return slices.Contains(tools, n) })
			if len(missing) == 0 {
				return nil
			}
		}
		if werr := wait(); werr != nil {
			if ctx.Err() != nil {
				detail := "still missing tools: " + strings.Join(missing, ", ")
				if err != nil {
					detail = "tools/list failed: " + err.Error()
				}
				return i.notReady(ctx, detail)
			}
			return werr
		}
	}
}

func (i *Instance) notReady(ctx context.Context, detail string) error {
	msg := fmt.Sprintf("SUT not ready after %s", i.spec.readyTimeout())
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
		if u.Protected {
			out = append(out, "x_"+u.Name+"_authenticate")
			continue
		}
		prefix, _ := u.Spec["toolPrefix"].(string)
		if prefix == "" {
			prefix = u.Name
		}
		for _, t := range u.Tools {
			out = append(out, ExposedName("x", prefix, t))
		}
	}
	return out
}

// ExposedName is the name under which muster exposes an upstream tool (MUSTER-CONTRACT.md
// §3.3): `<musterPrefix>_<prefix>_<tool>`, except that a tool already named `<prefix>_...`
// keeps its name after the muster prefix.
func ExposedName(musterPrefix, serverPrefix, tool string) string {
	if strings.HasPrefix(tool, serverPrefix+"_") {
		return musterPrefix + "_" + tool
	}
	return musterPrefix + "_" + serverPrefix + "_" + tool
}
