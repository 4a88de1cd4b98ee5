package idp

import (
	"net"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestUserScopes: a user with Scopes gets only those of the requested scopes, so a client
// cannot obtain a scope for a user who may not have it; other users get what they ask.
func TestUserScopes(t *testing.T) {
	s := startIdP(t, Config{AutoApprove: true, SignTokens: true, Scopes: []string{"openid", "read", "admin"},
		Users: []User{{Subject: "alice"}, {Subject: "bob", Scopes: []string{"openid", "read"}}}})
	cfg := oauthConfig(s, "test-client", "", testRedirect, "openid", "read", "admin")
	for sub, want := range map[string]string{"alice": "openid read admin", "bob": "openid read"} {
		v := oauth2.GenerateVerifier()
		code := codeFor(t, s, cfg, oauth2.S256ChallengeOption(v), oauth2.SetAuthURLParam("login_hint", sub))
		tok, err := cfg.Exchange(clientCtx(s), code, oauth2.VerifierOption(v))
		if err != nil {
			t.Fatalf("%s: Exchange: %v", sub, err)
		}
		if got := tok.Extra("scope"); got != want {
			t.Errorf("%s: token response scope = %v, want %q", sub, got, want)
		}
		if got := strings.Join(mustIntrospect(t, s, tok.AccessToken).Scope, " "); got != want {
			t.Errorf("%s: introspected scope = %q, want %q", sub, got, want)
		}
	}
}

// TestMount: a mounted IdP publishes its endpoints under the given origin and serves them
// through Handler on a listener it does not own.
func TestMount(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	origin := "http://" + ln.Addr().String()
	s, err := Mount(Config{AutoApprove: true, SignTokens: true}, origin)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s.Handler()}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close(); _ = s.Close() })

	if s.Issuer() != origin || s.URL() != origin || s.Port() != ln.Addr().(*net.TCPAddr).Port {
		t.Fatalf("issuer %q url %q port %d, want %q", s.Issuer(), s.URL(), s.Port(), origin)
	}
	status, meta := getJSON(t, s, "/.well-known/oauth-authorization-server", "")
	if status != http.StatusOK || meta["issuer"] != origin || meta["token_endpoint"] != origin+"/token" {
		t.Fatalf("metadata %d %v", status, meta)
	}
	tok := codeTokens(t, s)
	if in := mustIntrospect(t, s, tok.AccessToken); !in.Active || in.Issuer != origin {
		t.Fatalf("introspection %+v", in)
	}

	for _, bad := range []string{"ftp://127.0.0.1:1", "http://127.0.0.1", "http://127.0.0.1:1/path", "::"} {
		if _, err := Mount(Config{}, bad); err == nil {
			t.Errorf("Mount(%q) succeeded", bad)
		}
	}
	if _, err := Mount(Config{UseTLS: true}, origin); err == nil {
		t.Error("Mount with UseTLS succeeded")
	}
	// A server that serves TLS itself mounts the IdP on its https origin.
	if s, err := Mount(Config{}, "https://127.0.0.1:1"); err != nil || s.Issuer() != "https://127.0.0.1:1" {
		t.Errorf("Mount(https origin) = %v; want issuer https://127.0.0.1:1", err)
	} else {
		s.Close()
	}
}
