package scenario_test

import (
	"github.com/muster-test/muster-test/scenario"
	"path/filepath"
	"reflect"
	"testing"
	"time"
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

	pc := s.PreConfiguration
	idp := pc.MockOAuthServers[0]
	eq(t, "idp.Pos", idp.Pos, scenario.Pos{File: file, Line: 12, Col: 7})
	eq(t, "idp.TokenLifetime", idp.TokenLifetime.D(), 45*time.Second)
	eq(t, "idp.RefreshTokenLifetime", idp.RefreshTokenLifetime.D(), 24*time.Hour)
	eq(t, "idp flags", []bool{idp.AutoApprove, idp.PKCERequired, idp.UseMockClock, idp.UseTLS, idp.SignTokens, idp.UseAsMusterOAuthServer},
		[]bool{true, true, true, true, true, false})
	eq(t, "idp.Scopes", idp.Scopes, []string{"openid", "mcp:read"})
	eq(t, "idp.SimulateError", idp.SimulateError, "invalid_grant")
	eq(t, "idp.TrustedIssuers", idp.TrustedIssuers, []scenario.TrustedIssuer{{ConnectorID: "github", OAuthServerRef: "github-idp", Pos: scenario.Pos{File: file, Line: 27, Col: 11}}})
	eq(t, "idp.Users", idp.Users, []scenario.User{{Subject: "alice-sub", Claims: map[string]any{"tenant": "acme", "groups": []any{"admins"}}}})

	prot := pc.MCPServers[0]
	if prot.Mock == nil {
		t.Fatal("protected: a config with tools must be decoded into Mock")
	}
	eq(t, "prot.Config[type]", prot.Config["type"], "streamable-http")
	m := prot.Mock
	eq(t, "mock header", []any{m.Type, m.ToolPrefix, m.Description, *m.AutoStart, m.IsHTTP()},
		[]any{"streamable-http", "prot", "a protected mock", false, true})
	eq(t, "mock.OAuth", *m.OAuth, scenario.MockServerOAuth{Required: true, MockOAuthServerRef: "corp-idp", Scope: "mcp:read",
		Audience: "https://protected.example", TrustIssuerRef: "github-idp", ExpectedAudience: "aud", ForwardToken: true,
		TokenExchange: map[string]any{"enabled": true}})
	tool := m.Tools[0]
	eq(t, "tool.EchoToken", tool.EchoToken, true)
	eq(t, "tool.InputSchema", tool.InputSchema, map[string]any{"type": "object",
		"properties": map[string]any{"id": map[string]any{"type": "string", "default": "1"}}})
	eq(t, "responses[0]", tool.Responses[0], scenario.MockResponse{Condition: map[string]any{"id": "2"},
		Response: map[string]any{"secret": "two-{{ .id }}"}, Delay: scenario.Duration(250 * time.Millisecond)})
	eq(t, "responses[1]", tool.Responses[1], scenario.MockResponse{Error: "no secret {{ .id }}", Echo: "whatever"})
	eq(t, "responses[2].Response", tool.Responses[2].Response, []any{"a", 1, true})

	eq(t, "stdio mock", pc.MCPServers[1].Mock != nil && !pc.MCPServers[1].Mock.IsHTTP(), true)
	real := pc.MCPServers[2]
	eq(t, "real.Mock", real.Mock, (*scenario.MockServerConfig)(nil))
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
	eq(t, "expected", []any{*ex.Success, ex.Contains, ex.NotContains, ex.ErrorContains, ex.WaitForState.D(), ex.StatusCode},
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

// TestMusterFixtures: muster's own files, unchanged, load without errors and with the
// values their authors meant.
func TestMusterFixtures(t *testing.T) {
	dir := filepath.Join(testdata, "muster")
	set := loader.LoadPaths(dir)
	for _, e := range set.Errors {
		t.Errorf("%s", e)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if len(files) < 7 || len(set.Scenarios) != len(files) {
		t.Fatalf("got %d scenarios from %d files, want one per file and at least 7", len(set.Scenarios), len(files))
	}
	if len(set.Warnings) != 1 || set.Warnings[0].Pos.String() != filepath.Join(dir, "workflow-create.yaml")+":57:7" {
		t.Errorf("want the repeated id of workflow-create.yaml:57:7 as the only warning, got %v", set.Warnings)
	}
	byName := map[string]*scenario.Scenario{}
	for _, s := range set.Scenarios {
		byName[s.Name] = s
	}

	inj := byName["oauth-token-injection"]
	eq(t, "injection timeout", inj.Timeout.D(), 2*time.Minute)
	eq(t, "injection idp lifetime", inj.PreConfiguration.MockOAuthServers[0].TokenLifetime.D(), 30*time.Minute)
	eq(t, "injection oauth ref", inj.PreConfiguration.MCPServers[0].Mock.OAuth.MockOAuthServerRef, "token-test-idp")
	eq(t, "injection expires_in", inj.Steps[1].Args["expires_in"], 3600)
	eq(t, "injection step pos", inj.Steps[1].Pos.Line, 46)

	refresh := byName["oauth-token-refresh-flow"]
	eq(t, "refresh lifetime", refresh.PreConfiguration.MockOAuthServers[0].TokenLifetime.D(), 30*time.Second)
	eq(t, "refresh data", refresh.PreConfiguration.MCPServers[0].Mock.Tools[1].Responses[0].Response,
		map[string]any{"data": []any{map[string]any{"item": "value1"}, map[string]any{"item": "value2"}}})

	sso := byName["oauth-sso-detection"]
	eq(t, "sso servers", []string{sso.PreConfiguration.MCPServers[0].Name, sso.PreConfiguration.MCPServers[1].Name},
		[]string{"server-alpha", "server-beta"})
	eq(t, "sso callback server", sso.Steps[2].Args["server"], "server-alpha")

	expiry := byName["oauth-token-expiry-handling"]
	eq(t, "expiry mock clock", expiry.PreConfiguration.MockOAuthServers[0].UseMockClock, true)

	get := byName["workflow-execution-get-basic"]
	eq(t, "template arg", get.Steps[2].Args["execution_id"], "{{ execute-workflow-for-get-test.execution_id }}")
	eq(t, "step cleanup item", get.Steps[0].Cleanup[0].Tool, "core_workflow_delete")
}
