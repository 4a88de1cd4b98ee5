package sut

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/server"
)

// TestWaitReadyNoticesTheListenLine: once the SUT logs that it listens, the driver connects
// at once instead of at the end of a poll interval that backed off while the SUT started.
// With the poll at an hour, only that line can end the wait in time.
func TestWaitReadyNoticesTheListenLine(t *testing.T) {
	defer func(start, maxPoll time.Duration) { readyPollStart, readyPollMax = start, maxPoll }(readyPollStart, readyPollMax)
	readyPollStart, readyPollMax = time.Hour, time.Hour

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: server.NewStreamableHTTPServer(server.NewMCPServer("fake-sut", "1", server.WithToolCapabilities(true)))}
	defer srv.Close()
	proc := &process{log: &tailBuffer{max: logKeep, wrote: make(chan struct{}, 1)}, done: make(chan struct{})}
	go func() {
		// The first connection fails after its whole request was read (so it is not
		// retried); then the SUT says it listens and serves.
		c, err := l.Accept()
		if err != nil {
			return
		}
		_, _ = http.ReadRequest(bufio.NewReader(c))
		c.Close()
		fmt.Fprintf(proc.log, "time=%s level=INFO msg=\"Started aggregator manager on http://%s/mcp\"\n",
			time.Now().Format(time.RFC3339Nano), l.Addr())
		_ = srv.Serve(l)
	}()

	spec := &Spec{Dir: t.TempDir()}
	inst := &Instance{Endpoint: "http://" + l.Addr().String() + "/mcp", spec: spec, proc: proc,
		started: time.Now(), readyDeadline: time.Now().Add(20 * time.Second)}
	ctx, cancel := context.WithDeadline(context.Background(), inst.readyDeadline)
	defer cancel()
	if err := inst.waitReady(ctx, 0); err != nil {
		t.Fatalf("waitReady: %v", err)
	}
}

// TestDirectReadinessNoticesOutput: a direct-mode SUT is looked at again as soon as it writes
// (servers say when they listen) rather than a backed-off poll interval later. With the
// poll at an hour, only its output can end the wait in time.
func TestDirectReadinessNoticesOutput(t *testing.T) {
	defer func(start, maxPoll time.Duration) { readyPollStart, readyPollMax = start, maxPoll }(readyPollStart, readyPollMax)
	readyPollStart, readyPollMax = time.Hour, time.Hour

	var ready atomic.Bool
	refused := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ready.Load() {
			once.Do(func() { close(refused) })
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	proc := &process{log: &tailBuffer{max: logKeep, wrote: make(chan struct{}, 1)}, done: make(chan struct{})}
	inst := &Instance{Endpoint: srv.URL + "/mcp", spec: &Spec{Dir: t.TempDir()}, proc: proc, started: time.Now()}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- inst.waitDirectReady(ctx, &DirectSpec{ReadyHTTP: "/health"}, u) }()

	<-refused // the first check failed: the wait is now parked on the hour
	ready.Store(true)
	fmt.Fprintf(proc.log, "listening on %s\n", u.Host)
	if err := <-done; err != nil {
		t.Fatalf("waitDirectReady: %v", err)
	}
}
