package refserver

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// clockTimeout bounds one reading of the issuer's clock; a slower issuer leaves the server
// on its last reading.
const clockTimeout = 2 * time.Second

// issuerClock is the issuer's clock as its answers tell it: every HTTP answer carries the
// origin server's time in its Date header (RFC 9110 §6.6.1), and a mock IdP puts its mock
// clock there. A server on this clock judges token lifetimes and its cache TTLs as the IdP
// does, so a scenario that advances the IdP's mock clock past a TTL sees the next call
// miss the cache without waiting wall time.
//
// The clock cannot be learnt from the answers the server gets anyway: a call served from
// the cache asks the IdP nothing, so it would never see the advance that expired the entry.
// It is therefore read whenever the server needs the time, with a HEAD of the issuer's
// metadata document (any status will do: every answer has a Date). A reading that fails
// falls back on the wall clock shifted by the last reading's offset. Against a real IdP
// this is the wall clock to the second, at the price of a request per use.
type issuerClock struct {
	url  string
	http *http.Client
	log  *slog.Logger

	mu     sync.Mutex
	offset time.Duration // the issuer's clock minus the wall clock, at the last reading
}

func newIssuerClock(metadataURL string, client *http.Client, log *slog.Logger) *issuerClock {
	return &issuerClock{url: metadataURL, http: client, log: log}
}

// Now is the issuer's time, to the second.
func (c *issuerClock) Now() time.Time {
	t, err := c.read()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.log.Warn("cannot read the issuer's clock; going on from the last reading", "err", err, "offset", c.offset)
		return time.Now().Add(c.offset)
	}
	c.offset = time.Until(t)
	return t
}

func (c *issuerClock) read() (time.Time, error) {
	ctx, cancel := context.WithTimeout(context.Background(), clockTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, c.url, nil)
	if err != nil {
		return time.Time{}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return time.Time{}, err
	}
	resp.Body.Close()
	return http.ParseTime(resp.Header.Get("Date"))
}
