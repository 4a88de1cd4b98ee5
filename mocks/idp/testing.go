package idp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"time"
)

// TB is the part of *testing.T (and *testing.B) that New uses, so this package does not
// import testing.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// New starts an IdP for a test and closes it when the test ends, as httptest servers are
// used: `s := idp.New(t, idp.Config{Name: "corp"})`. A start that fails fails the test.
func New(t TB, cfg Config) *Server {
	t.Helper()
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start mock IdP: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Client is an HTTP client for this IdP: it trusts the IdP's own CA when UseTLS is set,
// does not follow redirects (an OAuth test inspects each hop) and gives up after ten
// seconds.
func (s *Server) Client() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if len(s.caPEM) > 0 {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(s.caPEM)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}
