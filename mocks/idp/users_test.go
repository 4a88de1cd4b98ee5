package idp

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"
)

// TestUndeclaredSubjectRefused: like a real IdP refusing a login, the mock redirects an
// authorization for a subject it does not declare back with access_denied.
func TestUndeclaredSubjectRefused(t *testing.T) {
	auto := startIdP(t, Config{AutoApprove: true, Users: aliceUsers})
	consent := startIdP(t, Config{Users: aliceUsers})
	cases := []struct {
		name string
		run  func(t *testing.T) authorizeResult
	}{
		{"auto-approve login_hint", func(t *testing.T) authorizeResult {
			return getAuthorize(t, auto, publicCfg(auto).AuthCodeURL("state-12345678", oauth2.SetAuthURLParam("login_hint", "mallory")))
		}},
		{"consent subject field", func(t *testing.T) authorizeResult {
			form := consentForm(t, consent, publicCfg(consent).AuthCodeURL("state-12345678"))
			form.Set(FieldSubject, "mallory")
			form.Set(FieldAction, ActionAllow)
			return postConsent(t, consent, form)
		}},
		{"consent login_hint, subject field left empty", func(t *testing.T) authorizeResult {
			form := consentForm(t, consent, publicCfg(consent).AuthCodeURL("state-12345678", oauth2.SetAuthURLParam("login_hint", "mallory")))
			form.Set(FieldSubject, "")
			form.Set(FieldAction, ActionAllow)
			return postConsent(t, consent, form)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := c.run(t)
			if res.status != http.StatusSeeOther && res.status != http.StatusFound {
				t.Fatalf("status %d, want a redirect to the client; body %s", res.status, res.body)
			}
			if !strings.HasPrefix(res.location.String(), testRedirect) || res.param("error") != "access_denied" ||
				res.param("state") != "state-12345678" || res.param("code") != "" {
				t.Errorf("location = %v, want %s?error=access_denied&state=...", res.location, testRedirect)
			}
			if d := res.param("error_description"); !strings.Contains(d, "mallory") {
				t.Errorf("error_description %q does not name the unknown subject", d)
			}
		})
	}
	// A declared subject still logs in on the same servers.
	if res := getAuthorize(t, auto, publicCfg(auto).AuthCodeURL("state-12345678", oauth2.SetAuthURLParam("login_hint", "alice"))); res.param("code") == "" {
		t.Errorf("declared subject refused: %v", res.location)
	}
}

func TestAddUser(t *testing.T) {
	s := startIdP(t, Config{AutoApprove: true, SignTokens: true})
	hint := oauth2.SetAuthURLParam("login_hint", "bob")
	if res := getAuthorize(t, s, publicCfg(s).AuthCodeURL("state-12345678", hint)); res.param("error") != "access_denied" {
		t.Fatalf("bob before AddUser: %v", res.location)
	}
	claims := map[string]any{"email": "bob@example.com", "tenant": "builders"}
	if err := s.AddUser(User{Subject: "bob", Claims: claims}); err != nil {
		t.Fatalf("AddUser: %v", err)
	}
	claims["tenant"] = "edited after AddUser" // the IdP must keep its own copy

	tok := codeTokens(t, s, hint)
	in := mustIntrospect(t, s, tok.AccessToken)
	if in.Subject != "bob" || in.Claims["tenant"] != "builders" || in.Claims["email"] != "bob@example.com" {
		t.Errorf("introspection = %+v", in)
	}
	idClaims := verifyJWT(t, s, tok.Extra("id_token").(string))
	if idClaims["sub"] != "bob" || idClaims["tenant"] != "builders" {
		t.Errorf("id token claims = %v", idClaims)
	}
	atClaims := verifyJWT(t, s, tok.AccessToken)
	if atClaims["sub"] != "bob" || atClaims["tenant"] != "builders" {
		t.Errorf("access token claims = %v", atClaims)
	}
	if status, info := getJSON(t, s, "/userinfo", tok.AccessToken); status != http.StatusOK || info["sub"] != "bob" || info["email"] != "bob@example.com" {
		t.Errorf("userinfo = %d %v", status, info)
	}

	for _, bad := range []User{{Subject: "bob"}, {Subject: DefaultSubject}, {Subject: ""}} {
		if err := s.AddUser(bad); err == nil {
			t.Errorf("AddUser(%q) succeeded, want an error", bad.Subject)
		}
	}
}

// TestAddUserConcurrent declares users while authorizations run; -race catches
// unsynchronised access to the user table.
func TestAddUserConcurrent(t *testing.T) {
	s := startIdP(t, Config{AutoApprove: true})
	const n = 6
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			errs <- s.AddUser(User{Subject: fmt.Sprintf("user-%d", i), Claims: map[string]any{"n": i}})
		}()
		go func() {
			defer wg.Done()
			// No t.Fatal off the test goroutine: errors go through errs.
			resp, err := httpClient(s).Get(publicCfg(s).AuthCodeURL("state-12345678"))
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if loc, _ := resp.Location(); loc == nil || loc.Query().Get("code") == "" {
				errs <- fmt.Errorf("authorization %d: status %d location %v", i, resp.StatusCode, loc)
				return
			}
			errs <- nil
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for i := range n {
		if res := getAuthorize(t, s, publicCfg(s).AuthCodeURL("state-12345678", oauth2.SetAuthURLParam("login_hint", fmt.Sprintf("user-%d", i)))); res.param("code") == "" {
			t.Errorf("user-%d cannot log in after AddUser: %v", i, res.location)
		}
	}
}
