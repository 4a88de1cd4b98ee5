package refserver_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/muster-test/muster-test/refserver"
	"github.com/muster-test/muster-test/refserver/mountidp"
)

func TestParsePolicy(t *testing.T) {
	p, err := refserver.ParsePolicy([]byte(`
tenant_claim: org
tenants:
  red: [echo, admin_purge]
users:
  - {subject: dora, tenant: red, admin: true, claims: {email: dora@example.com}}
auto_approve: false
token_lifetime: 90s
`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Scope != "tools:call" || p.AdminScope != "admin" || p.TenantClaim != "org" || *p.AutoApprove ||
		len(p.Tenants) != 1 || len(p.Users) != 1 || p.Users[0].Claims["email"] != "dora@example.com" {
		t.Errorf("policy %+v", p)
	}
	def, err := refserver.ParsePolicy(nil)
	if err != nil || len(def.Users) != 3 || len(def.Tenants) != 2 || !*def.AutoApprove || def.TenantClaim != "tenant_id" {
		t.Errorf("empty document: %+v %v", def, err)
	}
	// JSON is YAML.
	if j, err := refserver.ParsePolicy([]byte(`{"scope": "mcp", "tenants": {"t": ["echo"]}, "users": []}`)); err != nil ||
		j.Scope != "mcp" || len(j.Users) != 0 {
		t.Errorf("JSON policy: %+v %v", j, err)
	}
	for doc, says := range map[string]string{
		"colour: red":                            "field colour not found",
		"tenants: {t: [rm_rf]}":                  `unknown tool "rm_rf"`,
		"users: [{tenant: tenant-a}]":            "subject is required",
		"users: [{subject: x}]":                  "tenant is required",
		"users: [{subject: x, tenant: nowhere}]": `tenant "nowhere" is not under tenants`,
		"users: [{subject: x, tenant: tenant-a}, {subject: x, tenant: tenant-a}]": "declared twice",
		"token_lifetime: soon":    "token_lifetime",
		"admin_scope: tools:call": "must differ from scope",
	} {
		if _, err := refserver.ParsePolicy([]byte(doc)); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%q: %v, want an error saying %q", doc, err, says)
		}
	}
}

// TestPolicyApplies: a policy's tenants, tenant claim, users and scopes reach the mounted
// IdP and the server.
func TestPolicyApplies(t *testing.T) {
	p, err := refserver.ParsePolicy([]byte(`
scope: mcp
admin_scope: root
tenant_claim: org
tenants: {red: [echo, admin_purge]}
users: [{subject: dora, tenant: red}]
`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := mountidp.Start(refserver.Config{Policy: p})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	e := env{s: s}
	a := e.rpc(t, "/mcp", "", "", "initialize", initParams)
	if !strings.Contains(a.challenge(), `scope="mcp"`) {
		t.Errorf("challenge %q does not name the policy's scope", a.challenge())
	}
	dora := e.token(t, grant{sub: "dora", scopes: []string{"mcp"}})
	if got := strings.Join(toolNames(t, e.connect(t, dora)), " "); got != "admin_purge echo" {
		t.Errorf("dora sees %s", got)
	}
	a = e.rpc(t, "/mcp", dora, e.initialize(t, dora), "tools/call", toolCall("admin_purge", map[string]any{"confirm": true}))
	if a.status != http.StatusForbidden || !strings.Contains(a.challenge(), `scope="mcp root"`) {
		t.Errorf("dora admin_purge: %d %q", a.status, a.challenge())
	}
	if mountidp.IdP(s).HasUser("alice") || !mountidp.IdP(s).HasUser("dora") {
		t.Error("the mounted IdP's users are not the policy's")
	}
}
