package idp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
)

// newKey makes a signing key for alg: an RSA key comes from the pool, a P-256 key is
// made fresh, as that costs microseconds.
func newKey(alg string) (crypto.Signer, error) {
	if alg == AlgES256 {
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	return signingKey()
}

// releaseSigner returns an RSA key to the pool; other keys are dropped.
func releaseSigner(k any) {
	if r, ok := k.(*rsa.PrivateKey); ok {
		releaseKey(r)
	}
}

// An RSA-2048 key takes tens of milliseconds of CPU to generate, the largest part of
// starting an IdP, and a runner starts one or more IdPs per scenario. So keys are pooled:
// a closed IdP returns its key, a new IdP takes one from the pool, and one spare is
// generated ahead in the background. No two running IdPs ever hold the same key (a key is
// back in the pool only after its IdP closed), and each IdP gets a fresh key id, so a
// token of one running IdP never verifies at another.
var keyPool = make(chan *rsa.PrivateKey, 64)

// signingKey leases a key: from the pool when one is there, else a new one.
func signingKey() (*rsa.PrivateKey, error) {
	select {
	case k := <-keyPool:
		if len(keyPool) == 0 {
			refill()
		}
		return k, nil
	default:
		refill()
		return rsa.GenerateKey(rand.Reader, 2048)
	}
}

// releaseKey returns the key of a closed IdP to the pool (dropped when the pool is full).
func releaseKey(k *rsa.PrivateKey) {
	select {
	case keyPool <- k:
	default:
	}
}

// WarmUp starts making an RSA signing key in the background, unless one is waiting in
// the pool already, so that the next IdP to start takes it instead of spending tens of
// milliseconds of CPU making one. A program that will start an IdP soon calls it early:
// the runner does before it reads the scenario files.
func WarmUp() {
	if len(keyPool) == 0 {
		refill()
	}
}

// refill generates one spare key in the background; the goroutine ends once it is stored
// or dropped.
func refill() {
	go func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err == nil {
			releaseKey(k)
		}
	}()
}
