package runner

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/tempdir"
	"github.com/muster-test/muster-test/internal/traffic"
)

// TeardownBudget bounds a scenario's teardown: closing its MCP sessions, stopping its SUT
// and everything the SUT started, stopping its mocks and removing its temp dir. A SUT that
// answers and exits on SIGTERM needs milliseconds of it; one that does neither (frozen,
// hung) is cut off, and the scenario's result says so in a note.
const TeardownBudget = 2 * time.Second

// Shares of the budget: the sessions' DELETEs may take sessionCloseShare, and killReserve
// is kept back from the SUT's SIGTERM grace for SIGKILL, reaping and the search for what
// the SUT left outside its process group.
const (
	sessionCloseShare = 500 * time.Millisecond
	killReserve       = 300 * time.Millisecond
)

// teardown undoes the set-up in reverse order within TeardownBudget and records what it
// had to cut short.
func (r *scenarioRun) teardown() {
	start := time.Now()
	deadline := start.Add(TeardownBudget)
	var cut []string
	if r.world != nil {
		ctx, cancel := context.WithDeadline(context.Background(), start.Add(sessionCloseShare))
		if n := r.world.CloseWithin(ctx); n > 0 {
			cut = append(cut, fmt.Sprintf("%d MCP session close(s) (DELETE) unanswered after %s", n, sessionCloseShare))
		}
		cancel()
	}
	if r.inst != nil {
		killed, notes := r.inst.StopBy(deadline.Add(-killReserve))
		if killed {
			cut = append(cut, "the SUT did not exit on SIGTERM in time and was killed (SIGKILL)")
		}
		r.res.Timings.SUTListen = r.inst.ListenDur()
		r.res.Notes = append(r.res.Notes, r.inst.Notes()...)
		r.res.Notes = append(r.res.Notes, notes...)
		if r.w.opts.Debug || r.res.Status == event.Failed || r.res.Status == event.Error {
			r.res.SUTLog = r.inst.Log()
		}
	}
	if r.env != nil {
		r.env.AddMockTraffic()
		r.env.Close()
	}
	r.res.Trace = r.trace.lines()
	r.keepExchanges()
	if r.dir != "" {
		if r.w.opts.KeepTempDirs {
			r.res.Notes = append(r.res.Notes, "temp dir kept: "+r.dir)
		} else if err := tempdir.Remove(r.dir); err != nil {
			r.res.Notes = append(r.res.Notes, "temp dir not removed: "+err.Error())
		}
	}
	r.res.Timings.Teardown = time.Since(start)
	if len(cut) > 0 {
		r.res.Notes = append(r.res.Notes, fmt.Sprintf("teardown cut to its %s budget: %s", TeardownBudget, strings.Join(cut, "; ")))
	}
}

// keepExchanges puts the scenario's recorded requests, each tied to its step, into the
// result.
func (r *scenarioRun) keepExchanges() {
	ex, dropped := r.traffic.Exchanges()
	traffic.Attribute(ex, r.res.Steps)
	r.res.Exchanges = ex
	if dropped > 0 {
		r.res.Notes = append(r.res.Notes, fmt.Sprintf("%d more HTTP requests were made than the %d recorded", dropped, len(ex)))
	}
}
