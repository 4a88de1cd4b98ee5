package refserver_test

import (
	"context"
	"net/http"
	"regexp"
	"testing"

	"golang.org/x/oauth2"

	"github.com/muster-test/muster-test/refserver"
)

var resourceMetadataRE = regexp.MustCompile(`resource_metadata="([^"]+)"`)

// login runs what an MCP client does against the server with its mounted IdP: the 401
// challenge, the PRM, the authorization server metadata, then the code flow with PKCE and
// the resource indicator, logging in as sub.
func login(t *testing.T, e env, sub string, scopes ...string) *oauth2.Token {
	t.Helper()
	a := e.rpc(t, "/mcp", "", "", "initialize", initParams)
	m := resourceMetadataRE.FindStringSubmatch(a.challenge())
	if a.status != http.StatusUnauthorized || m == nil {
		t.Fatalf("challenge: %d %q", a.status, a.challenge())
	}
	prmReq, _ := http.NewRequest(http.MethodGet, m[1], nil)
	prm := do(t, prmReq).body
	resource, _ := prm["resource"].(string)
	servers, _ := prm["authorization_servers"].([]any)
	if len(servers) != 1 {
		t.Fatalf("PRM %v", prm)
	}
	metaReq, _ := http.NewRequest(http.MethodGet, servers[0].(string)+"/.well-known/oauth-authorization-server", nil)
	meta := do(t, metaReq).body
	cfg := &oauth2.Config{ClientID: "test-client", RedirectURL: "http://127.0.0.1:9/callback", Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: meta["authorization_endpoint"].(string), TokenURL: meta["token_endpoint"].(string),
			AuthStyle: oauth2.AuthStyleInParams}}
	verifier := oauth2.GenerateVerifier()
	res := oauth2.SetAuthURLParam("resource", resource)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(cfg.AuthCodeURL("state-12345678", oauth2.S256ChallengeOption(verifier), res,
		oauth2.SetAuthURLParam("login_hint", sub)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %v", resp.StatusCode, loc)
	}
	tok, err := cfg.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier), res)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestLoginWithAS: a client that discovers everything from the 401 logs in at the mounted
// IdP and uses the MCP server; the login, not the client, decides who gets the admin scope.
func TestLoginWithAS(t *testing.T) {
	e := start(t)
	alice := login(t, e, "alice", "tools:call", "admin")
	if alice.Extra("scope") != "tools:call admin" {
		t.Errorf("alice granted %v", alice.Extra("scope"))
	}
	if text, isErr, err := call(e.connect(t, alice.AccessToken), refserver.ToolAdminPurge, map[string]any{"confirm": true}); err != nil || isErr {
		t.Errorf("alice admin_purge: %q %v %v", text, isErr, err)
	}
	bob := login(t, e, "bob", "tools:call", "admin")
	if bob.Extra("scope") != "tools:call" {
		t.Errorf("bob granted %v, want tools:call only", bob.Extra("scope"))
	}
	a := e.rpc(t, "/mcp", bob.AccessToken, e.initialize(t, bob.AccessToken), "tools/call",
		toolCall(refserver.ToolAdminPurge, map[string]any{"confirm": true}))
	if a.status != http.StatusForbidden {
		t.Errorf("bob admin_purge: %d %q", a.status, a.challenge())
	}
}
