package idp

import (
	"cmp"
	"context"
	"net/http"
	"sync"

	"github.com/ory/fosite"
)

// requestSubject is the subject a request acts for, for a fault planned for one subject
// (told before the handler runs) and for the per-subject counters: the login_hint (or
// consent form subject) of an authorization request; the owner of the code or refresh
// token a token request redeems, or the subject of a token exchange's subject token (as
// the exchange verifies it); the owner of the token introspected or revoked, or of the
// bearer token at userinfo, revoked and expired tokens included. "" when the IdP cannot
// tell: a client credentials grant before it is answered, a token it never issued, a
// subject token the exchange would refuse.
func (s *Server) requestSubject(r *http.Request, endpoint, grant string) string {
	if err := r.ParseForm(); err != nil {
		return ""
	}
	ctx := r.Context()
	switch endpoint {
	case EndpointAuthorize:
		return cmp.Or(r.Form.Get("login_hint"), r.PostForm.Get(FieldSubject))
	case EndpointToken:
		switch grant {
		case "refresh_token":
			return s.tokenOwner(ctx, r.PostForm.Get("refresh_token"))
		case "authorization_code":
			ar, err := s.store.GetAuthorizeCodeSession(ctx, s.strategy.AuthorizeCodeSignature(ctx, r.PostForm.Get("code")), newSession("", nil, ""))
			if err != nil {
				return ""
			}
			return ar.GetSession().GetSubject()
		case grantTokenExchange:
			sub, _, err := s.verifySubjectToken(ctx, r.PostForm.Get("subject_token"), r.PostForm.Get("subject_token_type"), r.PostForm.Get("connector_id"))
			if err != nil {
				return ""
			}
			return sub
		}
	case EndpointIntrospect, EndpointRevoke:
		return s.tokenOwner(ctx, r.PostForm.Get("token"))
	case EndpointUserInfo:
		return s.tokenOwner(ctx, fosite.AccessTokenFromRequest(r))
	}
	return ""
}

// tokenOwner is the subject of an access or refresh token this IdP issued, whether or not
// it is still active.
func (s *Server) tokenOwner(ctx context.Context, token string) string {
	if token == "" {
		return ""
	}
	return cmp.Or(s.store.owners.get(s.strategy.AccessTokenSignature(ctx, token)),
		s.store.owners.get(s.strategy.RefreshTokenSignature(ctx, token)))
}

// maxOwners is the size of one generation of owners.
const maxOwners = 100000

// owners remembers the subject of each token signature the IdP stored, for after the token
// was revoked (fosite's store forgets it) or expired. Two generations bound the memory of
// a long-running IdP: when the current one is full it becomes the previous one and the one
// before is dropped, so the latest maxOwners tokens are always known.
type owners struct {
	mu        sync.Mutex
	cur, prev map[string]string
}

func (o *owners) add(sig, subject string) {
	if sig == "" || subject == "" {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.cur) >= maxOwners {
		o.prev, o.cur = o.cur, nil
	}
	if o.cur == nil {
		o.cur = map[string]string{}
	}
	o.cur[sig] = subject
}

func (o *owners) get(sig string) string {
	if sig == "" {
		return ""
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	return cmp.Or(o.cur[sig], o.prev[sig])
}
