package oauthclient_test

import (
	"testing"

	"github.com/muster-test/muster-test/internal/oauthclient"
	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/refserver"
	"github.com/muster-test/muster-test/refserver/mountidp"
)

var registrations = []string{oauthclient.RegisterCIMD, oauthclient.RegisterDCR, oauthclient.RegisterPreregistered}

// BenchmarkLogin measures full login flows against the mock IdP and a protected mock MCP
// server: a new client each time, the unauthenticated probe, PRM, AS metadata,
// registration, authorization (auto-approve), callback checks and the token request.
func BenchmarkLogin(b *testing.B) {
	for _, reg := range registrations {
		b.Run(reg, func(b *testing.B) {
			w := startWorld(b, worldOptions{idp: idp.Config{AutoApprove: true, PKCERequired: true}, scope: "mcp:read"})
			cfg := oauthclient.Config{Registration: reg, User: oauthclient.User{Subject: "alice"}}
			if reg == oauthclient.RegisterPreregistered {
				cfg.ClientID = w.idp.ClientID()
			}
			benchLogins(b, cfg, w.mcp.URL(), false)
		})
	}
}

// BenchmarkOAuthLoginRefServer measures what test_oauth_login does against the reference
// protected server as its own authorization server (--with-as): the login as above (alice,
// auto-approved), then an MCP session opened with the token.
func BenchmarkOAuthLoginRefServer(b *testing.B) {
	for _, reg := range registrations {
		b.Run(reg, func(b *testing.B) {
			s, err := mountidp.Start(refserver.Config{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			cfg := oauthclient.Config{Registration: reg, Scope: "tools:call", User: oauthclient.User{Subject: "alice"}}
			if reg == oauthclient.RegisterPreregistered {
				cfg.ClientID = mountidp.IdP(s).ClientID()
			}
			benchLogins(b, cfg, s.URL(), true)
		})
	}
}

// benchLogins logs in with a new client per iteration, 8 goroutines per CPU, and with
// session also opens and closes an MCP session with the token.
func benchLogins(b *testing.B, cfg oauthclient.Config, url string, session bool) {
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c, err := oauthclient.New(cfg)
			if err != nil {
				b.Error(err)
				return
			}
			res, err := c.Login(b.Context(), url)
			if err == nil && res.Claims != nil && res.Claims["sub"] != cfg.User.Subject {
				b.Errorf("logged in as %v", res.Claims["sub"])
			}
			if err == nil && session {
				var sess *oauthclient.Session
				if sess, err = c.Connect(b.Context(), url); err == nil {
					err = sess.Close()
				}
			}
			if err != nil {
				b.Error(err)
			}
			_ = c.Close()
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
}
