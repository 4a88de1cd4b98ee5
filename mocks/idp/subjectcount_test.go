package idp

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// TestSubjectCountsRefusals: a request is counted for the owner of the token it names
// whether or not it is answered: a revocation, and a userinfo call refused because the
// token was revoked or expired. A token the IdP never issued has no owner: it is counted
// in the endpoint's total only.
func TestSubjectCountsRefusals(t *testing.T) {
	s := startIdP(t, Config{UseMockClock: true, Users: []User{{Subject: "alice"}, {Subject: "bob"}}})
	issue := func(sub string, life time.Duration) string {
		tok, err := s.IssueToken(context.Background(), IssueOptions{Subject: sub, Scopes: []string{"openid"}, Lifetime: life})
		if err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken
	}
	revoke := func(token string) {
		t.Helper()
		if r := postForm(t, s, "/revoke", url.Values{"token": {token}, "client_id": {"test-client"}}, "", ""); r.status != http.StatusOK {
			t.Fatalf("revoke: %d %v", r.status, r.body)
		}
	}
	userinfo := func(token string, want int) {
		t.Helper()
		if st, body := getJSON(t, s, "/userinfo", token); st != want {
			t.Fatalf("userinfo: %d %v, want %d", st, body, want)
		}
	}
	alice := issue("alice", 0)
	userinfo(alice, http.StatusOK)
	revoke(alice)
	userinfo(alice, http.StatusUnauthorized)
	revoke(alice) // RFC 7009: revoking a revoked token succeeds; still alice's

	bob := issue("bob", time.Minute)
	s.Clock().Advance(2 * time.Minute)
	userinfo(bob, http.StatusUnauthorized)

	userinfo("never-issued", http.StatusUnauthorized)
	revoke("never-issued")

	sc := s.SubjectCounters()
	if a := sc["alice"]; a.UserInfo != 2 || a.Revoke != 2 {
		t.Errorf("alice: %d userinfo, %d revoke; want 2 (one refused) and 2", a.UserInfo, a.Revoke)
	}
	if b := sc["bob"]; b.UserInfo != 1 {
		t.Errorf("bob: %d userinfo, want 1 (refused: expired)", b.UserInfo)
	}
	if len(sc) != 2 {
		t.Errorf("subjects %v: want alice and bob only (a never-issued token has no owner)", sc)
	}
	if c := s.Counters(); c.UserInfo != 4 || c.Revoke != 3 {
		t.Errorf("totals: %d userinfo, %d revoke; want 4 and 3", c.UserInfo, c.Revoke)
	}
}

// TestSubjectFaultOnExchange: a fault planned for one subject applies to a token exchange
// whose subject token is that subject's, and the exchange is counted for that subject,
// also when the fault refused it.
func TestSubjectFaultOnExchange(t *testing.T) {
	up := startIdP(t, Config{SignTokens: true, Users: []User{{Subject: "alice"}, {Subject: "bob"}}})
	s := startIdP(t, Config{TrustedIssuers: []TrustedIssuer{{Server: up}},
		Faults: []Fault{{Endpoint: EndpointToken, Grant: grantTokenExchange, Subject: "alice", OAuthError: "temporarily_unavailable"}}})
	subjectToken := func(sub string) string {
		tok, err := up.IssueToken(context.Background(), IssueOptions{Subject: sub, Scopes: []string{"openid"}})
		if err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken
	}
	if r := exchange(t, s, subjectToken("bob"), TokenTypeAccessToken); r.status != http.StatusOK {
		t.Errorf("bob's exchange: %d %v, want 200 (the fault is alice's)", r.status, r.body)
	}
	if r := exchange(t, s, subjectToken("alice"), TokenTypeAccessToken); r.status != http.StatusServiceUnavailable {
		t.Errorf("alice's exchange: %d %v, want the planned 503", r.status, r.body)
	}
	if r := exchange(t, s, subjectToken("alice"), TokenTypeAccessToken); r.status != http.StatusOK {
		t.Errorf("alice's second exchange: %d %v, want 200 once the fault is used up", r.status, r.body)
	}
	if r := exchange(t, s, "not-a-token", TokenTypeAccessToken); r.status != http.StatusBadRequest {
		t.Errorf("exchange of a bad subject token: %d %v, want 400", r.status, r.body)
	}
	sc := s.SubjectCounters()
	if sc["alice"].Exchange != 2 || sc["bob"].Exchange != 1 || len(sc) != 2 {
		t.Errorf("subject counters %+v: want alice 2 exchanges, bob 1, nobody else", sc)
	}
}

// TestExchangedTokenOnMockClock: an exchanged token lives TokenLifetime on the IdP clock,
// whatever the wall clock says: its expires_in, exp and iat are the mock clock's, and it
// expires when the mock clock passes its lifetime, not before.
func TestExchangedTokenOnMockClock(t *testing.T) {
	const life = 10 * time.Minute
	up := startIdP(t, Config{SignTokens: true, Users: aliceUsers})
	s := startIdP(t, Config{UseMockClock: true, TokenLifetime: life, TrustedIssuers: []TrustedIssuer{{Server: up}}})
	// Far from the wall clock, so that a stamp taken on it shows.
	s.Clock().Advance(3 * time.Hour)
	sub, err := up.IssueToken(context.Background(), IssueOptions{Subject: "alice", Scopes: []string{"openid"}})
	if err != nil {
		t.Fatal(err)
	}
	r := exchange(t, s, sub.AccessToken, TokenTypeAccessToken)
	if r.status != http.StatusOK {
		t.Fatalf("exchange: %d %v", r.status, r.body)
	}
	if ei, _ := r.body["expires_in"].(float64); time.Duration(ei)*time.Second != life {
		t.Errorf("expires_in %v, want %v", r.body["expires_in"], life)
	}
	token := r.body["access_token"].(string)
	in := mustIntrospect(t, s, token)
	now := s.Clock().Now() // frozen since the exchange
	if !in.IssuedAt.Equal(now.Truncate(time.Second)) || !in.ExpiresAt.Equal(now.Add(life)) {
		t.Errorf("iat %v, exp %v: want iat the mock clock's now (%v, to the second) and exp the lifetime after it",
			in.IssuedAt, in.ExpiresAt, now)
	}
	s.Clock().Advance(life - time.Second)
	if !mustIntrospect(t, s, token).Active {
		t.Error("the exchanged token expired before its lifetime had passed on the mock clock")
	}
	s.Clock().Advance(time.Second)
	if mustIntrospect(t, s, token).Active {
		t.Error("the exchanged token is active after its lifetime on the mock clock")
	}
}
