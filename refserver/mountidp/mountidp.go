// Package mountidp mounts a mock IdP (mocks/idp) on a reference server's origin, for
// refserver.Config.WithAS: one process is then the authorization server and the resource
// server. It is apart from package refserver so that a binary serving --issuer alone
// (muster-test-child) does not link fosite, whose package init costs every start.
package mountidp

import (
	"cmp"
	"io"
	"maps"
	"net/http"
	"slices"

	"github.com/muster-test/muster-test/mocks/bearer"
	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/mocks/idpauth"
	"github.com/muster-test/muster-test/refserver"
)

// Mount is a refserver.MountAS: the mock IdP at origin, with the policy's users (their
// tenant as a claim) and every scope the server knows, the admin scope only for admin
// users.
func Mount(cfg refserver.Config, p refserver.Policy, origin string) (refserver.AuthorizationServer, error) {
	scopes := []string{"openid", "profile", "email", p.Scope, p.AdminScope}
	var users []idp.User
	for _, u := range p.Users {
		claims := maps.Clone(u.Claims)
		if claims == nil {
			claims = map[string]any{}
		}
		claims[p.TenantClaim] = u.Tenant
		user := idp.User{Subject: u.Subject, Claims: claims}
		if !u.Admin {
			user.Scopes = slices.DeleteFunc(slices.Clone(scopes), func(sc string) bool { return sc == p.AdminScope })
		}
		users = append(users, user)
	}
	s, err := idp.Mount(idp.Config{Name: "reference-server", Scopes: scopes, AutoApprove: *p.AutoApprove,
		PKCERequired: true, SignTokens: true, Users: users, TokenLifetime: p.ParsedTokenLifetime(),
		UseMockClock: cfg.MockClock, ClientID: p.ClientID, ClientSecret: p.ClientSecret,
		SigningAlgorithm: cmp.Or(cfg.SigningAlgorithm, idp.AlgES256)}, origin)
	if err != nil {
		return nil, err
	}
	return mounted{Authority: idpauth.New(s), idp: s}, nil
}

// Start starts a reference server with a mounted mock IdP (cfg.WithAS and cfg.MountAS
// set).
func Start(cfg refserver.Config) (*refserver.Server, error) {
	cfg.WithAS, cfg.MountAS = true, Mount
	return refserver.Start(cfg)
}

// Main is refserver.Main with --with-as mounting a mock IdP.
func Main(args []string, stdout, stderr io.Writer) int {
	return refserver.Main(args, stdout, stderr, Mount)
}

// IdP is the mock IdP mounted on s, nil when s mounts none (or another kind); tests mint
// tokens and move the clock with it.
func IdP(s *refserver.Server) *idp.Server {
	if m, ok := s.AS().(mounted); ok {
		return m.idp
	}
	return nil
}

type mounted struct {
	bearer.Authority
	idp *idp.Server
}

func (m mounted) Handler() http.Handler { return m.idp.Handler() }
func (m mounted) Close() error          { return m.idp.Close() }
