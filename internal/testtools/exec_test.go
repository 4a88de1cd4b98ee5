package testtools

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/env"
	"github.com/muster-test/muster-test/internal/executor"
)

// TestExecSaysWhyItStopped: a command cut by its own timeout says so, and one cut because
// the step or the run ended (a step timeout shorter than the command's, a signal) names
// that cause instead of a timeout that never expired.
func TestExecSaysWhyItStopped(t *testing.T) {
	run := &executor.State{Harness: &World{Env: &env.Env{Dir: t.TempDir()}}}
	hang := map[string]any{"command": []any{"tail", "-f", "/dev/null"}}

	own := map[string]any{"command": hang["command"], "timeout": "50ms"}
	_, err := execCommand(context.Background(), run, own)
	if err == nil || !strings.Contains(err.Error(), "tail did not finish within 50ms") {
		t.Errorf("own timeout: got %v", err)
	}

	ctx, cancel := context.WithCancelCause(context.Background())
	stop := time.AfterFunc(50*time.Millisecond, func() { cancel(errors.New("interrupted by SIGINT")) })
	defer stop.Stop()
	_, err = execCommand(ctx, run, hang)
	if err == nil || !strings.Contains(err.Error(), "tail stopped: interrupted by SIGINT") || strings.Contains(err.Error(), "within") {
		t.Errorf("cancelled step: got %v", err)
	}

	ctx, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	_, err = execCommand(ctx, run, hang)
	if err == nil || !strings.Contains(err.Error(), "tail stopped: the step's time ran out") {
		t.Errorf("step timeout: got %v", err)
	}
}
