package sut

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
)

// TLSConfig trusts the system's CAs and those of the PEM files ("" is skipped); nil when
// no file is given, so that a client keeps Go's defaults.
func TLSConfig(files ...string) (*tls.Config, error) {
	var pool *x509.CertPool
	for _, f := range files {
		if f == "" {
			continue
		}
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		if pool == nil {
			if pool, err = x509.SystemCertPool(); err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", f)
		}
	}
	if pool == nil {
		return nil, nil
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// UntrustedError is a connection refused because the server's certificate is signed by a
// CA the runner does not trust; it says how to trust it.
type UntrustedError struct{ Err error }

func (e *UntrustedError) Error() string {
	return e.Err.Error() + " (the server's certificate is signed by a CA muster-test does not trust: " +
		"set ca_file in the scenario's sut block to that CA's PEM file)"
}

func (e *UntrustedError) Unwrap() error { return e.Err }

// ExplainTLS makes an error of an untrusted certificate an *UntrustedError; other errors
// (nil too) pass unchanged.
func ExplainTLS(err error) error {
	var unknown x509.UnknownAuthorityError
	var explained *UntrustedError
	if err == nil || errors.As(err, &explained) || !errors.As(err, &unknown) {
		return err
	}
	return &UntrustedError{Err: err}
}

// ExplainingTransport passes requests on to next and explains an untrusted certificate.
type ExplainingTransport struct{ Next http.RoundTripper }

// RoundTrip implements http.RoundTripper.
func (t ExplainingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.Next.RoundTrip(req)
	return resp, ExplainTLS(err)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the transport below.
func (t ExplainingTransport) CloseIdleConnections() {
	if c, ok := t.Next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
