package refserver_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/refserver"
	"github.com/muster-test/muster-test/refserver/mountidp"
)

// TestIssuerClockMovesTheCaches: with the issuer's clock (and no clock handed in by Go),
// the userinfo and introspection caches expire when the mock IdP's clock passes the TTL,
// not when the wall clock does: N calls within the TTL make one lookup, and one call after
// an advance past it exactly one more.
func TestIssuerClockMovesTheCaches(t *testing.T) {
	// The wall clock never reaches it during the test; the tokens (1h) outlive it.
	const ttl = 30 * time.Minute
	modes := []struct {
		name  string
		cfg   refserver.Config
		idp   idp.Config
		count func(idp.Counters) int
	}{
		{"userinfo", refserver.Config{Context: refserver.ContextUserInfo}, idp.Config{UseMockClock: true, SignTokens: true},
			func(c idp.Counters) int { return c.UserInfo }},
		{"introspection", refserver.Config{Introspect: true}, idp.Config{UseMockClock: true},
			func(c idp.Counters) int { return c.Introspect }},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			i := remoteIdP(t, m.idp)
			cfg := m.cfg
			cfg.Issuer, cfg.ContextTTL, cfg.Clock = i.Issuer(), ttl, refserver.ClockIssuer
			e := startIssuer(t, cfg)
			lookups := func() int { return m.count(i.Counters()) }
			alice := issue(t, i, "alice", e.s.URL())
			var elapsed time.Duration // on the IdP clock since the first lookup
			for _, p := range []struct {
				advance     time.Duration
				calls, want int
			}{{0, 5, 1}, {ttl - time.Minute, 2, 0}, {2 * time.Minute, 3, 1}} {
				i.Clock().Advance(p.advance)
				elapsed += p.advance
				if n := counted(t, e, lookups, alice, p.calls, http.StatusOK); n != p.want {
					t.Errorf("%d calls %v after the first lookup on the IdP clock (TTL %v): %d lookups, want %d",
						p.calls, elapsed, ttl, n, p.want)
				}
			}
		})
	}
}

// TestIssuerClockExpiresTokens: on the issuer's clock a JWT expires at the server when the
// mock IdP's clock passes its exp, as it does at the IdP.
func TestIssuerClockExpiresTokens(t *testing.T) {
	i := remoteIdP(t, idp.Config{UseMockClock: true, SignTokens: true})
	e := startIssuer(t, refserver.Config{Issuer: i.Issuer(), Clock: refserver.ClockIssuer})
	tok, err := i.IssueToken(context.Background(), idp.IssueOptions{Subject: "alice", Scopes: []string{"tools:call"},
		Audience: []string{e.s.URL()}, Lifetime: 10 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if a := e.rpc(t, "/mcp", tok.AccessToken, "", "initialize", initParams); a.status != http.StatusOK {
		t.Fatalf("fresh token: %d %s", a.status, a.challenge())
	}
	i.Clock().Advance(11 * time.Minute)
	if a := e.rpc(t, "/mcp", tok.AccessToken, "", "initialize", initParams); a.status != http.StatusUnauthorized ||
		!strings.Contains(a.challenge(), "invalid_token") {
		t.Errorf("token past its exp on the IdP clock: %d %s, want 401 invalid_token", a.status, a.challenge())
	}
}

func TestIssuerClockConfig(t *testing.T) {
	for _, cfg := range []refserver.Config{
		{WithAS: true, MountAS: mountidp.Mount, Clock: refserver.ClockIssuer},
		{Issuer: "http://127.0.0.1:1", Clock: refserver.ClockIssuer, Now: time.Now},
		{Issuer: "http://127.0.0.1:1", Clock: "idp"},
	} {
		if s, err := refserver.Start(cfg); err == nil {
			s.Close()
			t.Errorf("Start(%+v) accepted", cfg)
		} else if !strings.Contains(err.Error(), "clock") {
			t.Errorf("Start(%+v): %v, want an error about the clock", cfg, err)
		}
	}
}
