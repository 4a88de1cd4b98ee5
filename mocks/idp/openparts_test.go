package idp

import (
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// registerBody is a registration request asking for grants beyond the usual ones.
const registerBody = `{"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none",` +
	`"grant_types":["authorization_code","client_credentials","urn:ietf:params:oauth:grant-type:token-exchange"]}`

func register(t *testing.T, s *Server) oauthErr {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+"/register", strings.NewReader(registerBody))
	req.Header.Set("Content-Type", "application/json")
	return send(t, s, req)
}

// TestRegistrationOpenByDefault: anonymous registration is deliberately open, any grant
// included (registration: open, the default).
func TestRegistrationOpenByDefault(t *testing.T) {
	for _, cfg := range []Config{{}, {Registration: RegistrationOpen}} {
		s := startIdP(t, cfg)
		if res := register(t, s); res.status != http.StatusCreated || !jsonHas(res.body["grant_types"], "client_credentials") {
			t.Errorf("registration %q: %d %v", cfg.Registration, res.status, res.body)
		}
		if _, m := getJSON(t, s, "/.well-known/oauth-authorization-server", ""); m["registration_endpoint"] != s.URL()+"/register" {
			t.Errorf("registration %q: metadata registration_endpoint = %v", cfg.Registration, m["registration_endpoint"])
		}
	}
}

// TestRegistrationClosed: RFC 7591 §3 lets a server require an initial access token; a
// closed IdP issues none, so every registration is refused as RFC 6750 says, and its
// metadata does not offer the endpoint (RFC 8414: absent means not supported).
func TestRegistrationClosed(t *testing.T) {
	s := startIdP(t, Config{Registration: RegistrationClosed, AutoApprove: true})
	res := register(t, s)
	if challenge, _ := res.body["www-authenticate"].(string); res.status != http.StatusUnauthorized ||
		res.code != "invalid_token" || !strings.HasPrefix(challenge, `Bearer error="invalid_token"`) {
		t.Errorf("closed registration: %d %v", res.status, res.body)
	}
	if res.body["client_id"] != nil {
		t.Errorf("a client was registered: %v", res.body)
	}
	for _, path := range []string{"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"} {
		if _, m := getJSON(t, s, path, ""); m["registration_endpoint"] != nil || m["token_endpoint"] == nil {
			t.Errorf("%s: registration_endpoint = %v (token_endpoint %v)", path, m["registration_endpoint"], m["token_endpoint"])
		}
	}
	// The pre-registered client does not depend on registration.
	if res := getAuthorize(t, s, publicCfg(s).AuthCodeURL("state-12345678")); res.param("code") == "" {
		t.Errorf("pre-registered client under closed registration: %d %v", res.status, res.location)
	}
	if _, err := Start(t.Context(), Config{Registration: "by-invitation"}); err == nil || !strings.Contains(err.Error(), "registration") {
		t.Errorf("unknown registration mode: err = %v", err)
	}
}

// browser is a user agent with its own cookie jar.
func browser(t *testing.T, s *Server) *http.Client {
	t.Helper()
	c := httpClient(s)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Jar = jar
	return c
}

// TestConsentCSRF: with consent_csrf the consent form carries a token bound to the
// browser that fetched it (a cookie), and a POST that lacks it, or comes with another
// browser's, is refused before any decision is taken.
func TestConsentCSRF(t *testing.T) {
	s := startIdP(t, Config{ConsentCSRF: true, Users: aliceUsers})
	authURL := publicCfg(s).AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	alice, mallory := browser(t, s), browser(t, s)
	form := consentFormIn(t, alice, authURL)
	if form.Get(FieldCSRF) == "" {
		t.Fatalf("no %s field in the consent form: %v", FieldCSRF, form)
	}
	form.Set(FieldAction, ActionAllow)
	form.Set(FieldSubject, "alice")
	malloryForm := consentFormIn(t, mallory, authURL)

	refused := map[string]struct {
		c    *http.Client
		edit func(url.Values)
	}{
		"no token":                        {alice, func(f url.Values) { f.Del(FieldCSRF) }},
		"empty token":                     {alice, func(f url.Values) { f.Set(FieldCSRF, "") }},
		"wrong token":                     {alice, func(f url.Values) { f.Set(FieldCSRF, strings.Repeat("A", len(f.Get(FieldCSRF)))) }},
		"two tokens":                      {alice, func(f url.Values) { f.Add(FieldCSRF, malloryForm.Get(FieldCSRF)) }},
		"another browser's token":         {alice, func(f url.Values) { f.Set(FieldCSRF, malloryForm.Get(FieldCSRF)) }},
		"no cookie":                       {httpClient(s), func(url.Values) {}},
		"the token in a cookie-less deny": {httpClient(s), func(f url.Values) { f.Set(FieldAction, ActionDeny) }},
	}
	for name, c := range refused {
		f := maps.Clone(form)
		for k, v := range f {
			f[k] = slices.Clone(v)
		}
		c.edit(f)
		res := postConsentIn(t, c.c, s, f)
		if res.status != http.StatusForbidden || res.location != nil || !strings.Contains(res.body, "access_denied") {
			t.Errorf("%s: status %d location %v body %s, want 403 access_denied without redirect", name, res.status, res.location, res.body)
		}
	}
	if res := postConsentIn(t, alice, s, form); res.param("code") == "" {
		t.Fatalf("the browser's own form: %d %v %s", res.status, res.location, res.body)
	}
	// The binding is to the browser, not to one page view: a second form in the same
	// browser works too.
	again := consentFormIn(t, alice, authURL)
	again.Set(FieldAction, ActionDeny)
	if res := postConsentIn(t, alice, s, again); res.param("error") != "access_denied" || res.param("state") != "state-12345678" {
		t.Errorf("deny with a valid token: %d %v", res.status, res.location)
	}
}

// TestConsentWithoutCSRF: the default keeps the consent form open to any POST.
func TestConsentWithoutCSRF(t *testing.T) {
	s := startIdP(t, Config{})
	form := url.Values{"response_type": {"code"}, "client_id": {"test-client"}, "redirect_uri": {testRedirect},
		"scope": {"openid"}, "state": {"state-12345678"}, FieldAction: {ActionAllow}}
	if res := postConsent(t, s, form); res.param("code") == "" {
		t.Errorf("a bare POST without consent_csrf: %d %v %s", res.status, res.location, res.body)
	}
}
