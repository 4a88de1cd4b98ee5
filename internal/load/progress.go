package load

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/muster-test/muster-test/internal/event"
)

var httpStatus = regexp.MustCompile(`\bstatus (?:code )?[1-5]\d\d\b|\b[45]\d\d (?:Unauthorized|Forbidden|Not Found|Too Many Requests|Internal Server Error|Bad Gateway|Service Unavailable)`)

// classify names the kind of a step's failure, "" for a step that passed. A step that
// FAILED got an answer: a tool error when it wanted success and the tool failed, else an
// expectation; one that ERRORED got none: a timeout, an HTTP error status or transport.
func classify(sr event.StepResult) string {
	switch sr.Status {
	case event.Passed:
		return ""
	case event.Failed:
		if sr.Expectation == "success" && sr.Expected == true {
			return KindToolError
		}
		return KindExpectation
	}
	switch msg := sr.Message; {
	case strings.Contains(msg, "timed out"), strings.Contains(msg, "deadline exceeded"):
		return KindTimeout
	case httpStatus.MatchString(msg):
		return KindHTTPStatus
	}
	return KindTransport
}

// progress reports the run while it goes: on a terminal one line rewritten every second,
// otherwise a plain line every 5 s.
func (e *engine) progress(ctx context.Context) {
	out := e.o.Progress
	if out == nil {
		return
	}
	every := 5 * time.Second
	if e.o.Live {
		every = time.Second
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if e.o.Live {
				fmt.Fprint(out, "\r\033[K")
			}
			return
		case <-t.C:
			line := e.status()
			if e.o.Live {
				fmt.Fprint(out, "\r\033[K"+line)
			} else {
				fmt.Fprintln(out, line)
			}
		}
	}
}

// status is one line: elapsed, users, calls per second over the last full second, error
// rate and p95 so far.
func (e *engine) status() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	elapsed := time.Since(e.t0).Truncate(time.Second)
	phase := ""
	if time.Now().Before(e.from) {
		phase = " (warm-up)"
	}
	var rps uint64
	if i := int(time.Since(e.from)/time.Second) - 1; i >= 0 && i < len(e.rep.Throughput) {
		rps = e.rep.Throughput[i].Calls
	}
	rate := 0.0
	if e.rep.Run.Count > 0 {
		rate = float64(e.rep.Run.Errors) / float64(e.rep.Run.Count) * 100
	}
	return fmt.Sprintf("load: %s%s  users %d  %d calls/s  errors %.2f%%  p95 %.1fms", elapsed, phase, len(e.users), rps, rate,
		e.rep.Run.Hist.Quantile(.95))
}
