package idp

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"

	"github.com/muster-test/muster-test/internal/loopcert"
)

// LoopbackCertificate makes a throw-away CA and a server certificate it signs for
// localhost, 127.0.0.1 and ::1, valid for 30 days. It returns the certificate (with the CA
// in its chain) and the CA's PEM, for a client to trust.
func LoopbackCertificate() (tls.Certificate, []byte, error) { return loopcert.New() }

// randomID returns n random bytes in hex.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
