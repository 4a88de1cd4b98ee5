package refserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// DefaultUpstreamWait is how long a tool call waits for the user's upstream token.
const DefaultUpstreamWait = 10 * time.Second

// RFC 8693's grant type and the token type of an access token.
const (
	grantTokenExchange   = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
)

// upstreams holds one token per user at the upstream IdP, which a tool needs to call the
// upstream API on the user's behalf. A token is obtained by exchanging the caller's token
// (RFC 8693) and exchanged again once it expired (on the clock of token lifetimes) or was
// revoked. The IdP can take seconds to answer, so:
//
//   - each user's token has a lock of its own, held across the round trip: one slow
//     exchange holds up that user's calls only;
//   - after taking the lock a caller looks again, so that of many concurrent callers only
//     the first exchanges and the others take its token (single flight);
//   - a lock lives while a caller holds or waits for it, so the locks do not pile up with
//     users;
//   - locks are always taken in one order, a user's lock before the store's, by refresh
//     and revoke alike;
//   - a call waits at most wait for the token; the exchange goes on without it, and a later
//     call takes the token.
type upstreams struct {
	idp      *remoteAuthority
	tokenURL string
	revoke   string // revocation_endpoint, may be empty
	userinfo string // the upstream API the tools call
	wait     time.Duration
	faults   Faults

	// global is the one lock of the fault global-refresh-lock.
	global sync.Mutex

	locksMu sync.Mutex
	locks   map[string]*userLock

	storeMu sync.Mutex
	tokens  map[string]upstreamToken

	// ctx ends the exchanges still running when the server closes; running counts them.
	ctx     context.Context
	cancel  context.CancelFunc
	running sync.WaitGroup
}

type userLock struct {
	sync.Mutex
	refs int // callers holding or waiting for the lock; locksMu guards it
}

type upstreamToken struct {
	access  string
	expires time.Time // zero: the IdP gave no lifetime
}

// connectUpstream reads the upstream IdP's metadata and registers a client there that may
// exchange tokens.
func connectUpstream(ctx context.Context, cfg Config, now func() time.Time, faults Faults) (*upstreams, error) {
	a, meta, err := connect(ctx, cfg.UpstreamIssuer, "", "", now)
	if err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	if meta.TokenEndpoint == "" || meta.UserinfoEndpoint == "" {
		return nil, errors.New("upstream: the metadata needs a token_endpoint and a userinfo_endpoint")
	}
	if err := a.register(ctx, meta.RegistrationEndpoint, grantTokenExchange); err != nil {
		return nil, fmt.Errorf("upstream: %w", err)
	}
	u := &upstreams{idp: a, tokenURL: meta.TokenEndpoint, revoke: meta.RevocationEndpoint,
		userinfo: meta.UserinfoEndpoint, wait: cfg.UpstreamWait, faults: faults,
		locks: map[string]*userLock{}, tokens: map[string]upstreamToken{}}
	if u.wait <= 0 {
		u.wait = DefaultUpstreamWait
	}
	u.ctx, u.cancel = context.WithCancel(context.Background())
	return u, nil
}

// token returns the user's upstream token, exchanging userToken for one when there is
// none that holds.
func (u *upstreams) token(ctx context.Context, subject, userToken string) (string, error) {
	if t, ok := u.valid(subject); ok {
		return t, nil
	}
	type result struct {
		token string
		err   error
	}
	done := make(chan result, 1)
	u.running.Add(1)
	go func() {
		defer u.running.Done()
		t, err := u.refresh(subject, userToken)
		done <- result{t, err}
	}()
	wait := time.NewTimer(u.wait)
	defer wait.Stop()
	select {
	case r := <-done:
		return r.token, r.err
	case <-wait.C:
		return "", fmt.Errorf("the upstream token of %s is not ready yet: its exchange at the upstream IdP is still running; call again", subject)
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// valid is the user's token when it has not expired.
func (u *upstreams) valid(subject string) (string, bool) {
	u.storeMu.Lock()
	defer u.storeMu.Unlock()
	t, ok := u.tokens[subject]
	if !ok || (!t.expires.IsZero() && !u.idp.Now().Before(t.expires)) {
		return "", false
	}
	return t.access, true
}

// refresh exchanges userToken for the user's upstream token under the user's lock, unless
// a caller that held the lock before got one.
func (u *upstreams) refresh(subject, userToken string) (string, error) {
	defer u.hold(subject)()
	if !u.faults[FaultNoRefreshDoubleCheck] {
		if t, ok := u.valid(subject); ok {
			return t, nil
		}
	}
	var answer struct {
		AccessToken string  `json:"access_token"`
		ExpiresIn   float64 `json:"expires_in"`
	}
	form := url.Values{"grant_type": {grantTokenExchange}, "subject_token": {userToken},
		"subject_token_type": {tokenTypeAccessToken}, "requested_token_type": {tokenTypeAccessToken}}
	if err := u.idp.postForm(u.ctx, u.tokenURL, form, &answer, http.StatusOK); err != nil {
		return "", fmt.Errorf("upstream token exchange: %w", err)
	}
	if answer.AccessToken == "" {
		return "", errors.New("upstream token exchange: the answer has no access_token")
	}
	t := upstreamToken{access: answer.AccessToken}
	if answer.ExpiresIn > 0 {
		t.expires = u.idp.Now().Add(time.Duration(answer.ExpiresIn * float64(time.Second)))
	}
	u.storeMu.Lock()
	u.tokens[subject] = t
	u.storeMu.Unlock()
	return t.access, nil
}

// forget drops the user's upstream token and revokes it at the upstream IdP (RFC 7009), so
// that the next call exchanges again. It takes the user's lock first, as refresh does: a
// refresh running now ends before the token is dropped, and cannot store it after.
func (u *upstreams) forget(subject string) (bool, error) {
	var t upstreamToken
	var had bool
	if u.faults[FaultDeadlockOnRevoke] {
		// The store first, then the user's lock: the opposite of refresh's order.
		u.storeMu.Lock()
		release := u.hold(subject)
		t, had = u.tokens[subject]
		delete(u.tokens, subject)
		release()
		u.storeMu.Unlock()
	} else {
		release := u.hold(subject)
		u.storeMu.Lock()
		t, had = u.tokens[subject]
		delete(u.tokens, subject)
		u.storeMu.Unlock()
		release()
	}
	if !had || u.revoke == "" {
		return had, nil
	}
	form := url.Values{"token": {t.access}, "token_type_hint": {"access_token"}}
	if err := u.idp.postForm(u.ctx, u.revoke, form, nil, http.StatusOK); err != nil {
		return had, fmt.Errorf("upstream revocation: %w", err)
	}
	return had, nil
}

// hold takes the lock that guards the user's token across an exchange, and returns its
// release: the user's own, or with the fault global-refresh-lock the one of every user.
func (u *upstreams) hold(subject string) (release func()) {
	if u.faults[FaultGlobalRefreshLock] {
		u.global.Lock()
		return u.global.Unlock
	}
	l := u.lock(subject)
	return func() { u.unlock(subject, l) }
}

// lock takes the user's lock, made on first use.
func (u *upstreams) lock(subject string) *userLock {
	u.locksMu.Lock()
	l := u.locks[subject]
	if l == nil {
		l = &userLock{}
		u.locks[subject] = l
	}
	l.refs++
	u.locksMu.Unlock()
	l.Lock()
	return l
}

// unlock releases the user's lock and removes it when no caller holds or waits for it.
func (u *upstreams) unlock(subject string, l *userLock) {
	l.Unlock()
	u.locksMu.Lock()
	defer u.locksMu.Unlock()
	l.refs--
	if l.refs == 0 && !u.faults[FaultLockLeak] {
		delete(u.locks, subject)
	}
}

// status is what the upstream_status tool shows.
func (u *upstreams) status() map[string]int {
	u.locksMu.Lock()
	locks := len(u.locks)
	u.locksMu.Unlock()
	u.storeMu.Lock()
	defer u.storeMu.Unlock()
	return map[string]int{"locks": locks, "tokens": len(u.tokens)}
}

// call is the upstream API: the upstream IdP's userinfo, asked with the user's token.
func (u *upstreams) call(ctx context.Context, token string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.userinfo, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	var answer map[string]any
	if err := u.idp.exchange(req, &answer, http.StatusOK); err != nil {
		return nil, fmt.Errorf("upstream API: %w", err)
	}
	return answer, nil
}

// close ends the exchanges still running and waits for them, but not for ever: with the
// fault deadlock-on-revoke one may never end.
func (u *upstreams) close() error {
	u.cancel()
	ended := make(chan struct{})
	go func() {
		u.running.Wait()
		close(ended)
	}()
	t := time.NewTimer(2 * time.Second)
	defer t.Stop()
	select {
	case <-ended:
		return nil
	case <-t.C:
		return errors.New("upstream: an exchange did not end (deadlock?)")
	}
}
