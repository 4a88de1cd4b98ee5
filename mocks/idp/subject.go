package idp

import (
	"cmp"
	"net/http"

	"github.com/ory/fosite"
)

// requestSubject is the subject a request acts for, told before its handler runs, for a
// fault planned for one subject: the login_hint (or consent form subject) of an
// authorization request, the owner of the code or refresh token a token request redeems,
// of the token introspected or revoked, of the bearer token at userinfo. "" when the
// request does not say (a client credentials grant, an unknown token).
func (s *Server) requestSubject(r *http.Request, endpoint, grant string) string {
	if err := r.ParseForm(); err != nil {
		return ""
	}
	switch endpoint {
	case EndpointAuthorize:
		return cmp.Or(r.Form.Get("login_hint"), r.PostForm.Get(FieldSubject))
	case EndpointToken:
		switch grant {
		case "refresh_token":
			return s.tokenOwner(r, r.PostForm.Get("refresh_token"))
		case "authorization_code":
			ctx := r.Context()
			ar, err := s.store.GetAuthorizeCodeSession(ctx, s.strategy.AuthorizeCodeSignature(ctx, r.PostForm.Get("code")), newSession("", nil, ""))
			if err != nil {
				return ""
			}
			return ar.GetSession().GetSubject()
		}
	case EndpointIntrospect, EndpointRevoke:
		return s.tokenOwner(r, r.PostForm.Get("token"))
	case EndpointUserInfo:
		return s.tokenOwner(r, fosite.AccessTokenFromRequest(r))
	}
	return ""
}

// tokenOwner is the subject of an active access or refresh token of this IdP.
func (s *Server) tokenOwner(r *http.Request, token string) string {
	if token == "" {
		return ""
	}
	in, err := s.Introspect(r.Context(), token)
	if err != nil || !in.Active {
		return ""
	}
	return in.Subject
}
