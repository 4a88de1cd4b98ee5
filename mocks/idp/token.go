package idp

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/ory/fosite"
)

var supportedGrants = []string{"authorization_code", "refresh_token", "client_credentials", grantTokenExchange}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	entry := entryFrom(ctx)
	if s.cfg.SimulateError != "" {
		simulatedError(w, s.cfg.SimulateError)
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "malformed form body")
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "" && !slices.Contains(supportedGrants, gt) {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type "+gt+" is not supported")
		return
	}
	resourceAsAudience(r.PostForm)

	sess := newSession("", nil, s.signKey.KeyID)
	ar, err := s.provider.NewAccessRequest(ctx, r, sess)
	if ar != nil && ar.GetClient() != nil {
		entry.client = ar.GetClient().GetID()
	}
	if err != nil {
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	if ar.GetGrantTypes().ExactOne("client_credentials") {
		// fosite validated scope and audience against the client; granting is ours.
		for _, sc := range ar.GetRequestedScopes() {
			ar.GrantScope(sc)
		}
		for _, a := range ar.GetRequestedAudience() {
			ar.GrantAudience(a)
		}
		sess.SetSubject(ar.GetClient().GetID())
	}
	resp, err := s.provider.NewAccessResponse(ctx, ar)
	if errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
		// Lost a concurrent redemption of the same code (see store): fosite would say 500.
		err = fosite.ErrInvalidGrant.WithHint("The authorization code has already been used.")
	}
	if err != nil {
		s.provider.WriteAccessError(ctx, w, ar, err)
		return
	}
	entry.subject = ar.GetSession().GetSubject()
	// fosite computes expires_in against the wall clock; the expiry is on the IdP clock.
	if exp := ar.GetSession().GetExpiresAt(fosite.AccessToken); !exp.IsZero() {
		resp.SetExpiresIn(exp.Sub(s.clock.Now()).Round(time.Second))
	}
	s.provider.WriteAccessResponse(ctx, w, ar, resp)
}
