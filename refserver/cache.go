package refserver

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/muster-test/muster-test/mocks/bearer"
)

// DefaultContextTTL is how long `serve --introspect` trusts an introspection answer
// (--context-ttl). It is also the longest a revoked token is still served.
const DefaultContextTTL = 30 * time.Second

// maxContexts bounds the cache; when it is full, expired entries are dropped first, and
// everything when none has expired (a scenario's tokens are few).
const maxContexts = 4096

// contextCache remembers each token's active introspection answer, the user's context,
// for ttl on the authority's clock (the one token lifetimes are judged on, so a mock clock
// moves it too): a client sends the same token on every call, and asking the IdP each
// time costs a round trip per call and loads the IdP. The price is the revocation lag: a
// token revoked at the IdP is served until its entry expires. Concurrent first lookups
// of one token share one introspection.
type contextCache struct {
	bearer.Authority
	ttl time.Duration
	// ignoreTTL is the fault cache-ignores-ttl: entries never expire.
	ignoreTTL bool

	flight  singleflight.Group
	mu      sync.Mutex
	entries map[string]cachedContext
}

type cachedContext struct {
	info    bearer.TokenInfo
	expires time.Time
}

func newContextCache(a bearer.Authority, ttl time.Duration, ignoreTTL bool) *contextCache {
	return &contextCache{Authority: a, ttl: ttl, ignoreTTL: ignoreTTL, entries: map[string]cachedContext{}}
}

// Introspect answers from the cache, else asks the authority once for all concurrent
// callers of the token. Only active answers are kept: a refused token is asked about
// again, so it cannot be refused longer than the IdP says.
func (c *contextCache) Introspect(ctx context.Context, token string) (bearer.TokenInfo, error) {
	if info, ok := c.lookup(token); ok {
		return info, nil
	}
	v, err, _ := c.flight.Do(token, func() (any, error) {
		// A flight that ended between the lookup above and this one has filled the entry.
		if info, ok := c.lookup(token); ok {
			return info, nil
		}
		// Callers share this answer: one of them going away must not fail the others.
		info, err := c.Authority.Introspect(context.WithoutCancel(ctx), token)
		if err == nil && info.Active {
			c.store(token, info)
		}
		return info, err
	})
	info, _ := v.(bearer.TokenInfo)
	return info, err
}

func (c *contextCache) lookup(token string) (bearer.TokenInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[token]
	if !ok {
		return bearer.TokenInfo{}, false
	}
	if !c.ignoreTTL && !c.Now().Before(e.expires) {
		delete(c.entries, token)
		return bearer.TokenInfo{}, false
	}
	return e.info, true
}

func (c *contextCache) store(token string, info bearer.TokenInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.Now()
	if len(c.entries) >= maxContexts {
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxContexts {
			clear(c.entries)
		}
	}
	c.entries[token] = cachedContext{info: info, expires: now.Add(c.ttl)}
}
