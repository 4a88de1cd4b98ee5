package refserver_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/refserver"
)

// cached is a server that introspects at a mock IdP with a mock clock, which is also the
// server's clock, so a test moves both past the TTL.
func cached(t *testing.T, faults ...refserver.Fault) (env, *idp.Server) {
	t.Helper()
	i := remoteIdP(t, idp.Config{UseMockClock: true})
	fs := refserver.Faults{}
	for _, f := range faults {
		fs[f] = true
	}
	e := startIssuer(t, refserver.Config{Issuer: i.Issuer(), Introspect: true, ContextTTL: 30 * time.Second,
		Now: i.Clock().Now, Faults: fs})
	return e, i
}

// calls makes n requests with the token and returns how many introspections they caused.
func calls(t *testing.T, e env, i *idp.Server, token string, n, wantStatus int) int {
	t.Helper()
	return counted(t, e, func() int { return i.Counters().Introspect }, token, n, wantStatus)
}

// counted makes n requests with the token and returns how much they moved count.
func counted(t *testing.T, e env, count func() int, token string, n, wantStatus int) int {
	t.Helper()
	before := count()
	for range n {
		if a := e.rpc(t, "/mcp", token, "", "initialize", initParams); a.status != wantStatus {
			t.Fatalf("status %d (%s), want %d", a.status, a.challenge(), wantStatus)
		}
	}
	return count() - before
}

// TestContextCacheTTL: calls within the TTL share one introspection; after the TTL the
// token is asked about again; a revoked token is served until the TTL and refused after.
func TestContextCacheTTL(t *testing.T) {
	e, i := cached(t)
	alice := issue(t, i, "alice", e.s.URL())
	if n := calls(t, e, i, alice, 5, http.StatusOK); n != 1 {
		t.Errorf("5 calls within the TTL: %d introspections, want 1", n)
	}
	i.Clock().Advance(31 * time.Second)
	if n := calls(t, e, i, alice, 3, http.StatusOK); n != 1 {
		t.Errorf("3 calls after the TTL: %d introspections, want 1", n)
	}
	i.RevokeAll()
	if n := calls(t, e, i, alice, 2, http.StatusOK); n != 0 {
		t.Errorf("revoked token within the TTL: %d introspections, want 0 (served from the cache)", n)
	}
	i.Clock().Advance(31 * time.Second)
	// A refused answer is not kept: each call asks again.
	if n := calls(t, e, i, alice, 2, http.StatusUnauthorized); n != 2 {
		t.Errorf("revoked token after the TTL: %d introspections, want 2", n)
	}
}

// TestContextCacheSingleFlight: 20 concurrent first calls with one token, while the IdP
// holds the introspection for a second, make one introspection.
func TestContextCacheSingleFlight(t *testing.T) {
	e, i := cached(t)
	alice := issue(t, i, "alice", e.s.URL())
	i.InjectFault(idp.Fault{Endpoint: idp.EndpointIntrospect, Latency: time.Second, Times: 1})
	before := i.Counters().Introspect
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for k := range statuses {
		wg.Go(func() { statuses[k] = e.rpc(t, "/mcp", alice, "", "initialize", initParams).status })
	}
	wg.Wait()
	for k, st := range statuses {
		if st != http.StatusOK {
			t.Errorf("caller %d: status %d", k, st)
		}
	}
	if n := i.Counters().Introspect - before; n != 1 {
		t.Errorf("20 concurrent first calls: %d introspections, want 1", n)
	}
}

// cacheFaultProbes are faultProbes for the faults of the introspection cache; they run
// against cached servers.
var cacheFaultProbes = map[refserver.Fault]func(t *testing.T, e env, i *idp.Server) bool{
	refserver.FaultNoContextCache: func(t *testing.T, e env, i *idp.Server) bool {
		return calls(t, e, i, issue(t, i, "alice", e.s.URL()), 5, http.StatusOK) > 1
	},
	refserver.FaultCacheIgnoresTTL: func(t *testing.T, e env, i *idp.Server) bool {
		alice := issue(t, i, "alice", e.s.URL())
		calls(t, e, i, alice, 1, http.StatusOK)
		i.RevokeAll()
		i.Clock().Advance(10 * time.Minute)
		return e.rpc(t, "/mcp", alice, "", "initialize", initParams).status == http.StatusOK
	},
}

// TestContextTTLZero: without a TTL every request is introspected.
func TestContextTTLZero(t *testing.T) {
	i := remoteIdP(t, idp.Config{UseMockClock: true})
	e := startIssuer(t, refserver.Config{Issuer: i.Issuer(), Introspect: true, Now: i.Clock().Now})
	if n := calls(t, e, i, issue(t, i, "alice", e.s.URL()), 3, http.StatusOK); n != 3 {
		t.Errorf("ContextTTL 0: 3 calls made %d introspections, want 3", n)
	}
}

// TestUserInfoContext: with the context from userinfo, a user's calls within the TTL share
// one userinfo request, whatever their token; after the TTL a revoked token is refused.
func TestUserInfoContext(t *testing.T) {
	i := remoteIdP(t, idp.Config{UseMockClock: true, SignTokens: true})
	e := startIssuer(t, refserver.Config{Issuer: i.Issuer(), Context: refserver.ContextUserInfo,
		ContextTTL: 30 * time.Second, Now: i.Clock().Now})
	userinfo := func(token string, n, wantStatus int) int {
		t.Helper()
		return counted(t, e, func() int { return i.Counters().UserInfo }, token, n, wantStatus)
	}
	alice := issue(t, i, "alice", e.s.URL())
	if n := userinfo(alice, 3, http.StatusOK) + userinfo(issue(t, i, "alice", e.s.URL()), 2, http.StatusOK); n != 1 {
		t.Errorf("5 calls of alice with two tokens: %d userinfo requests, want 1", n)
	}
	if n := userinfo(issue(t, i, "carol", e.s.URL()), 2, http.StatusOK); n != 1 {
		t.Errorf("carol's calls: %d userinfo requests, want 1 of her own", n)
	}
	i.RevokeAll()
	if n := userinfo(alice, 1, http.StatusOK); n != 0 {
		t.Errorf("a revoked token within the TTL: %d userinfo requests, want 0", n)
	}
	i.Clock().Advance(31 * time.Second)
	if n := userinfo(alice, 1, http.StatusUnauthorized); n != 1 {
		t.Errorf("a revoked token after the TTL: %d userinfo requests, want 1", n)
	}
}
