package conform

import (
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	catalogue "github.com/muster-test/muster-test/conform"
)

func mustLoad(t *testing.T) *Catalogue {
	t.Helper()
	cat, err := Load(catalogue.FS)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// TestCatalogueLoads: the embedded table and check files agree, and there are at least
// 30 checks with a MUST among them.
func TestCatalogueLoads(t *testing.T) {
	cat, err := Load(catalogue.FS)
	if err != nil {
		t.Fatal(err)
	}
	musts := 0
	for _, c := range cat.Checks {
		if c.Level == Must {
			musts++
		}
	}
	if len(cat.Checks) < 30 || musts == 0 {
		t.Fatalf("%d checks, %d MUST; want at least 30 checks", len(cat.Checks), musts)
	}
}

// TestGatewayChecksDeclareTheGatewayIdP: --gateway-auth needs the gateway IdP in every
// gateway check, and the catalogue refuses one without it.
func TestGatewayChecksDeclareTheGatewayIdP(t *testing.T) {
	fsys := fstest.MapFS{}
	if err := fs.WalkDir(catalogue.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := fs.ReadFile(catalogue.FS, p)
		fsys[p] = &fstest.MapFile{Data: raw}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	f := fsys["checks/gateway-pkce-s256.yaml"]
	without := strings.Replace(string(f.Data), "name: gateway-idp", "name: gateway-idp-renamed", 1)
	if without == string(f.Data) {
		t.Fatal("gateway-pkce-s256 declares no gateway-idp to take out")
	}
	f.Data = []byte(without)
	if _, err := Load(fsys); err == nil || !strings.Contains(err.Error(), "checks/gateway-pkce-s256.yaml: a gateway check must declare the mock IdP gateway-idp") {
		t.Fatalf("got %v", err)
	}
}

// TestGatewayAuthProtectsTheGateway: with --gateway-auth a gateway check's gateway-idp
// protects the gateway (use_as_muster_oauth_server), in a copy: the catalogue's check and
// its other IdPs stay as they are.
func TestGatewayAuthProtectsTheGateway(t *testing.T) {
	c := mustLoad(t).Find("gateway-login-csrf")
	for _, auth := range []bool{false, true} {
		sc := (&target{gateway: "builtin", gatewayAuth: auth}).scenarioFor(c)
		for _, m := range sc.PreConfiguration.MockOAuthServers {
			if want := auth && m.Name == gatewayIdP; m.UseAsMusterOAuthServer != want {
				t.Errorf("auth %v: IdP %s protects the gateway: %v", auth, m.Name, m.UseAsMusterOAuthServer)
			}
		}
	}
	for _, m := range c.Scenario.PreConfiguration.MockOAuthServers {
		if m.UseAsMusterOAuthServer {
			t.Errorf("the catalogue's check was changed: IdP %s protects the gateway", m.Name)
		}
	}
}
