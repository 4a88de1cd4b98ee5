package idp

import (
	"context"
	"crypto/rsa"
	"testing"
)

func modulus(t *testing.T, s *Server) string {
	t.Helper()
	set := s.JWKS()
	if len(set.Keys) != 1 {
		t.Fatalf("JWKS has %d keys", len(set.Keys))
	}
	pub, ok := set.Keys[0].Key.(*rsa.PublicKey)
	if !ok {
		t.Fatalf("JWKS key is %T", set.Keys[0].Key)
	}
	return pub.N.String()
}

// TestRunningIdPsNeverShareAKey: pooled keys are reused only after their IdP closed.
func TestRunningIdPsNeverShareAKey(t *testing.T) {
	running := map[string]*Server{}
	kids := map[string]bool{}
	for i := range 12 {
		s, err := Start(context.Background(), Config{Name: "k"})
		if err != nil {
			t.Fatal(err)
		}
		n := modulus(t, s)
		if other, dup := running[n]; dup {
			t.Fatalf("IdP %d got the key of a running IdP (%s)", i, other.URL())
		}
		kid := s.JWKS().Keys[0].KeyID
		if kids[kid] {
			t.Fatalf("key id %s reused", kid)
		}
		kids[kid] = true
		running[n] = s
		if i%3 == 2 { // close some, so their keys go back to the pool and are reused
			for k, r := range running {
				r.Close()
				delete(running, k)
				break
			}
		}
	}
	for _, s := range running {
		s.Close()
	}
}
