package refserver_test

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/refserver"
)

const exchangeGrant = "urn:ietf:params:oauth:grant-type:token-exchange"

// upstreamEnv is a server that trusts users (an IdP of alice and bob) and holds upstream
// tokens at upstream (an IdP that trusts users for token exchange; its tokens live 10
// minutes, the users' an hour). The server's clock is
// the wall clock moved by skew, so a test can let upstream tokens expire.
type upstreamEnv struct {
	env
	users, upstream *idp.Server
	skew            *atomic.Int64
}

func startUpstream(t *testing.T, wait time.Duration, faults ...refserver.Fault) upstreamEnv {
	t.Helper()
	users := remoteIdP(t, idp.Config{SignTokens: true})
	upstream, err := idp.Start(context.Background(), idp.Config{TokenLifetime: 10 * time.Minute,
		TrustedIssuers: []idp.TrustedIssuer{{Server: users}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = upstream.Close() })
	fs := refserver.Faults{}
	for _, f := range faults {
		fs[f] = true
	}
	skew := &atomic.Int64{}
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	e := startIssuer(t, refserver.Config{Issuer: users.Issuer(), UpstreamIssuer: upstream.Issuer(), UpstreamWait: wait,
		Now: now, Faults: fs})
	return upstreamEnv{env: e, users: users, upstream: upstream, skew: skew}
}

// session is a session of sub (alice or carol, the users of remoteIdP).
func (u upstreamEnv) session(t *testing.T, sub string) *client.Client {
	return u.connect(t, issue(t, u.users, sub, u.s.URL()))
}

// holdExchange makes the upstream IdP answer the next token exchange after d.
func (u upstreamEnv) holdExchange(d time.Duration) {
	u.upstream.InjectFault(idp.Fault{Endpoint: idp.EndpointToken, Grant: exchangeGrant, Latency: d})
}

// awaitExchange waits until n token exchanges reached the upstream IdP (it counts a request
// when it arrives, before a held one is answered).
func (u upstreamEnv) awaitExchange(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for u.upstream.Counters().Exchange < n {
		if time.Now().After(deadline) {
			t.Fatalf("the upstream IdP saw %d exchanges, want %d", u.upstream.Counters().Exchange, n)
		}
		time.Sleep(5 * time.Millisecond) // polling a counter with a deadline
	}
}

// callWithin calls tool and fails the test when no answer comes within d.
func callWithin(t *testing.T, c *client.Client, tool string, d time.Duration) (map[string]any, bool, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: tool}})
	if err != nil {
		return nil, false, err
	}
	var v map[string]any
	if len(res.Content) > 0 {
		_ = json.Unmarshal([]byte(mcp.GetTextFromContent(res.Content[0])), &v)
	}
	return v, res.IsError, nil
}

func (u upstreamEnv) status(t *testing.T, c *client.Client) map[string]any {
	t.Helper()
	v, isErr, err := callWithin(t, c, refserver.ToolUpstreamStatus, 10*time.Second)
	if err != nil || isErr {
		t.Fatalf("upstream_status: %v %v", v, err)
	}
	return v
}

// burst makes n concurrent upstream_whoami calls while the first exchange is held, and
// returns how many exchanges they made.
func (u upstreamEnv) burst(t *testing.T, c *client.Client, n int) int {
	t.Helper()
	before := u.upstream.Counters().Exchange
	u.holdExchange(time.Second)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if v, isErr, err := callWithin(t, c, refserver.ToolUpstreamWhoami, 20*time.Second); err != nil || isErr {
				t.Errorf("upstream_whoami: %v %v", v, err)
			}
		})
	}
	wg.Wait()
	return u.upstream.Counters().Exchange - before
}

// TestUpstreamToken: concurrent first calls share one exchange, the token works at the
// upstream API, the locks are gone afterwards, and an expired token is exchanged again.
func TestUpstreamToken(t *testing.T) {
	u := startUpstream(t, 0)
	alice := u.session(t, "alice")
	if names := toolNames(t, alice); len(names) != 6 {
		t.Errorf("tools %v: want the policy's three and the three upstream tools", names)
	}
	if n := u.burst(t, alice, 20); n != 1 {
		t.Errorf("20 concurrent first calls: %d exchanges, want 1", n)
	}
	v, isErr, err := callWithin(t, alice, refserver.ToolUpstreamWhoami, 10*time.Second)
	if err != nil || isErr || v["subject"] != "alice" {
		t.Fatalf("upstream_whoami: %v %v %v", v, isErr, err)
	}
	if st := u.status(t, alice); st["locks"] != 0.0 || st["tokens"] != 1.0 {
		t.Errorf("status %v: want 1 token, 0 locks", st)
	}
	u.skew.Store(int64(20 * time.Minute)) // past the upstream token's lifetime, within the user's
	before := u.upstream.Counters().Exchange
	if _, isErr, err := callWithin(t, alice, refserver.ToolUpstreamWhoami, 10*time.Second); err != nil || isErr {
		t.Fatalf("after expiry: %v %v", isErr, err)
	}
	if n := u.upstream.Counters().Exchange - before; n != 1 {
		t.Errorf("a call after the upstream token expired made %d exchanges, want 1", n)
	}
}

// TestUpstreamIsolation: while the upstream IdP holds alice's exchange for 3 s, her call
// gives up after the wait, and carol's calls get her own token well within a second.
func TestUpstreamIsolation(t *testing.T) {
	u := startUpstream(t, 500*time.Millisecond)
	alice, carol := u.session(t, "alice"), u.session(t, "carol")
	u.holdExchange(3 * time.Second)
	if _, isErr, err := callWithin(t, alice, refserver.ToolUpstreamWhoami, 10*time.Second); err != nil || !isErr {
		t.Fatalf("alice's held call: error result %v, err %v; want an error result", isErr, err)
	}
	u.awaitExchange(t, 1)
	start := time.Now()
	if v, isErr, err := callWithin(t, carol, refserver.ToolUpstreamWhoami, 10*time.Second); err != nil || isErr || v["subject"] != "carol" {
		t.Fatalf("carol: %v %v %v", v, isErr, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("carol waited %s behind alice's exchange", d)
	}
}

// TestUpstreamRevokeDuringExchange: a revocation while the user's exchange runs waits for
// it and drops its token; the next call exchanges again.
func TestUpstreamRevokeDuringExchange(t *testing.T) {
	u := startUpstream(t, 300*time.Millisecond)
	alice := u.session(t, "alice")
	u.holdExchange(time.Second)
	if _, isErr, err := callWithin(t, alice, refserver.ToolUpstreamWhoami, 10*time.Second); err != nil || !isErr {
		t.Fatalf("alice's held call: error result %v, err %v", isErr, err)
	}
	u.awaitExchange(t, 1)
	if v, isErr, err := callWithin(t, alice, refserver.ToolUpstreamRevoke, 10*time.Second); err != nil || isErr || v["revoked"] != true {
		t.Fatalf("upstream_revoke during the exchange: %v %v %v; want revoked", v, isErr, err)
	}
	if st := u.status(t, alice); st["tokens"] != 0.0 || st["locks"] != 0.0 {
		t.Errorf("status after the revocation %v: want no token and no lock", st)
	}
	if got := u.upstream.Counters().Revoke; got != 1 {
		t.Errorf("the upstream IdP saw %d revocations, want 1", got)
	}
	if _, isErr, err := callWithin(t, alice, refserver.ToolUpstreamWhoami, 10*time.Second); err != nil || isErr {
		t.Fatalf("after the revocation: %v %v", isErr, err)
	}
	if n := u.upstream.Counters().Exchange; n != 2 {
		t.Errorf("%d exchanges, want 2 (one revoked, one after)", n)
	}
}

// upstreamFaultProbes are faultProbes for the faults of upstream tokens.
var upstreamFaultProbes = map[refserver.Fault]func(t *testing.T, faults ...refserver.Fault) bool{
	refserver.FaultNoRefreshDoubleCheck: func(t *testing.T, faults ...refserver.Fault) bool {
		u := startUpstream(t, 0, faults...)
		return u.burst(t, u.session(t, "alice"), 10) > 1
	},
	refserver.FaultLockLeak: func(t *testing.T, faults ...refserver.Fault) bool {
		u := startUpstream(t, 0, faults...)
		alice, carol := u.session(t, "alice"), u.session(t, "carol")
		u.burst(t, alice, 3)
		u.burst(t, carol, 3)
		return u.status(t, alice)["locks"] != 0.0
	},
	refserver.FaultGlobalRefreshLock: func(t *testing.T, faults ...refserver.Fault) bool {
		u := startUpstream(t, 500*time.Millisecond, faults...)
		alice, carol := u.session(t, "alice"), u.session(t, "carol")
		u.holdExchange(3 * time.Second)
		_, _, _ = callWithin(t, alice, refserver.ToolUpstreamWhoami, 10*time.Second)
		u.awaitExchange(t, 1)
		_, isErr, err := callWithin(t, carol, refserver.ToolUpstreamWhoami, 10*time.Second)
		return err != nil || isErr
	},
	refserver.FaultDeadlockOnRevoke: func(t *testing.T, faults ...refserver.Fault) bool {
		u := startUpstream(t, 300*time.Millisecond, faults...)
		alice := u.session(t, "alice")
		u.holdExchange(time.Second)
		_, _, _ = callWithin(t, alice, refserver.ToolUpstreamWhoami, 10*time.Second)
		u.awaitExchange(t, 1)
		// A healthy server answers once the held exchange is over, in about a second. A
		// deadlocked one never does: its two goroutines stay blocked until the test
		// process ends, and Close gives up on them after a while.
		_, _, err := callWithin(t, alice, refserver.ToolUpstreamRevoke, 5*time.Second)
		return err != nil
	},
}
