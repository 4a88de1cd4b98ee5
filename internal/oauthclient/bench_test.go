package oauthclient_test

import (
	"testing"

	"github.com/muster-test/muster-test/internal/oauthclient"
	"github.com/muster-test/muster-test/mocks/idp"
)

// BenchmarkLogin measures full login flows against the mock IdP and a protected mock MCP
// server: a new client each time, the unauthenticated probe, PRM, AS metadata,
// registration, authorization (auto-approve), callback checks and the token request.
func BenchmarkLogin(b *testing.B) {
	for _, reg := range []string{oauthclient.RegisterCIMD, oauthclient.RegisterDCR, oauthclient.RegisterPreregistered} {
		b.Run(reg, func(b *testing.B) {
			w := startWorld(b, worldOptions{idp: idp.Config{AutoApprove: true, PKCERequired: true}, scope: "mcp:read"})
			cfg := oauthclient.Config{Registration: reg, User: oauthclient.User{Subject: "alice"}}
			if reg == oauthclient.RegisterPreregistered {
				cfg.ClientID = w.idp.ClientID()
			}
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					c, err := oauthclient.New(cfg)
					if err != nil {
						b.Error(err)
						return
					}
					if _, err := c.Login(b.Context(), w.mcp.URL()); err != nil {
						b.Error(err)
					}
					_ = c.Close()
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
		})
	}
}
