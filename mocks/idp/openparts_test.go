package idp

import (
	"net/http"
	"strings"
	"testing"
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
