package mcpserver_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// TestDelayCancelledByClient: a client giving up on a slow call releases the server's
// handler instead of leaving it asleep. Streamable HTTP sees the request end; over SSE the
// client sends no cancellation, so the call ends with the session (client closed).
func TestDelayCancelledByClient(t *testing.T) {
	for _, kind := range []clientKind{legacyHTTP, modernHTTP, sseClient} {
		t.Run(string(kind), func(t *testing.T) {
			cfg := parseYAMLConfig(t, testTools)
			if kind == sseClient {
				cfg.Type = mcpserver.TypeSSE
			}
			s := startServer(t, cfg)
			c := mustConnect(t, kind, s.URL(), nil)
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			if _, _, err := call(ctx, c, "slow", nil); err == nil {
				t.Fatal("slow call returned without error")
			}
			if time.Since(start) > 5*time.Second {
				t.Fatal("client waited far beyond its deadline")
			}
			if kind == sseClient {
				_ = c.Close()
			}
			waitFor(t, "the server to abandon the delay", func() bool { return mcpserver.DelaysCancelled(s) == 1 })
			if n := len(s.CallsTo("slow")); n != 1 {
				t.Errorf("%d slow calls logged", n)
			}
		})
	}
}

// TestCloseAbandonsDelays: Close does not leave a delayed call running.
func TestCloseAbandonsDelays(t *testing.T) {
	cfg := parseYAMLConfig(t, testTools)
	cfg.Type = mcpserver.TypeSSE
	s := startServer(t, cfg)
	c := mustConnect(t, sseClient, s.URL(), nil)
	go func() { _, _, _ = call(context.Background(), c, "slow", nil) }()
	waitFor(t, "the slow call to arrive", func() bool { return len(s.CallsTo("slow")) == 1 })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the delay to be abandoned", func() bool { return mcpserver.DelaysCancelled(s) == 1 })
}

// TestConcurrentCalls: concurrent calls from several sessions are all answered and
// logged, while the log is being read.
func TestConcurrentCalls(t *testing.T) {
	s := startServer(t, parseYAMLConfig(t, testTools))
	const sessions, perSession = 4, 10
	errs := make(chan error, sessions)
	for i := range sessions {
		c := mustConnect(t, legacyHTTP, s.URL(), nil)
		go func() {
			for j := range perSession {
				text, _, err := call(context.Background(), c, "greet", map[string]any{"name": fmt.Sprint(i, "-", j)})
				if err == nil && text != fmt.Sprintf("hello %d-%d", i, j) {
					err = fmt.Errorf("got %q", text)
				}
				if err != nil {
					errs <- err
					return
				}
				_ = s.Calls()
			}
			errs <- nil
		}()
	}
	for range sessions {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	calls := s.CallsTo("greet")
	seen := map[string]bool{}
	for _, c := range calls {
		seen[fmt.Sprint(c.Arguments["name"])] = true
	}
	if len(calls) != sessions*perSession || len(seen) != sessions*perSession {
		t.Errorf("%d calls logged, %d distinct", len(calls), len(seen))
	}
}

// TestCloseWithConnectedClients: Close ends open streams (listening GET, SSE) at once
// rather than waiting out the shutdown grace period.
func TestCloseWithConnectedClients(t *testing.T) {
	for _, tc := range []struct {
		typ  string
		kind clientKind
	}{{mcpserver.TypeStreamableHTTP, legacyHTTP}, {mcpserver.TypeSSE, sseClient}} {
		t.Run(tc.typ, func(t *testing.T) {
			cfg := parseYAMLConfig(t, testTools)
			cfg.Type = tc.typ
			s := startServer(t, cfg)
			c := mustConnect(t, tc.kind, s.URL(), nil)
			mustCall(t, c, "greet", nil)
			start := time.Now()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d >= 2*time.Second {
				t.Errorf("Close took %v", d)
			}
		})
	}
}
