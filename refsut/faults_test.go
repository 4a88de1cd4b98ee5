package refsut

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// faultEnv is an aggregator with the given faults, one protected server at a mock-clock IdP
// that does not insist on PKCE (so skip-pkce still logs in), and one public server.
type faultEnv struct {
	s   *sut
	idp *idp.Server
	pub *mcpserver.Server
}

func newFaultEnv(t *testing.T, faults []Fault) faultEnv {
	e := newEnv(t)
	cfg := idp.Config{Name: "idp-a", AutoApprove: true, UseMockClock: true, Scopes: []string{"openid", "mcp:read"}}
	i, err := idp.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = i.Close() })
	alpha := e.mcp(i, "mcp:read", textTool("op", "alpha-op"))
	slow := mcpserver.ToolConfig{Name: "slow", Responses: []mcpserver.ResponseConfig{{Response: "late", Delay: 3 * time.Second}}}
	pub := e.mcp(nil, "", textTool("do_pub", "hello"), slow)
	s := startSUT(t, sutOptions{oauth: true, faults: faults, servers: map[string]map[string]any{
		"alpha": httpSpec(alpha.URL()), "pub": httpSpec(pub.URL()),
	}})
	return faultEnv{s: s, idp: i, pub: pub}
}

// TestFaults proves each fault observable: its probe sees the misbehaviour with the fault
// on, and not with it off. A scenario suite can only catch what such a probe can see.
func TestFaults(t *testing.T) {
	probes := map[Fault]func(t *testing.T, f faultEnv) bool{
		FaultSkipPKCE: func(t *testing.T, f faultEnv) bool {
			c := f.s.connect(t)
			txt, _ := c.mustCall(t, "x_alpha_authenticate", nil)
			u, _ := url.Parse(authURL(t, txt))
			return u.Query().Get("code_challenge") == ""
		},
		FaultSkipStateCheck: func(t *testing.T, f faultEnv) bool {
			c := f.s.connect(t)
			txt, _ := c.mustCall(t, "x_alpha_authenticate", nil)
			cb := authorize(t, authURL(t, txt))
			forged := base64.URLEncoding.EncodeToString([]byte(`{"session_id":"mcp-session-forged","server_name":"alpha","nonce":"eA==","created_at":"2026-01-01T00:00:00Z","issuer":"` + f.idp.Issuer() + `"}`))
			q := cb.Query()
			q.Set("state", forged)
			cb.RawQuery = q.Encode()
			resp, _ := get(t, cb.String())
			return resp.StatusCode == http.StatusOK
		},
		FaultNoResourceAuthorize: func(t *testing.T, f faultEnv) bool {
			txt, _ := f.s.connect(t).mustCall(t, "x_alpha_authenticate", nil)
			u, _ := url.Parse(authURL(t, txt))
			return !u.Query().Has("resource")
		},
		FaultNoResourceToken: func(t *testing.T, f faultEnv) bool {
			f.s.connect(t).login(t, "x_alpha_authenticate", nil, "alpha")
			return f.idp.Counters().TokenWithoutResource > 0
		},
		FaultSharedTokens: func(t *testing.T, f faultEnv) bool {
			f.s.connect(t).login(t, "x_alpha_authenticate", nil, "alpha")
			txt, _ := f.s.connect(t).mustCall(t, "core_auth_login", map[string]any{"server": "alpha"})
			return strings.HasPrefix(txt, "Successfully connected")
		},
		FaultNoRefresh: func(t *testing.T, f faultEnv) bool {
			c := f.s.connect(t)
			c.login(t, "x_alpha_authenticate", nil, "alpha")
			f.idp.Clock().Advance(2 * time.Hour)
			res, err := c.call(t, "x_alpha_op", nil)
			return err != nil || res.IsError
		},
		FaultNoSingleFlight: func(t *testing.T, f faultEnv) bool {
			c := f.s.connect(t)
			c.login(t, "x_alpha_authenticate", nil, "alpha")
			// The IdP holds each refresh 2 s, so that all 20 calls find the token expired
			// while the first refresh runs, however loaded the machine: without single
			// flight they refresh too (or fail on the rotated refresh token).
			f.idp.InjectFault(idp.Fault{Endpoint: idp.EndpointToken, Grant: "refresh_token", Latency: 2 * time.Second, Times: 20})
			f.idp.Clock().Advance(2 * time.Hour)
			failed := concurrentCalls(t, c, "x_alpha_op", 20)
			return failed > 0 || f.idp.Counters().Refresh != 1
		},
		FaultNoMeta: func(t *testing.T, f faultEnv) bool {
			_, res := f.s.connect(t).mustCall(t, "x_pub_do_pub", nil)
			return authMeta(res) == ""
		},
		FaultIgnoreCallbackError: func(t *testing.T, f faultEnv) bool {
			c := f.s.connect(t)
			txt, _ := c.mustCall(t, "x_alpha_authenticate", nil)
			u, _ := url.Parse(authURL(t, txt))
			cb, _ := url.Parse(u.Query().Get("redirect_uri"))
			cb.RawQuery = url.Values{"error": {"access_denied"}, "state": {u.Query().Get("state")}}.Encode()
			resp, _ := get(t, cb.String())
			return resp.StatusCode == http.StatusOK
		},
		FaultGlobalCallLock: func(t *testing.T, f faultEnv) bool {
			// While one session waits 3 s for a slow call, another's fast call either
			// answers at once or waits for the slow one: a wide contrast against 1 s.
			slow := f.s.connect(t)
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, _ = slow.call(t, "x_pub_slow", nil)
			}()
			defer func() { <-done }()
			waitFor(t, "the slow call at the upstream", 10*time.Second, func() bool { return len(f.pub.CallsTo("slow")) == 1 })
			start := time.Now()
			f.s.connect(t).mustCall(t, "x_pub_do_pub", nil)
			return time.Since(start) > time.Second
		},
		FaultStaleToolsAfterLogout: func(t *testing.T, f faultEnv) bool {
			c := f.s.connect(t)
			c.login(t, "x_alpha_authenticate", nil, "alpha")
			c.mustCall(t, "core_auth_logout", map[string]any{"server": "alpha"})
			return c.toolNames(t)["x_alpha_op"]
		},
	}
	// Protected mode's faults, probed on a protected gateway.
	gatewayProbes := map[Fault]func(t *testing.T, g *gateway) bool{
		FaultUnboundSessions: func(t *testing.T, g *gateway) bool {
			sid := g.session(t, "alice").GetSessionId()
			code, _ := g.post(t, http.MethodPost, sid, g.token(t, "bob"), `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`)
			return code == http.StatusOK
		},
		FaultReadableState: func(t *testing.T, g *gateway) bool {
			c := g.session(t, "alice")
			authorize, _ := g.startLogin(t, c, newBrowser(t))
			u, err := url.Parse(authorize)
			if err != nil {
				t.Fatal(err)
			}
			return stateRevealsSession(u.Query().Get("state"), c.GetSessionId())
		},
		FaultUnboundLogin: func(t *testing.T, g *gateway) bool {
			_, callback := g.startLogin(t, g.session(t, "alice"), newBrowser(t))
			code, _, _ := hop(t, newBrowser(t), callback)
			return code == http.StatusOK
		},
	}
	// Faults of both modes, probed again on a protected gateway, whose callback finds a
	// login by its opaque state and not by muster's decoded one.
	protectedAlso := map[Fault]func(t *testing.T, g *gateway) bool{
		FaultSkipStateCheck: func(t *testing.T, g *gateway) bool {
			b := newBrowser(t)
			_, callback := g.startLogin(t, g.session(t, "alice"), b)
			u, err := url.Parse(callback)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			q.Set("state", "never-issued")
			u.RawQuery = q.Encode()
			code, _, _ := hop(t, b, u.String())
			return code == http.StatusOK
		},
	}
	for fault, probe := range protectedAlso {
		t.Run(string(fault)+"/protected", func(t *testing.T) {
			if probe(t, newGateway(t, true)) {
				t.Errorf("misbehaviour seen without the fault")
			}
			if !probe(t, newGateway(t, true, fault)) {
				t.Errorf("fault %s not observable", fault)
			}
		})
	}
	for _, fault := range AllFaults {
		if probe := gatewayProbes[fault]; probe != nil {
			t.Run(string(fault), func(t *testing.T) {
				if probe(t, newGateway(t, true)) {
					t.Errorf("misbehaviour seen without the fault")
				}
				if !probe(t, newGateway(t, true, fault)) {
					t.Errorf("fault %s not observable", fault)
				}
			})
			continue
		}
		probe := probes[fault]
		if probe == nil {
			t.Errorf("fault %s has no probe", fault)
			continue
		}
		t.Run(string(fault), func(t *testing.T) {
			if probe(t, newFaultEnv(t, nil)) {
				t.Errorf("misbehaviour seen without the fault")
			}
			if !probe(t, newFaultEnv(t, []Fault{fault})) {
				t.Errorf("fault %s not observable", fault)
			}
		})
	}
}
