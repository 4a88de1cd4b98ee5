package refsut

import (
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/muster-test/muster-test/mocks/idp"
)

// refreshEnv is one session logged in to alpha at a mock-clock IdP.
func refreshEnv(t *testing.T, faults ...Fault) (*idp.Server, *mcpClient) {
	e := newEnv(t)
	idpA := e.idp("idp-a", idp.Config{UseMockClock: true, TokenLifetime: time.Hour})
	alpha := e.mcp(idpA, "mcp:read", textTool("op", "alpha-op"))
	s := startSUT(t, sutOptions{oauth: true, faults: faults, servers: map[string]map[string]any{"alpha": httpSpec(alpha.URL())}})
	c := s.connect(t)
	c.login(t, "x_alpha_authenticate", nil, "alpha")
	c.mustCall(t, "x_alpha_op", nil)
	return idpA, c
}

// concurrentCalls makes n calls at once and returns how many failed.
func concurrentCalls(t *testing.T, c *mcpClient, tool string, n int) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.call(t, tool, nil)
			if err != nil || res.IsError || resultText(res) != "alpha-op" {
				mu.Lock()
				failed++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return failed
}

// TestRefreshSingleFlight: when the IdP clock passes the token's expiry, the upstream
// answers 401; 20 concurrent calls lead to exactly one refresh and all succeed.
func TestRefreshSingleFlight(t *testing.T) {
	idpA, c := refreshEnv(t)
	if n := idpA.Counters().Refresh; n != 0 {
		t.Fatalf("refreshes before expiry: %d", n)
	}
	idpA.Clock().Advance(2 * time.Hour)
	if failed := concurrentCalls(t, c, "x_alpha_op", 20); failed != 0 {
		t.Errorf("%d of 20 calls failed", failed)
	}
	if n := idpA.Counters().Refresh; n != 1 {
		t.Errorf("IdP saw %d refreshes, want 1", n)
	}
	// And the refreshed token serves later calls without another refresh.
	c.mustCall(t, "x_alpha_op", nil)
	if n := idpA.Counters().Refresh; n != 1 {
		t.Errorf("IdP saw %d refreshes after a later call, want 1", n)
	}
}

// TestRevocation: with every token revoked, the call fails with muster's 401 error, the
// refresh fails, and the session is back to a login challenge.
func TestRevocation(t *testing.T) {
	idpA, c := refreshEnv(t)
	idpA.RevokeAll()
	e, _ := c.rawCall(t, "x_alpha_op")
	if e == nil || e.Code != -32603 || e.Message != "tool execution failed: failed to call tool: transport error: request failed with status 401: " {
		t.Errorf("call with a revoked token: %+v", e)
	}
	if n := idpA.Counters().Refresh; n != 1 {
		t.Errorf("refresh attempts: %d, want 1", n)
	}
	tools := c.toolNames(t)
	if tools["x_alpha_op"] || !tools["x_alpha_authenticate"] {
		t.Errorf("tools after failed refresh: %v", tools)
	}
	if st := c.readStatus(t); st["alpha"]["status"] != "auth_required" {
		t.Errorf("auth://status: %v", st["alpha"])
	}
	txt, res := c.mustCall(t, "x_alpha_authenticate", nil)
	authURL(t, txt)
	if got := authMeta(res); got == "[]" {
		t.Errorf("_meta does not list alpha as pending: %s", got)
	}
	// A fresh login works again.
	c.login(t, "x_alpha_authenticate", nil, "alpha")
	c.mustCall(t, "x_alpha_op", nil)
}

func TestNeedsRefresh(t *testing.T) {
	now := time.Now()
	cases := []struct {
		name     string
		expiry   time.Time
		lifetime time.Duration
		want     bool
	}{
		{"no expiry", time.Time{}, 0, false},
		{"far from expiry", now.Add(time.Hour), time.Hour, false},
		{"inside the 30 s margin", now.Add(20 * time.Second), time.Hour, true},
		{"expired", now.Add(-time.Second), time.Hour, true},
		{"short token, margin capped at half its life", now.Add(15 * time.Second), 20 * time.Second, false},
		{"short token past half its life", now.Add(5 * time.Second), 20 * time.Second, true},
	}
	for _, k := range cases {
		st := storedToken{tok: &oauth2.Token{AccessToken: "x", Expiry: k.expiry}, lifetime: k.lifetime}
		if got := st.needsRefresh(); got != k.want {
			t.Errorf("%s: %v, want %v", k.name, got, k.want)
		}
	}
}
