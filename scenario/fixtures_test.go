package scenario_test

import (
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/mocks/mcpserver"
	"github.com/muster-test/muster-test/scenario"
)

// loadOne loads a fixture that must have no errors.
func loadOne(t *testing.T, path string) *scenario.Scenario {
	t.Helper()
	set := loader.LoadPaths(path)
	if len(set.Errors) != 0 || len(set.Scenarios) != 1 {
		t.Fatalf("%s: %d scenarios, errors %v", path, len(set.Scenarios), set.Errors)
	}
	return set.Scenarios[0]
}

// eq reports a mismatch of one spot-checked value under its name.
func eq(t *testing.T, name string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", name, got, want)
	}
}

func TestGoodFixtureValues(t *testing.T) {
	file := filepath.Join(testdata, "good", "full.yaml")
	s := loadOne(t, file)
	eq(t, "Pos", s.Pos, scenario.Pos{File: file, Line: 2, Col: 1})
	eq(t, "Name", s.Name, "full-format")
	eq(t, "Tags", s.Tags, []string{"oauth", "sso"})
	eq(t, "Timeout", s.Timeout.D(), 90*time.Minute)

	// The loader fills the mocks' own config types: what the runner starts is exactly this.
	pc := s.PreConfiguration
	corp := pc.MockOAuthServers[0]
	eq(t, "corp-idp", corp.Config, idp.Config{Name: "corp-idp", Issuer: "https://idp.example",
		Scopes: []string{"openid", "mcp:read"}, AutoApprove: true, PKCERequired: true, TokenLifetime: 45 * time.Second,
		ClientID: "corp-client", ClientSecret: "s3cret", RefreshTokenLifetime: 24 * time.Hour, SimulateError: "invalid_grant",
		UseMockClock: true, UseTLS: true, SignTokens: true,
		Users: []idp.User{{Subject: "alice-sub", Claims: map[string]any{"tenant": "acme", "groups": []any{"admins"}}}}})
	eq(t, "corp-idp scenario part", []any{corp.Pos, corp.UseAsMusterOAuthServer, corp.TrustedIssuers}, []any{
		scenario.Pos{File: file, Line: 12, Col: 7}, false,
		[]scenario.TrustedIssuer{{ConnectorID: "github", OAuthServerRef: "github-idp", Pos: scenario.Pos{File: file, Line: 27, Col: 11}}}})
	eq(t, "github-idp", pc.MockOAuthServers[1].Config, idp.Config{Name: "github-idp"})

	prot := pc.MCPServers[0]
	if prot.Mock == nil {
		t.Fatal("protected: a config with tools must be decoded into Mock")
	}
	eq(t, "prot.Config[type]", prot.Config["type"], "streamable-http")
	no := false
	eq(t, "protected", *prot.Mock, mcpserver.Config{Type: "streamable-http", ToolPrefix: "prot",
		Description: "a protected mock", AutoStart: &no,
		OAuth: mcpserver.OAuthConfig{Required: true, MockOAuthServerRef: "corp-idp", Scope: "mcp:read",
			Audience: "https://protected.example", TrustIssuerRef: "github-idp", ExpectedAudience: "aud", ForwardToken: true,
			TokenExchange: map[string]any{"enabled": true}},
		Tools: []mcpserver.ToolConfig{{Name: "get_secret", Description: "returns a secret", EchoToken: true,
			InputSchema: map[string]any{"type": "object",
				"properties": map[string]any{"id": map[string]any{"type": "string", "default": "1"}}},
			Responses: []mcpserver.ResponseConfig{
				{Condition: map[string]any{"id": "2"}, Response: map[string]any{"secret": "two-{{ .id }}"}, Delay: 250 * time.Millisecond},
				{Error: "no secret {{ .id }}", Echo: "whatever"},
				{Response: []any{"a", 1, true}},
			}}}})
	eq(t, "protected is HTTP", prot.HTTPMock(), true)
	eq(t, "stdio-mock", *pc.MCPServers[1].Mock, mcpserver.Config{Tools: []mcpserver.ToolConfig{{Name: "ping",
		Responses: []mcpserver.ResponseConfig{{Response: "pong"}}}}})
	eq(t, "stdio-mock is HTTP", pc.MCPServers[1].HTTPMock(), false)
	real := pc.MCPServers[2]
	eq(t, "real.Mock", real.Mock, (*mcpserver.Config)(nil))
	eq(t, "real.Config", real.Config, map[string]any{"type": "stdio", "command": "/usr/bin/real-mcp",
		"args": []any{"--port", 0}, "env": map[string]any{"TOKEN": "x"}, "autoStart": true})
	eq(t, "workflows", pc.Workflows[0].Config["steps"], []any{map[string]any{"id": "s1", "tool": "x_{{ .input.server }}_op"}})
	eq(t, "services", pc.Services[0], scenario.NamedConfig{Name: "svc", Config: map[string]any{"serviceClassName": "sc"}, Pos: scenario.Pos{File: file, Line: 81, Col: 7}})
	eq(t, "service_classes", pc.ServiceClasses[0]["name"], "sc")
	eq(t, "main_config", pc.MainConfig.Config, map[string]any{"aggregator": map[string]any{"port": 0}})
	eq(t, "muster_broker", pc.MusterBroker, map[string]any{"enabled": true})

	auth := s.Steps[1]
	eq(t, "auth.Pos", auth.Pos, scenario.Pos{File: file, Line: 97, Col: 5})
	eq(t, "auth scalars", []any{auth.AsUser, auth.Timeout.D(), auth.ContinueOnFailure, auth.Parallel},
		[]any{"bob", 10 * time.Second, true, 4})
	eq(t, "auth.Retry", *auth.Retry, scenario.Retry{Count: 3, Delay: scenario.Duration(200 * time.Millisecond), BackoffMultiplier: 1.5})
	ex := auth.Expected
	eq(t, "expected", []any{*ex.Success, ex.Contains, ex.NotContains, ex.ErrorContains, ex.WaitForState.D(), *ex.StatusCode},
		[]any{true, []string{"success"}, []string{"error"}, []string{}, 2 * time.Minute, 200})
	eq(t, "expected.JSONPath", ex.JSONPath, map[string]any{"status_code": 200, `a."b.c".0`: "x"})
	eq(t, "expected.Pos", ex.Pos.Line, 106)
	eq(t, "auth.Cleanup", auth.Cleanup, []scenario.Step{{Tool: "test_revoke_token", Args: map[string]any{"server": "corp-idp"},
		Pos: scenario.Pos{File: file, Line: 116, Col: 9}}})
	eq(t, "cleanup item WantSuccess", auth.Cleanup[0].Expected.WantSuccess(), true)

	call := s.Steps[2]
	eq(t, "call.Args", call.Args, map[string]any{"id": "{{ auth.status_code }}",
		"nested": []any{"{{ .create-bob.name }}", map[string]any{"deep": "{{ .input.x }}"}}})
	eq(t, "call WantSuccess", call.Expected.WantSuccess(), false)
	eq(t, "cleanup ids", []string{s.Cleanup[0].ID, s.Cleanup[1].ID}, []string{"switch-back", "read"})
}

// TestMusterFormatFixtures: our files in muster's format (testdata/scenarios/muster-format)
// load without errors and with the values they were written to mean.
func TestMusterFormatFixtures(t *testing.T) {
	dir := filepath.Join(testdata, "muster-format")
	set := loader.LoadPaths(dir)
	for _, e := range set.Errors {
		t.Errorf("%s", e)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) != 6 || len(set.Scenarios) != len(files) {
		t.Fatalf("got %d scenarios from %d files, want one per file and 6 files", len(set.Scenarios), len(files))
	}
	if len(set.Warnings) != 1 || set.Warnings[0].Pos.String() != filepath.Join(dir, "workflow-created-at-runtime.yaml")+":74:7" {
		t.Errorf("want the repeated id of workflow-created-at-runtime.yaml:74:7 as the only warning, got %v", set.Warnings)
	}
	byName := map[string]*scenario.Scenario{}
	for _, s := range set.Scenarios {
		byName[s.Name] = s
	}
	named := func(name string) *scenario.Scenario {
		t.Helper()
		s := byName[name]
		if s == nil {
			t.Fatalf("no scenario named %q", name)
		}
		return s
	}

	public := named("format-public-tools-beside-idp")
	eq(t, "public timeout", public.Timeout.D(), time.Minute)
	eq(t, "public idp pkce (key absent)", public.PreConfiguration.MockOAuthServers[0].PKCERequired, false)
	parcels := public.PreConfiguration.MCPServers[0].Mock
	eq(t, "parcels oauth", parcels.OAuth, mcpserver.OAuthConfig{})
	eq(t, "parcels list", parcels.Tools[0].Responses[0].Response, map[string]any{"parcels": []any{
		map[string]any{"code": "P-100", "weight_kg": 3, "fragile": false},
		map[string]any{"code": "P-200", "weight_kg": 12, "fragile": true}}})
	find := parcels.Tools[1]
	eq(t, "find required", find.InputSchema["required"], []any{"code"})
	eq(t, "find condition", find.Responses[0].Condition, map[string]any{"code": "P-100"})
	eq(t, "find fallback condition", find.Responses[1].Condition, map[string]any(nil))
	eq(t, "all-idps args", public.Steps[0].Args, map[string]any{})

	login := named("format-login-before-and-after")
	eq(t, "login pkce", login.PreConfiguration.MockOAuthServers[0].PKCERequired, true)
	eq(t, "ledger oauth", login.PreConfiguration.MCPServers[0].Mock.OAuth,
		mcpserver.OAuthConfig{Required: true, MockOAuthServerRef: "books-idp", Scope: "ledger:write"})
	eq(t, "notices oauth", login.PreConfiguration.MCPServers[1].Mock.OAuth, mcpserver.OAuthConfig{})

	sso := named("format-sso-within-one-issuer")
	eq(t, "port idp client", sso.PreConfiguration.MockOAuthServers[1].ClientID, "")
	eq(t, "harbour oauth", sso.PreConfiguration.MCPServers[2].Mock.OAuth,
		mcpserver.OAuthConfig{Required: true, MockOAuthServerRef: "port-idp"})
	eq(t, "harbour not_contains", sso.Steps[8].Expected.NotContains, []string{"Successfully connected"})

	clock := named("format-clock-and-injected-token")
	idps := clock.PreConfiguration.MockOAuthServers
	eq(t, "clock idps", []any{idps[0].UseMockClock, idps[0].TokenLifetime, idps[1].UseMockClock, idps[1].TokenLifetime},
		[]any{true, 30 * time.Minute, false, 45 * time.Second})
	eq(t, "advance args", clock.Steps[4].Args, map[string]any{"server": "meter-idp", "duration": "2h"})
	inject := clock.Steps[6]
	eq(t, "inject tool", inject.Tool, "test_inject_token")
	eq(t, "inject expires_in", inject.Args["expires_in"], 1800)
	eq(t, "inject pos", inject.Pos.Line, 126)

	wfArgs := named("format-workflow-arguments")
	wf := wfArgs.PreConfiguration.Workflows[0]
	eq(t, "workflow name", wf.Name, "announce-release")
	eq(t, "workflow args", wf.Config["args"], map[string]any{
		"version": map[string]any{"type": "string", "required": true},
		"channel": map[string]any{"type": "string", "default": "#general", "required": false}})
	eq(t, "workflow step", wf.Config["steps"], []any{map[string]any{"id": "post-note", "tool": "x_megaphone_shout",
		"args": map[string]any{"line": "Release {{ .input.version }} is out, see {{ .input.channel }}"}, "store": true}})
	megaphone := wfArgs.PreConfiguration.MCPServers[0].Mock
	eq(t, "megaphone kind", []any{megaphone.Type, wfArgs.PreConfiguration.MCPServers[0].HTTPMock()}, []any{"", false})
	eq(t, "megaphone response", megaphone.Tools[0].Responses[0].Response, map[string]any{"shouted": "{{ .line }}"})
	eq(t, "steps at column 0", wfArgs.Steps[0].Pos, scenario.Pos{File: filepath.Join(dir, "workflow-preconfigured-args.yaml"), Line: 46, Col: 3})
	missing := wfArgs.Steps[2].Expected
	eq(t, "missing arg", []any{missing.WantSuccess(), missing.ErrorContains}, []any{false, []string{"required field", "version", "missing"}})
	eq(t, "integer arg", wfArgs.Steps[3].Args["version"], 240)

	rt := named("format-workflow-runtime")
	eq(t, "runtime pre_configuration", rt.PreConfiguration, (*scenario.PreConfiguration)(nil))
	eq(t, "create args", rt.Steps[0].Args["steps"], []any{map[string]any{"id": "services", "tool": "core_service_list"},
		map[string]any{"id": "classes", "tool": "core_serviceclass_list"}})
	eq(t, "cleanup with id", []string{rt.Steps[0].Cleanup[0].ID, rt.Steps[0].Cleanup[0].Tool}, []string{"drop-stocktake", "core_workflow_delete"})
	eq(t, "cleanup without id", []any{rt.Steps[1].Cleanup[0].ID, rt.Steps[1].Cleanup[0].Args}, []any{"", map[string]any{"name": "shelf-check"}})
	eq(t, "step without args", rt.Steps[3].Args, map[string]any(nil))
	eq(t, "json_path scalar", rt.Steps[4].Expected.JSONPath, map[string]any{"available": true})
	eq(t, "json_path list", rt.Steps[6].Expected.JSONPath, map[string]any{"workflows": []any{
		map[string]any{"name": "audit-trail", "available": true},
		map[string]any{"name": "shelf-check", "available": true},
		map[string]any{"name": "stocktake", "available": true}}})
	eq(t, "template arg", rt.Steps[8].Args["execution_id"], "{{ run-audit.execution_id }}")
	eq(t, "scenario cleanup", []any{rt.Cleanup[0].ID, rt.Cleanup[0].Expected.WantSuccess()}, []any{"delete-audit-trail", true})
}
