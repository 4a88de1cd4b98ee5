package idp

import (
	"context"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/ory/fosite"
)

// Introspection is what the IdP knows about a token (RFC 7662 fields).
type Introspection struct {
	Active bool `json:"active"`
	// TokenUse is "access_token" or "refresh_token".
	TokenUse  string         `json:"token_use,omitempty"`
	Scope     []string       `json:"scope,omitempty"`
	ClientID  string         `json:"client_id,omitempty"`
	Subject   string         `json:"sub,omitempty"`
	Audience  []string       `json:"aud,omitempty"`
	Issuer    string         `json:"iss,omitempty"`
	ExpiresAt time.Time      `json:"exp,omitempty"`
	IssuedAt  time.Time      `json:"iat,omitempty"`
	Claims    map[string]any `json:"claims,omitempty"`
}

// Introspect reports on token as the /introspect endpoint would, without client
// authentication. An unknown, revoked or expired token is Active false, not an error.
func (s *Server) Introspect(ctx context.Context, token string) (Introspection, error) {
	if err := ctx.Err(); err != nil {
		return Introspection{}, err
	}
	sess := newSession("", nil, s.signKey.KeyID)
	tu, ar, err := s.provider.IntrospectToken(ctx, token, fosite.AccessToken, sess)
	if err != nil {
		return Introspection{Active: false}, nil
	}
	return s.describe(tu, ar), nil
}

func (s *Server) describe(tu fosite.TokenUse, ar fosite.AccessRequester) Introspection {
	in := Introspection{
		Active:   true,
		TokenUse: string(tu),
		Scope:    slices.Clone(ar.GetGrantedScopes()),
		Audience: slices.Clone(ar.GetGrantedAudience()),
		Issuer:   s.issuer,
		Subject:  ar.GetSession().GetSubject(),
	}
	if c := ar.GetClient(); c != nil {
		in.ClientID = c.GetID()
	}
	in.ExpiresAt = ar.GetSession().GetExpiresAt(fosite.TokenType(tu))
	if sess := asSession(ar); sess != nil {
		in.IssuedAt = sess.IssuedAt
		in.Claims = maps.Clone(sess.UserClaims)
	}
	return in
}

// IssueOptions describe a token minted by IssueToken.
type IssueOptions struct {
	Subject  string        // default: the first user
	ClientID string        // default: the pre-registered client
	Scopes   []string      // granted as given (not checked against Config.Scopes)
	Audience []string      // RFC 8707 resources
	Lifetime time.Duration // default TokenLifetime
}

// Token is a minted access token.
type Token struct {
	AccessToken string
	ExpiresAt   time.Time
}

// IssueToken mints an access token through fosite's strategy and storage, so it is
// introspectable, revocable and (with SignTokens) a signed JWT.
func (s *Server) IssueToken(ctx context.Context, o IssueOptions) (Token, error) {
	ar, sess, err := s.newTokenRequest(ctx, o.Subject, o.ClientID, o.Scopes, o.Audience, o.Lifetime)
	if err != nil {
		return Token{}, err
	}
	token, sig, err := s.strategy.GenerateAccessToken(ctx, ar)
	if err != nil {
		return Token{}, err
	}
	if err := s.store.CreateAccessTokenSession(ctx, sig, ar); err != nil {
		return Token{}, err
	}
	return Token{AccessToken: token, ExpiresAt: sess.GetExpiresAt(fosite.AccessToken)}, nil
}

// InjectOptions describe a token registered by InjectToken.
type InjectOptions struct {
	Subject  string
	ClientID string
	Scopes   []string
	Audience []string
	// ExpiresIn from now on the IdP clock; default TokenLifetime.
	ExpiresIn time.Duration
}

// InjectToken registers an arbitrary string as a valid access token.
func (s *Server) InjectToken(token string, o InjectOptions) error {
	if token == "" {
		return errors.New("idp: empty token")
	}
	ctx := context.Background()
	ar, _, err := s.newTokenRequest(ctx, o.Subject, o.ClientID, o.Scopes, o.Audience, o.ExpiresIn)
	if err != nil {
		return err
	}
	return s.store.CreateAccessTokenSession(ctx, s.strategy.inject(token), ar)
}

func (s *Server) newTokenRequest(ctx context.Context, subject, clientID string, scopes, aud []string, life time.Duration) (*fosite.AccessRequest, *session, error) {
	if subject == "" {
		subject = s.cfg.Users[0].Subject
	}
	if clientID == "" {
		clientID = s.cfg.ClientID
	}
	if life <= 0 {
		life = s.cfg.TokenLifetime
	}
	client, err := s.clients.get(ctx, clientID)
	if err != nil {
		return nil, nil, errors.New("idp: unknown client " + clientID)
	}
	sess := newSession(subject, s.users.claims(subject), s.signKey.KeyID)
	sess.setClockExpiry(fosite.AccessToken, s.clock.Now().Add(life).Truncate(time.Second))
	sess.IssuedAt = s.clock.Now().Truncate(time.Second)
	ar := fosite.NewAccessRequest(sess)
	ar.Client = client
	ar.GrantTypes = fosite.Arguments{"urn:muster-test:issued"}
	for _, sc := range scopes {
		ar.GrantScope(sc)
		ar.AppendRequestedScope(sc)
	}
	for _, a := range aud {
		ar.GrantAudience(a)
		ar.RequestedAudience = append(ar.RequestedAudience, a)
	}
	return ar, sess, nil
}

// RevokeAll revokes every token the IdP issued and returns how many access and refresh
// tokens were still active.
func (s *Server) RevokeAll() int {
	return s.store.revokeAll(context.Background())
}
