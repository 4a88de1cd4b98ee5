package idp

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestForeignHostRefused: the IdP listens on loopback, so a request naming any other host
// came through a name rebound to 127.0.0.1 (DNS rebinding) and is refused on every route.
func TestForeignHostRefused(t *testing.T) {
	s := startIdP(t, Config{AutoApprove: true})
	port := strconv.Itoa(s.Port())
	routes := []struct{ method, path string }{
		{http.MethodGet, "/.well-known/oauth-authorization-server"},
		{http.MethodGet, "/jwks"},
		{http.MethodGet, "/authorize?client_id=test-client"},
		{http.MethodPost, "/token"},
		{http.MethodPost, "/register"},
		{http.MethodGet, "/userinfo"},
	}
	for _, host := range []string{"evil.example:" + port, "evil.example", "localhost.evil.example:" + port, "10.0.0.1:" + port} {
		for _, r := range routes {
			if got := statusWithHost(t, s, r.method, r.path, host); got != http.StatusForbidden {
				t.Errorf("%s %s with Host %s: status %d, want 403", r.method, r.path, host, got)
			}
		}
	}
	for _, host := range []string{"localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port, "LOCALHOST:" + port} {
		if got := statusWithHost(t, s, http.MethodGet, "/jwks", host); got != http.StatusOK {
			t.Errorf("GET /jwks with Host %s: status %d, want 200", host, got)
		}
	}
	if c := s.Counters(); c.Token != 0 || c.Register != 0 {
		t.Errorf("refused requests reached the endpoints: %+v", c)
	}
}

func statusWithHost(t *testing.T, s *Server, method, path, host string) int {
	t.Helper()
	req, err := http.NewRequest(method, s.URL()+path, strings.NewReader(""))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := httpClient(s).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
