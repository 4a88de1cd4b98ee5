package refserver

import (
	"context"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/muster-test/muster-test/mocks/bearer"
)

// DefaultContextTTL is how long `serve --introspect` trusts an introspection answer, and
// `serve --context userinfo` a userinfo answer (--context-ttl). It is also the longest a
// revoked token is still served.
const DefaultContextTTL = 30 * time.Second

// maxContexts bounds a cache; when it is full, expired entries are dropped first, and
// everything when none has expired (a scenario's tokens and users are few).
const maxContexts = 4096

// ttlCache keeps answers of the IdP for ttl on the authority's clock (the one token
// lifetimes are judged on, so a mock clock moves it too): a client sends the same token on
// every call, and asking the IdP each time costs a round trip per call and loads the IdP.
// The price is the revocation lag: a token revoked at the IdP is served until its entry
// expires. Concurrent first lookups of one key share one request to the IdP.
type ttlCache[V any] struct {
	now func() time.Time
	ttl time.Duration
	// ignoreTTL is the fault cache-ignores-ttl: entries never expire.
	ignoreTTL bool

	flight  singleflight.Group
	mu      sync.Mutex
	entries map[string]cached[V]
}

type cached[V any] struct {
	v       V
	expires time.Time
}

func newTTLCache[V any](now func() time.Time, ttl time.Duration, ignoreTTL bool) *ttlCache[V] {
	return &ttlCache[V]{now: now, ttl: ttl, ignoreTTL: ignoreTTL, entries: map[string]cached[V]{}}
}

// get answers from the cache, else calls load once for all concurrent callers of key. load
// says whether its answer may be kept: a refusal is asked about again, so that a token
// cannot be refused longer than the IdP says.
func (c *ttlCache[V]) get(ctx context.Context, key string, load func(context.Context) (V, bool, error)) (V, error) {
	if v, ok := c.lookup(key); ok {
		return v, nil
	}
	r, err, _ := c.flight.Do(key, func() (any, error) {
		// A flight that ended between the lookup above and this one has filled the entry.
		if v, ok := c.lookup(key); ok {
			return v, nil
		}
		// Callers share this answer: one of them going away must not fail the others.
		v, keep, err := load(context.WithoutCancel(ctx))
		if err == nil && keep {
			c.store(key, v)
		}
		return v, err
	})
	v, _ := r.(V)
	return v, err
}

func (c *ttlCache[V]) lookup(key string) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		var zero V
		return zero, false
	}
	if !c.ignoreTTL && !c.now().Before(e.expires) {
		delete(c.entries, key)
		var zero V
		return zero, false
	}
	return e.v, true
}

func (c *ttlCache[V]) store(key string, v V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
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
	c.entries[key] = cached[V]{v: v, expires: now.Add(c.ttl)}
}

// contextCache remembers each token's active introspection answer, the user's context.
type contextCache struct {
	bearer.Authority
	cache *ttlCache[bearer.TokenInfo]
}

func newContextCache(a bearer.Authority, ttl time.Duration, ignoreTTL bool) *contextCache {
	return &contextCache{Authority: a, cache: newTTLCache[bearer.TokenInfo](a.Now, ttl, ignoreTTL)}
}

// Introspect answers from the cache, else asks the authority once for all concurrent
// callers of the token. Only active answers are kept.
func (c *contextCache) Introspect(ctx context.Context, token string) (bearer.TokenInfo, error) {
	return c.cache.get(ctx, token, func(ctx context.Context) (bearer.TokenInfo, bool, error) {
		info, err := c.Authority.Introspect(ctx, token)
		return info, err == nil && info.Active, err
	})
}

// userContexts loads each user's context (claims such as the tenant) from the issuer's
// userinfo endpoint, for a server whose tokens do not carry it, and keeps it per user for
// the TTL: the calls of every token of a user share one lookup. A user whose token was
// revoked keeps the context until it expires; the next lookup, with a revoked token, is
// refused and so is the call.
type userContexts struct {
	idp   *remoteAuthority
	cache *ttlCache[map[string]any] // nil: every call asks
}

// load returns the context of subject, asking the IdP with token when none is kept.
func (u *userContexts) load(ctx context.Context, subject, token string) (map[string]any, error) {
	fetch := func(ctx context.Context) (map[string]any, bool, error) {
		claims, err := u.idp.UserInfo(ctx, token, subject)
		return claims, err == nil, err
	}
	if u.cache == nil {
		claims, _, err := fetch(ctx)
		return claims, err
	}
	return u.cache.get(ctx, subject, fetch)
}
