package idp

import (
	"maps"
	"time"

	"github.com/mohae/deepcopy"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
)

// session is the fosite session of every grant: an OpenID Connect session (ID token
// claims) that also carries RFC 9068 JWT access-token claims. Fields are exported because
// Clone deep-copies through reflection.
type session struct {
	*openid.DefaultSession
	JWTClaims  *jwt.JWTClaims
	JWTHeader  *jwt.Headers
	UserClaims map[string]any
	// IssuedAt is the IdP-clock time of the latest token issued with this session.
	IssuedAt time.Time
	// Shifted remembers, per token type, the expiry the IdP already moved onto its clock,
	// so that a second look at the same session does not shift it twice.
	Shifted map[fosite.TokenType]time.Time
}

func newSession(subject string, claims map[string]any, kid string) *session {
	ds := openid.NewDefaultSession()
	ds.Subject = subject
	ds.Claims.Subject = subject
	ds.Headers.Add("kid", kid)
	return &session{
		DefaultSession: ds,
		JWTClaims:      &jwt.JWTClaims{},
		JWTHeader:      &jwt.Headers{Extra: map[string]any{"kid": kid, "typ": "at+jwt"}},
		UserClaims:     maps.Clone(claims),
		Shifted:        map[fosite.TokenType]time.Time{},
	}
}

func (s *session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	return deepcopy.Copy(s).(*session)
}

func (s *session) GetJWTClaims() jwt.JWTClaimsContainer {
	if s.JWTClaims == nil {
		s.JWTClaims = &jwt.JWTClaims{}
	}
	return s.JWTClaims
}

func (s *session) GetJWTHeader() *jwt.Headers {
	if s.JWTHeader == nil {
		s.JWTHeader = &jwt.Headers{}
	}
	return s.JWTHeader
}

// shiftOntoClock moves every expiry fosite stamped with the wall clock onto the IdP clock.
func (s *session) shiftOntoClock(c *Clock) {
	if s.Shifted == nil {
		s.Shifted = map[fosite.TokenType]time.Time{}
	}
	off := c.offsetFromReal()
	for _, tt := range []fosite.TokenType{fosite.AccessToken, fosite.RefreshToken, fosite.AuthorizeCode} {
		exp := s.GetExpiresAt(tt)
		if exp.IsZero() || exp.Equal(s.Shifted[tt]) {
			continue
		}
		exp = exp.Add(off)
		s.SetExpiresAt(tt, exp)
		s.Shifted[tt] = exp
	}
}

// setClockExpiry sets an expiry that is already on the IdP clock.
func (s *session) setClockExpiry(tt fosite.TokenType, exp time.Time) {
	s.SetExpiresAt(tt, exp)
	s.Shifted[tt] = exp
}

func asSession(r fosite.Requester) *session {
	if r == nil {
		return nil
	}
	s, _ := r.GetSession().(*session)
	return s
}
