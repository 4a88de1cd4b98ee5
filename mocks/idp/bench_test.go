package idp

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// benchClient keeps connections alive across the parallel workers.
func benchClient(s *Server) *http.Client {
	c := httpClient(s)
	c.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	return c
}

func benchPost(b *testing.B, c *http.Client, u string, form string, user, pass string) {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Errorf("status %d", resp.StatusCode)
	}
}

func reportRate(b *testing.B, unit string) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), unit)
}

func BenchmarkClientCredentials(b *testing.B) {
	s := startIdP(b, Config{ClientSecret: "x"})
	c := benchClient(s)
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"openid"}}.Encode()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchPost(b, c, s.URL()+"/token", form, "test-client", "x")
		}
	})
	reportRate(b, "tokens/s")
}

func BenchmarkCodePKCERoundTrip(b *testing.B) {
	s := startIdP(b, Config{AutoApprove: true, PKCERequired: true})
	c := benchClient(s)
	cfg := oauthConfig(s, "test-client", "", testRedirect, "openid")
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			v := oauth2.GenerateVerifier()
			resp, err := c.Get(cfg.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(v)))
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
			loc, _ := url.Parse(resp.Header.Get("Location"))
			benchPost(b, c, s.URL()+"/token", tokenForm(loc.Query().Get("code"), v, testRedirect).Encode(), "", "")
		}
	})
	reportRate(b, "flows/s")
}

func BenchmarkIntrospect(b *testing.B) {
	s := startIdP(b, Config{ClientID: "rs", ClientSecret: "rs-secret"})
	tok, err := s.IssueToken(b.Context(), IssueOptions{Scopes: []string{"openid"}})
	if err != nil {
		b.Fatal(err)
	}
	c := benchClient(s)
	form := url.Values{"token": {tok.AccessToken}}.Encode()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			benchPost(b, c, s.URL()+"/introspect", form, "rs", "rs-secret")
		}
	})
	reportRate(b, "introspections/s")
}
