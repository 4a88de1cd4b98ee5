package oauthclient_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/oauthclient"
	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/mocks/idpauth"
	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// world is a mock IdP and a protected mock MCP server that trusts it.
type world struct {
	idp *idp.Server
	mcp *mcpserver.Server
}

type worldOptions struct {
	idp        idp.Config
	scope      string // required by the MCP server
	legacyOnly bool
}

func startWorld(t testing.TB, o worldOptions) *world {
	t.Helper()
	ctx := context.Background()
	if len(o.idp.Scopes) == 0 {
		o.idp.Scopes = []string{"openid", "mcp:read", "mcp:write"}
	}
	if len(o.idp.Users) == 0 {
		o.idp.Users = []idp.User{{Subject: "alice", Claims: map[string]any{"tenant": "a"}}, {Subject: "bob"}}
	}
	provider, err := idp.Start(ctx, o.idp)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = provider.Close() })
	srv, err := mcpserver.Start(ctx, mcpserver.Config{
		Authority:  idpauth.New(provider),
		LegacyOnly: o.legacyOnly,
		OAuth:      mcpserver.OAuthConfig{Required: true, Scope: o.scope},
		Tools: []mcpserver.ToolConfig{
			{Name: "whoami", EchoToken: true, Responses: []mcpserver.ResponseConfig{{Response: "hello"}}},
			{Name: "other", Responses: []mcpserver.ResponseConfig{{Response: "x"}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return &world{idp: provider, mcp: srv}
}

func newClient(t testing.TB, cfg oauthclient.Config) *oauthclient.Client {
	t.Helper()
	c, err := oauthclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// phaseNames lists the phases' names in order, adjacent repeats folded.
func phaseNames(ps []oauthclient.Phase) []string {
	var out []string
	for _, p := range ps {
		if len(out) == 0 || out[len(out)-1] != p.Name {
			out = append(out, p.Name)
		}
	}
	return out
}

func requirePhases(t testing.TB, ps []oauthclient.Phase, want ...string) {
	t.Helper()
	got := phaseNames(ps)
	i := 0
	for _, name := range got {
		if i < len(want) && name == want[i] {
			i++
		}
	}
	if i < len(want) {
		t.Fatalf("phases %v do not contain %v in order", got, want)
	}
}

func hasProblem(d *oauthclient.Discovery, code string) bool {
	return slices.ContainsFunc(d.Problems, func(p oauthclient.Problem) bool { return p.Code == code })
}

func mustContain(t testing.TB, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", parts)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not contain %q", err, p)
		}
	}
}
