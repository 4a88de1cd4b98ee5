package idp

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
)

// How MintOptions.SignWith signs a token.
const (
	// SignWithIdP signs with this IdP's key: the token verifies at its JWKS.
	SignWithIdP = "idp"
	// SignWithForeignKey signs with a key the IdP's JWKS does not hold (a bad signature
	// for any verifier that trusts this IdP), under this IdP's key id.
	SignWithForeignKey = "foreign"
	// SignWithNone makes an unsigned token with `alg: none`, which no verifier may accept.
	SignWithNone = "none"
)

// MintOptions describe a JWT minted outside any OAuth flow: the tokens a negative check
// needs (expired, not yet valid, for another audience or issuer, badly signed, unsigned),
// and tokens a scenario presents as subject or actor tokens.
type MintOptions struct {
	// Claims are the token's claims. iss defaults to the IdP's issuer, iat to the IdP's
	// clock, exp to iat + ExpiresIn, jti to a random id.
	Claims map[string]any
	// ExpiresIn is the lifetime (zero: one hour); a negative one makes a token that
	// expired that long ago.
	ExpiresIn time.Duration
	// NotBefore, when positive, puts nbf that far after iat: a token not valid yet.
	NotBefore time.Duration
	// Type is the `typ` header (e.g. "at+jwt"); empty leaves it out.
	Type string
	// SignWith is SignWithIdP (default), SignWithForeignKey or SignWithNone.
	SignWith string
}

// MintJWT mints a JWT with the claims and signature the options ask for. The IdP does not
// record it: introspection does not know it, as with a token of another issuer.
func (s *Server) MintJWT(o MintOptions) (string, error) {
	now := s.clock.Now().Truncate(time.Second)
	life := o.ExpiresIn
	if life == 0 {
		life = time.Hour
	}
	claims := map[string]any{"iss": s.issuer, "iat": now.Unix(), "exp": now.Add(life).Unix(), "jti": randomID(16)}
	if o.NotBefore > 0 {
		claims["nbf"] = now.Add(o.NotBefore).Unix()
	}
	maps.Copy(claims, o.Claims)
	switch o.SignWith {
	case "", SignWithIdP:
		return s.sign(claims, o.Type, s.signKey)
	case SignWithForeignKey:
		k, err := newKey(s.signKey.Algorithm)
		if err != nil {
			return "", err
		}
		defer releaseSigner(k)
		return s.sign(claims, o.Type, &jose.JSONWebKey{Key: k, KeyID: s.signKey.KeyID, Algorithm: s.signKey.Algorithm})
	case SignWithNone:
		// go-jose refuses to produce alg none, rightly; such a token is two encoded JSON
		// documents and an empty signature.
		header := map[string]any{"alg": "none"}
		if o.Type != "" {
			header["typ"] = o.Type
		}
		h, err := json.Marshal(header)
		if err != nil {
			return "", err
		}
		p, err := json.Marshal(claims)
		if err != nil {
			return "", err
		}
		enc := base64.RawURLEncoding
		return enc.EncodeToString(h) + "." + enc.EncodeToString(p) + ".", nil
	default:
		return "", fmt.Errorf("idp: sign with %q: want %s, %s or %s", o.SignWith, SignWithIdP, SignWithForeignKey, SignWithNone)
	}
}

func (s *Server) sign(claims map[string]any, typ string, key *jose.JSONWebKey) (string, error) {
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(key.Algorithm), Key: key}, opts)
	if err != nil {
		return "", err
	}
	return jwt.Signed(signer).Claims(claims).CompactSerialize()
}
