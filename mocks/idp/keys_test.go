package idp

import (
	"context"
	"crypto/rsa"
	"testing"
	"time"
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

// TestWarmUpMakesTheNextKey: after WarmUp, a key waits in the pool (made in the
// background) and the next IdP to start takes that one instead of making its own.
func TestWarmUpMakesTheNextKey(t *testing.T) {
	drain := func() {
		for {
			select {
			case <-keyPool:
			default:
				return
			}
		}
	}
	drain()
	WarmUp()
	var k *rsa.PrivateKey
	select {
	case k = <-keyPool:
	case <-time.After(20 * time.Second):
		t.Fatal("no key in the pool 20s after WarmUp")
	}
	drain() // a refill started elsewhere must not stand in for the warmed-up key
	releaseKey(k)
	s, err := Start(context.Background(), Config{Name: "warm"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if pub, _ := s.JWKS().Keys[0].Key.(*rsa.PublicKey); pub == nil || !pub.Equal(&k.PublicKey) {
		t.Error("the IdP did not take the warmed-up key")
	}
}
