package oauthclient_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/oauthclient"
	"github.com/muster-test/muster-test/mocks/idp"
)

// TestLoginAndCall: a full headless login against the real mock IdP (each registration
// method, JWT and opaque tokens, consent page and auto-approve), then a tools/call whose
// echo shows the token the server saw.
func TestLoginAndCall(t *testing.T) {
	cases := []struct {
		name        string
		idp         idp.Config
		cfg         oauthclient.Config
		wantMethod  string
		wantSubject string
	}{
		{"cimd auto-approve jwt", idp.Config{AutoApprove: true, SignTokens: true, PKCERequired: true},
			oauthclient.Config{User: oauthclient.User{Subject: "alice"}}, oauthclient.RegisterCIMD, "alice"},
		{"dcr consent page opaque", idp.Config{PKCERequired: true},
			oauthclient.Config{Registration: oauthclient.RegisterDCR, User: oauthclient.User{Subject: "bob"}}, oauthclient.RegisterDCR, "bob"},
		{"preregistered confidential", idp.Config{AutoApprove: true, ClientID: "pre", ClientSecret: "s3cret-value"},
			oauthclient.Config{ClientID: "pre", ClientSecret: "s3cret-value", User: oauthclient.User{Subject: "alice"}}, oauthclient.RegisterPreregistered, "alice"},
		{"preregistered public, first user", idp.Config{AutoApprove: true},
			oauthclient.Config{ClientID: "test-client"}, oauthclient.RegisterPreregistered, "alice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := startWorld(t, worldOptions{idp: tc.idp, scope: "mcp:read"})
			ctx := testCtx(t)
			c := newClient(t, tc.cfg)
			res, err := c.Login(ctx, w.mcp.URL())
			if err != nil {
				t.Fatalf("login: %v\nphases: %v", err, res.Phases)
			}
			if res.Registration.Method != tc.wantMethod {
				t.Errorf("registration %q, want %q", res.Registration.Method, tc.wantMethod)
			}
			if res.RequestedScope != "mcp:read" || res.Scope != "mcp:read" {
				t.Errorf("scope requested %q granted %q, want mcp:read from the challenge", res.RequestedScope, res.Scope)
			}
			if !res.HasRefreshToken || res.ExpiresAt.Before(time.Now()) {
				t.Errorf("refresh token %v, expiry %v", res.HasRefreshToken, res.ExpiresAt)
			}
			if p := res.Discovery.Fatal(); p != nil {
				t.Errorf("fatal problem %+v", p)
			}
			requirePhases(t, res.Phases, oauthclient.PhaseProbe, oauthclient.PhasePRM, oauthclient.PhaseASMetadata,
				oauthclient.PhaseAuthorize, oauthclient.PhaseCallback, oauthclient.PhaseToken)
			if tc.idp.SignTokens {
				if res.Claims["sub"] != tc.wantSubject || !audienceHas(res.Claims["aud"], w.mcp.URL()) {
					t.Errorf("claims %v: want sub %s and aud %s (the RFC 8707 resource)", res.Claims, tc.wantSubject, w.mcp.URL())
				}
			} else if res.Claims != nil {
				t.Errorf("claims %v of an opaque token", res.Claims)
			}

			s, err := c.Connect(ctx, w.mcp.URL())
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer s.Close()
			out, err := s.CallTool(ctx, "whoami", nil)
			if err != nil || out.IsError {
				t.Fatalf("call: %v %+v", err, out)
			}
			calls := w.mcp.CallsTo("whoami")
			if len(calls) != 1 || calls[0].Subject != tc.wantSubject {
				t.Fatalf("server saw calls %+v, want one by %s", calls, tc.wantSubject)
			}
			if _, err := json.Marshal(res); err != nil {
				t.Errorf("result does not marshal: %v", err)
			}
		})
	}
}

func audienceHas(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		return slices.Contains(a, any(want))
	}
	return false
}

// TestLazyLoginAndRefresh: a session opened without a login logs in at the first 401; when
// the IdP's clock passes the token's expiry the next call is refreshed and retried.
func TestLazyLoginAndRefresh(t *testing.T) {
	w := startWorld(t, worldOptions{idp: idp.Config{AutoApprove: true, UseMockClock: true, TokenLifetime: time.Minute}, scope: "mcp:read"})
	ctx := testCtx(t)
	c := newClient(t, oauthclient.Config{User: oauthclient.User{Subject: "bob"}})
	s, err := c.Connect(ctx, w.mcp.URL())
	if err != nil {
		t.Fatalf("connect: %v\n%v", err, c.Phases())
	}
	defer s.Close()
	first, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.idp.Clock().Advance(2 * time.Minute)
	if _, err := s.CallTool(ctx, "whoami", nil); err != nil {
		t.Fatalf("call after expiry: %v\n%v", err, c.Phases())
	}
	second, _ := c.Token(ctx)
	if second.AccessToken == first.AccessToken {
		t.Fatal("the token was not replaced")
	}
	requirePhases(t, c.Phases(), oauthclient.PhaseMCPRejected, oauthclient.PhaseToken, oauthclient.PhaseMCPRejected, oauthclient.PhaseRefresh)
	if calls := w.mcp.CallsTo("whoami"); len(calls) != 1 || calls[0].Subject != "bob" {
		t.Fatalf("calls %+v", calls)
	}
}

// TestLoginNegative: each deliberate misbehaviour is caught where a strict authorization
// server or the client's own checks catch it.
func TestLoginNegative(t *testing.T) {
	cases := []struct {
		name   string
		idp    idp.Config
		faults oauthclient.Faults
		user   oauthclient.User
		want   []string // in the error
		code   string   // the OAuth error code
	}{
		{"skip PKCE", idp.Config{AutoApprove: true, PKCERequired: true}, oauthclient.Faults{SkipPKCE: true}, oauthclient.User{}, []string{"error=invalid_request"}, "invalid_request"},
		{"plain PKCE", idp.Config{AutoApprove: true}, oauthclient.Faults{PlainPKCE: true}, oauthclient.User{}, []string{"error="}, ""},
		{"wrong verifier", idp.Config{AutoApprove: true}, oauthclient.Faults{WrongVerifier: true}, oauthclient.User{}, []string{"token request answered 400 invalid_grant"}, "invalid_grant"},
		{"omit state", idp.Config{AutoApprove: true}, oauthclient.Faults{OmitState: true, IgnoreState: true}, oauthclient.User{}, []string{"error=invalid_state"}, "invalid_state"},
		{"wrong state", idp.Config{AutoApprove: true}, oauthclient.Faults{WrongState: true}, oauthclient.User{}, []string{"state", "is not the state sent"}, ""},
		{"unknown subject", idp.Config{AutoApprove: true}, oauthclient.Faults{}, oauthclient.User{Subject: "mallory"}, []string{"error=access_denied", "mallory"}, "access_denied"},
		{"deny on the consent page", idp.Config{}, oauthclient.Faults{}, oauthclient.User{Subject: "alice", Deny: true}, []string{"error=access_denied"}, "access_denied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := startWorld(t, worldOptions{idp: tc.idp})
			c := newClient(t, oauthclient.Config{Faults: tc.faults, User: tc.user})
			res, err := c.Login(testCtx(t), w.mcp.URL())
			mustContain(t, err, tc.want...)
			var oe *oauthclient.OAuthError
			if tc.code != "" && (!errors.As(err, &oe) || oe.Code != tc.code) {
				t.Errorf("error %v: want OAuth error %s", err, tc.code)
			}
			if res == nil || len(res.Phases) == 0 || res.Phases[len(res.Phases)-1].Error == "" && !strings.Contains(err.Error(), "answered") {
				t.Errorf("the failing phase is not recorded: %v", res.Phases)
			}
		})
	}
}

// TestWrongStateIgnored: with the state check off, the forged state goes through (the
// fault shows what a client without the check would accept).
func TestWrongStateIgnored(t *testing.T) {
	w := startWorld(t, worldOptions{idp: idp.Config{AutoApprove: true}})
	c := newClient(t, oauthclient.Config{Faults: oauthclient.Faults{WrongState: true, IgnoreState: true}})
	if _, err := c.Login(testCtx(t), w.mcp.URL()); err != nil {
		t.Fatal(err)
	}
}

// TestOmitResource: without the RFC 8707 resource the token names no audience.
func TestOmitResource(t *testing.T) {
	w := startWorld(t, worldOptions{idp: idp.Config{AutoApprove: true, SignTokens: true}})
	c := newClient(t, oauthclient.Config{Faults: oauthclient.Faults{OmitResource: true}})
	res, err := c.Login(testCtx(t), w.mcp.URL())
	if err != nil {
		t.Fatal(err)
	}
	if audienceHas(res.Claims["aud"], w.mcp.URL()) {
		t.Fatalf("aud %v names the server although no resource was sent", res.Claims["aud"])
	}
}

// TestStepUp: a server that asks for more scope with a 403 gets a second authorization
// asking for the union, then the call succeeds.
func TestStepUp(t *testing.T) {
	w := startWorld(t, worldOptions{idp: idp.Config{AutoApprove: true}, scope: "mcp:read mcp:write"})
	ctx := testCtx(t)
	c := newClient(t, oauthclient.Config{Scope: "mcp:read"})
	if _, err := c.Login(ctx, w.mcp.URL()); err != nil {
		t.Fatal(err)
	}
	s, err := c.Connect(ctx, w.mcp.URL())
	if err != nil {
		t.Fatalf("connect: %v\n%v", err, c.Phases())
	}
	defer s.Close()
	if got := c.Scopes(); !slices.Contains(got, "mcp:write") || !slices.Contains(got, "mcp:read") {
		t.Fatalf("scopes after step-up %v", got)
	}
	requirePhases(t, c.Phases(), oauthclient.PhaseToken, oauthclient.PhaseMCPRejected, oauthclient.PhaseToken, oauthclient.PhaseStepUp)
}

// TestProtocolRevisions: the session negotiates the newest revision both sides speak (the
// stateless 2026-07-28 one has no session id), and a pinned revision is either spoken
// exactly or refused.
func TestProtocolRevisions(t *testing.T) {
	cases := []struct {
		pin, wantProtocol string
		legacyOnly        bool
		wantErr           string
	}{
		{"", "2026-07-28", false, ""},
		{"", "2025-11-25", true, ""},
		{"2025-06-18", "2025-06-18", false, ""},
		{"2025-11-25", "2025-11-25", true, ""},
		{"2026-07-28", "2026-07-28", false, ""},
		{"2026-07-28", "", true, "protocol 2026-07-28 was pinned, but the server settled on 2025-11-25"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("pin=%s legacyOnly=%v", tc.pin, tc.legacyOnly), func(t *testing.T) {
			w := startWorld(t, worldOptions{idp: idp.Config{AutoApprove: true}, legacyOnly: tc.legacyOnly})
			ctx := testCtx(t)
			c := newClient(t, oauthclient.Config{Protocol: tc.pin})
			if _, err := c.Login(ctx, w.mcp.URL()); err != nil {
				t.Fatal(err)
			}
			s, err := c.Connect(ctx, w.mcp.URL())
			if tc.wantErr != "" {
				mustContain(t, err, tc.wantErr)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if s.Protocol != tc.wantProtocol || (s.SessionID == "") != (tc.wantProtocol == "2026-07-28") {
				t.Errorf("protocol %q session %q, want %q", s.Protocol, s.SessionID, tc.wantProtocol)
			}
			tools, err := s.ListTools(ctx)
			if err != nil || len(tools) != 2 {
				t.Fatalf("tools %v %v", tools, err)
			}
			if _, err := s.CallTool(ctx, "whoami", nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRefreshFailsThenLogin: when the token has expired by the client's clock and the
// refresh is refused (everything revoked at the IdP), the request is not lost: the stale
// token's 401 leads to a new login and the call goes through.
func TestRefreshFailsThenLogin(t *testing.T) {
	// Below golang.org/x/oauth2's 10 s expiry margin the token counts as expired at once.
	w := startWorld(t, worldOptions{idp: idp.Config{AutoApprove: true, TokenLifetime: 5 * time.Second}})
	ctx := testCtx(t)
	c := newClient(t, oauthclient.Config{User: oauthclient.User{Subject: "alice"}})
	s, err := c.Connect(ctx, w.mcp.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if w.idp.RevokeAll() == 0 {
		t.Fatal("nothing revoked")
	}
	if _, err := s.CallTool(ctx, "whoami", nil); err != nil {
		t.Fatalf("call: %v\n%v", err, c.Phases())
	}
	ps := c.Phases()
	failedRefresh := slices.IndexFunc(ps, func(p oauthclient.Phase) bool { return p.Name == oauthclient.PhaseRefresh && p.Status == 400 })
	if failedRefresh < 0 || !slices.ContainsFunc(ps[failedRefresh:], func(p oauthclient.Phase) bool { return p.Name == oauthclient.PhaseToken && p.Status == 200 }) {
		t.Fatalf("want a refused refresh, then a new token: %v", phaseNames(ps))
	}
}
