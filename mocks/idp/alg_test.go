package idp

import (
	"context"
	"crypto/ecdsa"
	"slices"
	"testing"

	jose "github.com/go-jose/go-jose/v3"
	"golang.org/x/oauth2"
)

// TestES256: an IdP configured for ES256 publishes a P-256 key, says so in its metadata,
// and signs ID tokens, JWT access tokens and minted tokens with it; a token signed with a
// foreign key of the same kind does not verify.
func TestES256(t *testing.T) {
	s := startIdP(t, Config{AutoApprove: true, PKCERequired: true, SignTokens: true, SigningAlgorithm: AlgES256, Users: aliceUsers})
	ks := s.JWKS()
	if len(ks.Keys) != 1 || ks.Keys[0].Algorithm != AlgES256 {
		t.Fatalf("JWKS = %+v, want one ES256 key", ks.Keys)
	}
	if _, ok := ks.Keys[0].Key.(*ecdsa.PublicKey); !ok {
		t.Fatalf("JWKS key is %T, want *ecdsa.PublicKey", ks.Keys[0].Key)
	}
	_, meta := getJSON(t, s, "/.well-known/openid-configuration", "")
	if algs, _ := meta["id_token_signing_alg_values_supported"].([]any); !slices.Equal(algs, []any{AlgES256}) {
		t.Errorf("id_token_signing_alg_values_supported = %v, want [ES256]", meta["id_token_signing_alg_values_supported"])
	}

	cfg := oauthConfig(s, "test-client", "", testRedirect, "openid")
	verifier := oauth2.GenerateVerifier()
	code := codeFor(t, s, cfg, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("resource", testResource))
	tok, err := cfg.Exchange(clientCtx(s), code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	for name, jwt := range map[string]string{"access token": tok.AccessToken, "ID token": tok.Extra("id_token").(string)} {
		jws, err := jose.ParseSigned(jwt)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if alg := jws.Signatures[0].Header.Algorithm; alg != AlgES256 {
			t.Errorf("%s signed %s, want ES256", name, alg)
		}
		if claims := verifyJWT(t, s, jwt); claims["sub"] != "test-user-123" {
			t.Errorf("%s claims = %v", name, claims)
		}
	}
	if in := mustIntrospect(t, s, tok.AccessToken); !in.Active {
		t.Error("the ES256 access token is not active at introspection")
	}

	minted, err := s.MintJWT(MintOptions{Claims: map[string]any{"sub": "alice"}})
	if err != nil {
		t.Fatal(err)
	}
	if claims := verifyJWT(t, s, minted); claims["sub"] != "alice" {
		t.Errorf("minted claims = %v", claims)
	}
	foreign, err := s.MintJWT(MintOptions{Claims: map[string]any{"sub": "alice"}, SignWith: SignWithForeignKey})
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSigned(foreign)
	if err != nil {
		t.Fatal(err)
	}
	if jws.Signatures[0].Header.Algorithm != AlgES256 {
		t.Errorf("foreign token signed %s, want ES256 like the IdP", jws.Signatures[0].Header.Algorithm)
	}
	if _, err := jws.Verify(ks.Keys[0]); err == nil {
		t.Error("a token of a foreign ES256 key verified at the IdP's key")
	}
}

func TestSigningAlgorithmChecked(t *testing.T) {
	if s, err := Start(context.Background(), Config{SigningAlgorithm: "HS256"}); err == nil {
		s.Close()
		t.Fatal("HS256 accepted")
	}
}
