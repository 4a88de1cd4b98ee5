package refsut

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// expiryMargin is how long before its expiry a token is refreshed (muster's margin).
const expiryMargin = 30 * time.Second

// tokenKey is where a token lives: per MCP session and issuer, which is what makes SSO work
// within a session and never across sessions.
type tokenKey struct {
	session string
	issuer  string
}

type storedToken struct {
	tok      *oauth2.Token
	lifetime time.Duration
}

type tokenStore struct {
	mu sync.Mutex
	m  map[tokenKey]storedToken
}

func (s *tokenStore) init() { s.m = map[tokenKey]storedToken{} }

func (s *tokenStore) get(k tokenKey) (storedToken, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.m[k]
	return t, ok
}

func (s *tokenStore) put(k tokenKey, tok *oauth2.Token) {
	st := storedToken{tok: tok}
	if !tok.Expiry.IsZero() {
		st.lifetime = time.Until(tok.Expiry)
	}
	s.mu.Lock()
	s.m[k] = st
	s.mu.Unlock()
}

// drop removes the token at k; with old set, only if it is still that token, so that a late
// failure never erases a token that has meanwhile been replaced.
func (s *tokenStore) drop(k tokenKey, old *oauth2.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, ok := s.m[k]; ok && (old == nil || cur.tok.AccessToken == old.AccessToken) {
		delete(s.m, k)
	}
}

func (s *tokenStore) dropSession(session string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.m {
		if k.session == session {
			delete(s.m, k)
		}
	}
}

// needsRefresh reports whether the token is within its expiry margin. The margin is capped at
// half the token's lifetime: a token that lives 30 s or less would otherwise be refreshed on
// every single use.
func (t storedToken) needsRefresh() bool {
	if t.tok.Expiry.IsZero() {
		return false
	}
	margin := expiryMargin
	if t.lifetime > 0 && t.lifetime/2 < margin {
		margin = t.lifetime / 2
	}
	return time.Until(t.tok.Expiry) < margin
}

func (a *Aggregator) tokenKey(session, issuer string) tokenKey {
	if a.faults.has(FaultSharedTokens) {
		session = ""
	}
	return tokenKey{session: session, issuer: issuer}
}

var errNoRefresh = errors.New("token refresh is not possible")

// refresh replaces old with a refreshed token. Concurrent callers holding the same old token
// share one refresh (single flight keyed by the token being replaced); a caller whose token
// was already replaced gets the replacement without another refresh.
func (a *Aggregator) refresh(ctx context.Context, k tokenKey, old *oauth2.Token) (*oauth2.Token, error) {
	if a.faults.has(FaultNoRefresh) {
		return nil, errNoRefresh
	}
	if a.faults.has(FaultNoSingleFlight) {
		return a.doRefresh(ctx, k, old)
	}
	v, err, _ := a.refreshSF.Do(k.session+"\x00"+k.issuer+"\x00"+old.AccessToken, func() (any, error) {
		if cur, ok := a.tokens.get(k); ok && cur.tok.AccessToken != old.AccessToken {
			return cur.tok, nil
		}
		// Detached from the first caller: its cancellation must not fail the others.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		return a.doRefresh(rctx, k, old)
	})
	if err != nil {
		return nil, err
	}
	return v.(*oauth2.Token), nil
}

func (a *Aggregator) doRefresh(ctx context.Context, k tokenKey, old *oauth2.Token) (*oauth2.Token, error) {
	if old.RefreshToken == "" {
		a.tokens.drop(k, old)
		return nil, errNoRefresh
	}
	md, err := a.metadata(ctx, k.issuer)
	if err != nil {
		return nil, err
	}
	// A token without an access token is invalid to oauth2, so the source refreshes at once.
	nt, err := a.oauthConfig(md, "").TokenSource(a.oauthCtx(ctx), &oauth2.Token{RefreshToken: old.RefreshToken}).Token()
	if err != nil {
		a.tokens.drop(k, old)
		a.log.Info("Token refresh failed", "issuer", k.issuer, "error", err, "subsystem", "oauth")
		return nil, fmt.Errorf("token refresh failed: %w", err)
	}
	if nt.RefreshToken == "" {
		nt.RefreshToken = old.RefreshToken
	}
	a.tokens.put(k, nt)
	a.log.Debug("Token refreshed", "issuer", k.issuer, "subsystem", "oauth")
	return nt, nil
}
