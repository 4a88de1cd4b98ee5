package refserver

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestIssuerClockFallback: the issuer's clock is its Date header; once the issuer stops
// answering, the server goes on from the last reading at the wall clock's pace instead
// of jumping back to the wall clock.
func TestIssuerClockFallback(t *testing.T) {
	const ahead = 5 * time.Hour
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodHead {
			t.Errorf("the clock was read with %s, want HEAD", r.Method)
		}
		w.Header().Set("Date", time.Now().Add(ahead).Format(http.TimeFormat))
		w.WriteHeader(http.StatusNotFound) // any answer tells the time
	}))
	c := newIssuerClock(srv.URL+"/.well-known/oauth-authorization-server", srv.Client(), slog.New(slog.DiscardHandler))
	near := func(got time.Time, what string) {
		t.Helper()
		if d := got.Sub(time.Now().Add(ahead)); d < -2*time.Second || d > time.Second {
			t.Errorf("%s: %v, want the issuer's time %v (to the second)", what, got, time.Now().Add(ahead))
		}
	}
	near(c.Now(), "answering issuer")
	srv.Close()
	near(c.Now(), "issuer gone")
}
