package oauthclient

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// oauthConfig is the golang.org/x/oauth2 view of the registration.
func (c *Client) oauthConfig(d *Discovery, reg *Registration, scopes []string) *oauth2.Config {
	style := oauth2.AuthStyleInParams
	if reg.AuthMethod == authBasic {
		style = oauth2.AuthStyleInHeader
	}
	secret := reg.ClientSecret
	if reg.AuthMethod == authNone {
		secret = ""
	}
	return &oauth2.Config{
		ClientID: reg.ClientID, ClientSecret: secret, RedirectURL: reg.RedirectURI, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: d.AS.AuthorizationEndpoint, TokenURL: d.AS.TokenEndpoint, AuthStyle: style},
	}
}

// resource is the RFC 8707 resource indicator: the PRM's resource (canonical for the
// server), else the server URL.
func (c *Client) resource(d *Discovery) string {
	switch {
	case c.cfg.Faults.Resource != "":
		return c.cfg.Faults.Resource
	case d.PRM != nil && d.PRM.Resource != "":
		return d.PRM.Resource
	}
	return d.ServerURL
}

// oauthCtx makes golang.org/x/oauth2 send its requests through the recording client.
func (c *Client) oauthCtx(ctx context.Context, phase string) context.Context {
	return withPhase(context.WithValue(ctx, oauth2.HTTPClient, c.http), phase)
}

// authorizationCode runs one authorization code grant with PKCE: the authorization
// request through the headless browser, the callback checks, the token request.
func (c *Client) authorizationCode(ctx context.Context, d *Discovery, reg *Registration, scopes []string) (*oauth2.Token, error) {
	f := c.cfg.Faults
	conf := c.oauthConfig(d, reg, scopes)
	state := ""
	if !f.OmitState {
		state = rand.Text()
	}
	verifier := oauth2.GenerateVerifier()
	var opts []oauth2.AuthCodeOption
	switch {
	case f.SkipPKCE:
	case f.PlainPKCE:
		opts = append(opts, oauth2.SetAuthURLParam("code_challenge", verifier), oauth2.SetAuthURLParam("code_challenge_method", "plain"))
	default:
		opts = append(opts, oauth2.S256ChallengeOption(verifier))
	}
	resource := c.resource(d)
	if !f.OmitResource {
		opts = append(opts, oauth2.SetAuthURLParam("resource", resource))
	}
	if sub := c.cfg.User.Subject; sub != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", sub))
	}
	for _, k := range slices.Sorted(maps.Keys(c.cfg.User.Params)) {
		opts = append(opts, oauth2.SetAuthURLParam(k, c.cfg.User.Params[k]))
	}
	callback, err := c.browse(ctx, conf.AuthCodeURL(state, opts...), reg.RedirectURI)
	if err != nil {
		return nil, err
	}
	code, err := c.checkCallback(d, callback, state)
	if err != nil {
		return nil, err
	}

	var topts []oauth2.AuthCodeOption
	if !f.SkipPKCE {
		v := verifier
		if f.WrongVerifier {
			v = oauth2.GenerateVerifier()
		}
		topts = append(topts, oauth2.VerifierOption(v))
	}
	if !f.OmitResource {
		topts = append(topts, oauth2.SetAuthURLParam("resource", resource))
	}
	tok, err := conf.Exchange(c.oauthCtx(ctx, PhaseToken), code, topts...)
	if err != nil {
		return nil, tokenError("token request", err)
	}
	return tok, nil
}

// tokenError names the OAuth error code of a failed token request.
func tokenError(what string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		if re.ErrorCode != "" {
			msg := fmt.Sprintf("%s answered %d %s", what, status, re.ErrorCode)
			if re.ErrorDescription != "" {
				msg += ": " + re.ErrorDescription
			}
			return &OAuthError{Code: re.ErrorCode, Description: re.ErrorDescription, Status: status, msg: msg}
		}
		return fmt.Errorf("%s answered %d: %s", what, status, trimBody(re.Body))
	}
	return fmt.Errorf("%s: %w", what, err)
}

// OAuthError is an error response of the authorization server (RFC 6749 §4.1.2.1, §5.2).
type OAuthError struct {
	Code        string
	Description string
	Status      int // 0 for an authorization response
	msg         string
}

func (e *OAuthError) Error() string { return e.msg }

// checkCallback validates the authorization response delivered to the redirect URI:
// state, RFC 9207 iss, error, code.
func (c *Client) checkCallback(d *Discovery, cb *url.URL, state string) (string, error) {
	start := time.Now()
	f := c.cfg.Faults
	q := cb.Query()
	var notes []string
	fail := func(err error) (string, error) {
		c.record(PhaseCallback, strings.Join(notes, "; "), start, err)
		return "", err
	}
	got := q.Get("state")
	if f.WrongState {
		got = rand.Text()
		notes = append(notes, "state replaced (fault)")
	}
	switch {
	case f.IgnoreState:
		notes = append(notes, "state not checked (fault)")
	case got != state:
		return fail(fmt.Errorf("the callback's state %q is not the state sent (%q): refusing a response this client did not ask for", Shorten(got), Shorten(state)))
	default:
		notes = append(notes, "state matches")
	}
	iss, hasIss := q.Get("iss"), q.Has("iss")
	switch {
	case f.IgnoreIss:
		notes = append(notes, "iss not checked (fault)")
	case hasIss && iss != d.AS.Issuer:
		return fail(fmt.Errorf("the callback's iss %q is not the issuer %q (RFC 9207: possible mix-up attack)", iss, d.AS.Issuer))
	case !hasIss && d.AS.AuthorizationResponseIssParameterSupported:
		return fail(errors.New("the callback has no iss although the server advertises authorization_response_iss_parameter_supported (RFC 9207)"))
	case hasIss:
		notes = append(notes, "iss matches")
	}
	if e := q.Get("error"); e != "" {
		msg := "the authorization server answered error=" + e
		if desc := q.Get("error_description"); desc != "" {
			msg += ": " + desc
		}
		return fail(&OAuthError{Code: e, Description: q.Get("error_description"), msg: msg})
	}
	code := q.Get("code")
	if code == "" {
		return fail(errors.New("the callback carries neither code nor error"))
	}
	c.record(PhaseCallback, strings.Join(notes, "; "), start, nil)
	return code, nil
}
