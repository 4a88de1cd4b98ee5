package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/runner"
	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/mocks/idpauth"
	"github.com/muster-test/muster-test/mocks/mcpserver"
	"github.com/muster-test/muster-test/refserver"
	"github.com/muster-test/muster-test/refserver/mountidp"
)

func startProtected(t *testing.T, cfg idp.Config) string {
	t.Helper()
	ctx := context.Background()
	provider, err := idp.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = provider.Close() })
	srv, err := mcpserver.Start(ctx, mcpserver.Config{
		Authority: idpauth.New(provider),
		OAuth:     mcpserver.OAuthConfig{Required: true, Scope: "openid"},
		Tools: []mcpserver.ToolConfig{
			{Name: "greet", Responses: []mcpserver.ResponseConfig{{Response: "hello {{ name }}"}}},
			{Name: "broken", Responses: []mcpserver.ResponseConfig{{Error: "it broke"}}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv.URL()
}

func runClientCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	o, err := parseClientArgs(args, &bytes.Buffer{})
	if err != nil {
		return runner.ExitUsage, "", err.Error()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := clientMain(ctx, o, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestClientCommand(t *testing.T) {
	url := startProtected(t, idp.Config{AutoApprove: true, PKCERequired: true})
	code, out, errOut := runClientCmd(t, url, "--call", "greet", "--args", `{"name":"ada"}`, "--debug")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"logged in: cimd client http://127.0.0.1:", `scope "openid"`, "session: protocol 2026-07-28",
		"tools (2): broken, greet", "call greet: hello ada"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	for _, want := range []string{"phase: probe POST", "phase: prm GET", "phase: as-metadata GET", "phase: authorize GET", "phase: token POST http://localhost:"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("--debug output lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut, "code_verifier=") {
		t.Errorf("debug output shows a verifier:\n%s", errOut)
	}
}

func TestClientCommandFailures(t *testing.T) {
	url := startProtected(t, idp.Config{AutoApprove: true, ClientID: "pre", ClientSecret: "right-secret"})
	cases := []struct {
		name string
		args []string
		env  string
		code int
		want string
	}{
		{"tool error", []string{url, "--call", "broken"}, "", runner.ExitFailed, "tool broken answered an error"},
		{"unknown tool", []string{url, "--call", "nope"}, "", runner.ExitFailed, "tools/call nope"},
		{"wrong secret", []string{url, "--client-id", "pre", "--client-secret", "wrong"}, "", runner.ExitFailed, "invalid_client"},
		{"conformance context", []string{url}, `{"name":"x","client_id":"pre","client_secret":"wrong"}`, runner.ExitFailed, "invalid_client"},
		{"unknown user", []string{url, "--user", "nobody"}, "", runner.ExitFailed, "access_denied"},
		{"bad protocol", []string{url, "--protocol", "1999-01-01"}, "", runner.ExitUsage, "--protocol"},
		{"bad args", []string{url, "--args", "[1]"}, "", runner.ExitUsage, "not a JSON object"},
		{"no URL", []string{"--call", "x"}, "", runner.ExitUsage, "want exactly one server URL"},
		{"nothing listening", []string{"http://127.0.0.1:1/mcp"}, "", runner.ExitFailed, "probe_failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("MCP_CONFORMANCE_CONTEXT", tc.env)
			code, out, errOut := runClientCmd(t, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d (want %d), stderr %q (want %q)\nstdout %s", code, tc.code, errOut, tc.want, out)
			}
		})
	}
}

// TestClientProtocolAndCAFile: --protocol pins the session's revision; --ca-file makes the
// client trust a server on https whose CA the system does not know, which it refuses
// without it.
func TestClientProtocolAndCAFile(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	s, err := mountidp.Start(refserver.Config{SelfSignedTLS: true, WriteCA: caFile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	code, out, errOut := runClientCmd(t, s.URL(), "--ca-file", caFile, "--user", "alice", "--protocol", "2025-06-18",
		"--call", "echo", "--args", `{"message":"tls"}`)
	if code != 0 || !strings.Contains(out, "session: protocol 2025-06-18, session id mcp-session-") || !strings.Contains(out, "tls") {
		t.Fatalf("exit %d, want 0 with a 2025-06-18 session and the echo\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = runClientCmd(t, s.URL(), "--user", "alice")
	if code != runner.ExitFailed || !strings.Contains(errOut, "x509: certificate signed by unknown authority") {
		t.Fatalf("without --ca-file: exit %d, want 1 with the x509 error\n%s\n%s", code, out, errOut)
	}
	code, _, errOut = runClientCmd(t, s.URL(), "--ca-file", filepath.Join(t.TempDir(), "nope.pem"))
	if code != runner.ExitUsage || !strings.Contains(errOut, "--ca-file: read CA file") {
		t.Fatalf("missing --ca-file: exit %d, stderr %q", code, errOut)
	}
}
