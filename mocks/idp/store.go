package idp

import (
	"context"
	"errors"
	"sync"

	"github.com/ory/fosite"
	"github.com/ory/fosite/storage"
)

// store is fosite's MemoryStore with what a shared, concurrent mock needs on top:
//   - clients come from the IdP's own registry (MemoryStore's client map has no exported
//     lock, and Client ID Metadata Documents are resolved on demand);
//   - every stored session is put on the IdP clock before it is stored;
//   - refresh-token methods are serialised: MemoryStore.RevokeRefreshToken writes the
//     refresh map under a different mutex than GetRefreshTokenSession reads it;
//   - issued tokens are remembered, for RevokeAll and the active-token count, and so are
//     their owners, for the per-subject counters.
type store struct {
	*storage.MemoryStore
	clients *clientRegistry
	clock   *Clock
	owners  owners

	refreshMu sync.RWMutex

	mu           sync.Mutex
	accessSigs   map[string]struct{}
	refreshSigs  map[string]struct{}
	requestIDs   map[string]struct{}
	redeemed     map[string]struct{}
	tokensIssued int
}

func newStore(clients *clientRegistry, clock *Clock) *store {
	return &store{
		MemoryStore: storage.NewMemoryStore(),
		clients:     clients,
		clock:       clock,
		accessSigs:  map[string]struct{}{},
		refreshSigs: map[string]struct{}{},
		requestIDs:  map[string]struct{}{},
		redeemed:    map[string]struct{}{},
	}
}

func (s *store) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	return s.clients.get(ctx, id)
}

func (s *store) onClock(r fosite.Requester) {
	if sess := asSession(r); sess != nil {
		sess.shiftOntoClock(s.clock)
	}
}

func (s *store) CreateAuthorizeCodeSession(ctx context.Context, code string, r fosite.Requester) error {
	s.onClock(r)
	return s.MemoryStore.CreateAuthorizeCodeSession(ctx, code, r)
}

// GetAuthorizeCodeSession returns a copy of the stored request, as a database-backed store
// would: fosite's code grant adopts the stored session and changes it, which on
// MemoryStore's shared object races with a concurrent redemption of the same code. It also
// gives sess the code's expiry, as a hydrating store would: the code grant first validates
// the code against the session it passed in (left empty, an expired code would pass).
func (s *store) GetAuthorizeCodeSession(ctx context.Context, code string, sess fosite.Session) (fosite.Requester, error) {
	r, err := s.MemoryStore.GetAuthorizeCodeSession(ctx, code, sess)
	if r == nil {
		return r, err
	}
	cp := copyRequest(r)
	if dst, ok := sess.(*session); ok && dst != nil {
		dst.SetExpiresAt(fosite.AuthorizeCode, cp.GetSession().GetExpiresAt(fosite.AuthorizeCode))
	}
	return cp, err
}

// GetOpenIDConnectSession returns a copy for the same reason: the OpenID Connect handler
// writes the ID token's claims into the session it gets, which MemoryStore shares with
// the stored authorization code.
func (s *store) GetOpenIDConnectSession(ctx context.Context, code string, r fosite.Requester) (fosite.Requester, error) {
	stored, err := s.MemoryStore.GetOpenIDConnectSession(ctx, code, r)
	if stored == nil {
		return stored, err
	}
	return copyRequest(stored), err
}

// copyRequest copies a stored request, form and session included.
func copyRequest(r fosite.Requester) fosite.Requester {
	keys := make([]string, 0, len(r.GetRequestForm()))
	for k := range r.GetRequestForm() {
		keys = append(keys, k)
	}
	cp := r.Sanitize(keys)
	cp.SetSession(r.GetSession().Clone())
	return cp
}

// InvalidateAuthorizeCodeSession redeems a code at most once. fosite checks that a code is
// active and invalidates it later, so two concurrent redemptions could both succeed.
func (s *store) InvalidateAuthorizeCodeSession(ctx context.Context, code string) error {
	s.mu.Lock()
	_, done := s.redeemed[code]
	s.redeemed[code] = struct{}{}
	s.mu.Unlock()
	if done {
		return fosite.ErrInvalidatedAuthorizeCode
	}
	return s.MemoryStore.InvalidateAuthorizeCodeSession(ctx, code)
}

func (s *store) CreateAccessTokenSession(ctx context.Context, sig string, r fosite.Requester) error {
	s.onClock(r)
	s.owners.add(sig, r.GetSession().GetSubject())
	s.mu.Lock()
	s.accessSigs[sig] = struct{}{}
	s.requestIDs[r.GetID()] = struct{}{}
	s.tokensIssued++
	s.mu.Unlock()
	return s.MemoryStore.CreateAccessTokenSession(ctx, sig, r)
}

func (s *store) CreateRefreshTokenSession(ctx context.Context, sig, accessSig string, r fosite.Requester) error {
	s.onClock(r)
	s.owners.add(sig, r.GetSession().GetSubject())
	s.mu.Lock()
	s.refreshSigs[sig] = struct{}{}
	s.requestIDs[r.GetID()] = struct{}{}
	s.mu.Unlock()
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	return s.MemoryStore.CreateRefreshTokenSession(ctx, sig, accessSig, r)
}

func (s *store) GetRefreshTokenSession(ctx context.Context, sig string, sess fosite.Session) (fosite.Requester, error) {
	s.refreshMu.RLock()
	defer s.refreshMu.RUnlock()
	return s.MemoryStore.GetRefreshTokenSession(ctx, sig, sess)
}

func (s *store) DeleteRefreshTokenSession(ctx context.Context, sig string) error {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	return s.MemoryStore.DeleteRefreshTokenSession(ctx, sig)
}

func (s *store) RevokeRefreshToken(ctx context.Context, requestID string) error {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	return s.MemoryStore.RevokeRefreshToken(ctx, requestID)
}

func (s *store) RotateRefreshToken(ctx context.Context, requestID, sig string) error {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	return s.MemoryStore.RotateRefreshToken(ctx, requestID, sig)
}

// activeAccess counts stored access tokens that are unexpired on the IdP clock, forgetting
// those fosite has deleted.
func (s *store) activeAccess(ctx context.Context) int {
	return s.countActive(ctx, s.accessSigs, fosite.AccessToken, s.GetAccessTokenSession, false)
}

// activeRefresh counts refresh tokens not yet revoked or expired. A revoked (inactive)
// refresh token stays known: its reuse must still be detected.
func (s *store) activeRefresh(ctx context.Context) int {
	return s.countActive(ctx, s.refreshSigs, fosite.RefreshToken, s.GetRefreshTokenSession, true)
}

// countActive counts the signatures in sigs whose session get still finds and whose
// expiry (on the IdP clock) has not passed. Signatures get no longer finds are forgotten,
// except inactive ones when keepInactive is set.
func (s *store) countActive(ctx context.Context, sigs map[string]struct{}, tt fosite.TokenType,
	get func(context.Context, string, fosite.Session) (fosite.Requester, error), keepInactive bool) int {
	s.mu.Lock()
	list := make([]string, 0, len(sigs))
	for sig := range sigs {
		list = append(list, sig)
	}
	s.mu.Unlock()
	now := s.clock.Now()
	n := 0
	for _, sig := range list {
		r, err := get(ctx, sig, nil)
		if err != nil {
			if !keepInactive || !errors.Is(err, fosite.ErrInactiveToken) {
				s.mu.Lock()
				delete(sigs, sig)
				s.mu.Unlock()
			}
			continue
		}
		if exp := r.GetSession().GetExpiresAt(tt); exp.IsZero() || now.Before(exp) {
			n++
		}
	}
	return n
}

// revokeAll revokes every token family the IdP issued and returns how many access and
// refresh tokens were active before.
func (s *store) revokeAll(ctx context.Context) int {
	n := s.activeAccess(ctx) + s.activeRefresh(ctx)
	s.mu.Lock()
	ids := make([]string, 0, len(s.requestIDs))
	for id := range s.requestIDs {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	for _, id := range ids {
		_ = s.RevokeRefreshToken(ctx, id)
		_ = s.RevokeAccessToken(ctx, id)
	}
	return n
}

func (s *store) issued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokensIssued
}
