package refserver_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/refserver"
	"github.com/muster-test/muster-test/refserver/mountidp"
)

// remoteIdP is a standalone mock IdP with two users of different tenants.
func remoteIdP(t *testing.T, cfg idp.Config) *idp.Server {
	t.Helper()
	cfg.Scopes = []string{"tools:call", "admin"}
	cfg.Users = []idp.User{{Subject: "alice", Claims: map[string]any{"tenant_id": "tenant-a"}},
		{Subject: "carol", Claims: map[string]any{"tenant_id": "tenant-b"}}}
	s, err := idp.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func startIssuer(t *testing.T, cfg refserver.Config) env {
	t.Helper()
	s, err := refserver.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return env{s: s}
}

func issue(t *testing.T, i *idp.Server, sub, aud string) string {
	t.Helper()
	tok, err := i.IssueToken(context.Background(), idp.IssueOptions{Subject: sub, Scopes: []string{"tools:call"}, Audience: []string{aud}})
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// TestIssuerJWKS: JWTs of a mock IdP given by URL are validated with its JWKS and carry
// the tenant; opaque tokens cannot be validated that way; expiry follows Config.Now.
func TestIssuerJWKS(t *testing.T) {
	signing := remoteIdP(t, idp.Config{SignTokens: true})
	var skew time.Duration
	e := startIssuer(t, refserver.Config{Issuer: signing.Issuer(), Now: func() time.Time { return time.Now().Add(skew) }})
	if e.s.Issuer() != signing.Issuer() {
		t.Fatalf("issuer %s", e.s.Issuer())
	}
	carol := issue(t, signing, "carol", e.s.URL())
	if got := strings.Join(toolNames(t, e.connect(t, carol)), " "); got != "echo export_report search_documents" {
		t.Errorf("carol sees %s", got)
	}
	opaque := remoteIdP(t, idp.Config{})
	if a := e.rpc(t, "/mcp", issue(t, opaque, "alice", e.s.URL()), "", "initialize", initParams); a.status != 401 ||
		!strings.Contains(a.challenge(), "not a JWT") {
		t.Errorf("opaque token: %d %s", a.status, a.challenge())
	}
	skew = 2 * time.Hour
	if a := e.rpc(t, "/mcp", carol, "", "initialize", initParams); a.status != 401 || !strings.Contains(a.challenge(), "expired") {
		t.Errorf("expired: %d %s", a.status, a.challenge())
	}
}

// TestIssuerIntrospection: opaque tokens are checked by RFC 7662 at the issuer, with a
// client the server registered itself or with given credentials; revocation is seen at
// once; wrong credentials make every token fail.
func TestIssuerIntrospection(t *testing.T) {
	opaque := remoteIdP(t, idp.Config{ClientSecret: "rs-secret"})
	registered := startIssuer(t, refserver.Config{Issuer: opaque.Issuer(), Introspect: true})
	given := startIssuer(t, refserver.Config{Issuer: opaque.Issuer(), Introspect: true, ClientID: opaque.ClientID(), ClientSecret: "rs-secret"})
	for name, e := range map[string]env{"registered client": registered, "given client": given} {
		alice := issue(t, opaque, "alice", e.s.URL())
		if got := strings.Join(toolNames(t, e.connect(t, alice)), " "); got != "admin_purge echo search_documents" {
			t.Errorf("%s: alice sees %s", name, got)
		}
		if a := e.rpc(t, "/mcp", issue(t, opaque, "alice", "http://127.0.0.1:1/mcp"), "", "initialize", initParams); a.status != 401 ||
			!strings.Contains(a.challenge(), "audience") {
			t.Errorf("%s: wrong audience: %d %s", name, a.status, a.challenge())
		}
	}
	alice := issue(t, opaque, "alice", given.s.URL())
	opaque.RevokeAll()
	if a := given.rpc(t, "/mcp", alice, "", "initialize", initParams); a.status != 401 || !strings.Contains(a.challenge(), "not active") {
		t.Errorf("revoked: %d %s", a.status, a.challenge())
	}
	wrong := startIssuer(t, refserver.Config{Issuer: opaque.Issuer(), Introspect: true, ClientID: opaque.ClientID(), ClientSecret: "nope"})
	if a := wrong.rpc(t, "/mcp", issue(t, opaque, "alice", wrong.s.URL()), "", "initialize", initParams); a.status != 401 ||
		!strings.Contains(a.challenge(), "introspection failed") {
		t.Errorf("wrong introspection secret: %d %s", a.status, a.challenge())
	}
}

// TestIssuerDiscoveryErrors: an issuer whose metadata names another issuer, or that is not
// an http(s) URL, is refused at start.
func TestIssuerDiscoveryErrors(t *testing.T) {
	i := remoteIdP(t, idp.Config{})
	aliased := strings.Replace(i.Issuer(), "localhost", "127.0.0.1", 1)
	if _, err := refserver.Start(refserver.Config{Issuer: aliased}); err == nil || !strings.Contains(err.Error(), "names issuer") {
		t.Errorf("issuer mismatch: %v", err)
	}
	if _, err := refserver.Start(refserver.Config{Issuer: "ftp://example.com"}); err == nil {
		t.Error("non-http issuer accepted")
	}
}

// TestMountedIntrospection: with the mounted IdP, --introspect asks it about every token,
// so a revoked token is refused at once; the JWKS mode is stateless and does not see the
// revocation before the token expires.
func TestMountedIntrospection(t *testing.T) {
	for _, introspect := range []bool{false, true} {
		e := startIssuer(t, refserver.Config{WithAS: true, MountAS: mountidp.Mount, Introspect: introspect})
		tok := e.token(t, grant{sub: "carol"})
		if got := strings.Join(toolNames(t, e.connect(t, tok)), " "); got != "echo export_report search_documents" {
			t.Errorf("introspect=%v: carol sees %s", introspect, got)
		}
		mountidp.IdP(e.s).RevokeAll()
		a := e.rpc(t, "/mcp", tok, "", "initialize", initParams)
		if refused := a.status == 401 && strings.Contains(a.challenge(), "not active"); refused != introspect {
			t.Errorf("introspect=%v: revoked token answered %d %q", introspect, a.status, a.challenge())
		}
	}
}
