package idp

import (
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3/jwt"
)

func TestMintJWT(t *testing.T) {
	s := startIdP(t, Config{Name: "mint"})
	verify := func(token string) (map[string]any, error) {
		parsed, err := jwt.ParseSigned(token)
		if err != nil {
			return nil, err
		}
		var claims map[string]any
		ks := s.JWKS()
		return claims, parsed.Claims(&ks, &claims)
	}
	good, err := s.MintJWT(MintOptions{Claims: map[string]any{"sub": "alice", "aud": "https://api"}, Type: "at+jwt"})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := verify(good)
	if err != nil || claims["sub"] != "alice" || claims["iss"] != s.Issuer() || claims["aud"] != "https://api" {
		t.Fatalf("minted token does not verify at the JWKS with its claims: %v %v", claims, err)
	}
	now := s.Clock().Now().Unix()
	if exp := int64(claims["exp"].(float64)); exp < now+3500 || exp > now+3700 {
		t.Errorf("default lifetime: exp %d, now %d", exp, now)
	}

	expired, _ := s.MintJWT(MintOptions{Claims: map[string]any{"sub": "a"}, ExpiresIn: -time.Minute, NotBefore: time.Hour})
	claims, err = verify(expired)
	if err != nil || int64(claims["exp"].(float64)) >= now || int64(claims["nbf"].(float64)) <= now {
		t.Errorf("expired/not-yet-valid token: %v %v", claims, err)
	}

	foreign, err := s.MintJWT(MintOptions{Claims: map[string]any{"sub": "a"}, SignWith: SignWithForeignKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verify(foreign); err == nil {
		t.Error("a token signed with a foreign key verified at the IdP's JWKS")
	}

	none, err := s.MintJWT(MintOptions{Claims: map[string]any{"sub": "a"}, SignWith: SignWithNone})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(none, ".") || strings.Count(none, ".") != 2 {
		t.Errorf("alg none token %q is not header.payload.", none)
	}
	if _, err := verify(none); err == nil {
		t.Error("an alg none token verified")
	}
	if _, err := s.MintJWT(MintOptions{SignWith: "hmac"}); err == nil {
		t.Error("an unknown signing mode was accepted")
	}
}
