package idp

import (
	"context"
	"net/url"
	"testing"

	"golang.org/x/oauth2"
)

// TestSubjectFaults: a fault planned for one subject and grant applies to that subject's
// requests of that grant only, and the counters tell the subjects apart.
func TestSubjectFaults(t *testing.T) {
	s := startIdP(t, Config{AutoApprove: true, Users: []User{{Subject: "alice"}, {Subject: "bob"}},
		Faults: []Fault{{Endpoint: EndpointToken, Grant: "refresh_token", Subject: "alice", OAuthError: "temporarily_unavailable", Times: 2}}})
	cfg := oauthConfig(s, "test-client", "", testRedirect, "openid")
	login := func(sub string) *oauth2.Token {
		verifier := oauth2.GenerateVerifier()
		code := codeFor(t, s, cfg, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("login_hint", sub))
		tok, err := cfg.Exchange(clientCtx(s), code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("%s: code exchange (not faulted): %v", sub, err)
		}
		return tok
	}
	refresh := func(tok *oauth2.Token) oauthErr {
		return postForm(t, s, "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken},
			"client_id": {"test-client"}}, "", "")
	}
	alice, bob := login("alice"), login("bob")
	if e := refresh(bob); e.status != 200 {
		t.Errorf("bob's refresh: %d %s, want 200 (the fault is alice's)", e.status, e.code)
	}
	if e := refresh(alice); e.status != 503 || e.code != "temporarily_unavailable" {
		t.Errorf("alice's refresh: %d %s, want 503 temporarily_unavailable", e.status, e.code)
	}
	if e := refresh(alice); e.status != 503 {
		t.Errorf("alice's second refresh: %d, want the fault's second use", e.status)
	}
	if e := refresh(alice); e.status != 200 {
		t.Errorf("alice's third refresh: %d %s, want 200 once the fault is used up", e.status, e.code)
	}
	sc := s.SubjectCounters()
	if sc["alice"].Refresh != 3 || sc["bob"].Refresh != 1 || sc["alice"].AuthorizationCode != 1 || sc["alice"].Authorize != 1 {
		t.Errorf("subject counters = %+v", sc)
	}
	if c := s.Counters(); c.Refresh != 4 {
		t.Errorf("refresh count %d, want 4", c.Refresh)
	}

	alice, bob = login("alice"), login("bob") // refreshing revoked the first access tokens
	s.InjectFault(Fault{Endpoint: EndpointUserInfo, Subject: "bob", Status: 500})
	if st, _ := getJSON(t, s, "/userinfo", alice.AccessToken); st != 200 {
		t.Errorf("alice's userinfo: %d, want 200", st)
	}
	if st, _ := getJSON(t, s, "/userinfo", bob.AccessToken); st != 500 {
		t.Errorf("bob's userinfo: %d, want the planned 500", st)
	}
}

func TestFaultChecked(t *testing.T) {
	for _, f := range []Fault{{Endpoint: "tokn"}, {Endpoint: EndpointUserInfo, Grant: "refresh_token"}, {Endpoint: EndpointToken, Times: -1}} {
		if s, err := Start(context.Background(), Config{Faults: []Fault{f}}); err == nil {
			s.Close()
			t.Errorf("fault %+v accepted", f)
		}
	}
}
