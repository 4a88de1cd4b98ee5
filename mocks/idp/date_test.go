package idp

import (
	"net/http"
	"testing"
	"time"
)

// TestDateHeaderIsTheIdPClock: every answer's Date header (RFC 9110 §6.6.1, the origin
// server's clock) is the IdP clock, so a resource server can read a mock clock from it;
// a 404 and a refused request carry it too. Mount's handler is covered by Handler.
func TestDateHeaderIsTheIdPClock(t *testing.T) {
	s := startIdP(t, Config{UseMockClock: true})
	s.Clock().Advance(50 * time.Hour)
	want := s.Clock().Now().Truncate(time.Second)
	for _, c := range []struct{ method, path string }{
		{http.MethodHead, "/.well-known/oauth-authorization-server"},
		{http.MethodGet, "/jwks"},
		{http.MethodGet, "/userinfo"},
		{http.MethodGet, "/no-such-path"},
	} {
		req, _ := http.NewRequest(c.method, s.URL()+c.path, nil)
		resp, err := httpClient(s).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil || !got.Equal(want) {
			t.Errorf("%s %s: Date %q (%v), want the IdP clock's %v", c.method, c.path, resp.Header.Get("Date"), err, want)
		}
	}
}
