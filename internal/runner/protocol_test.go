package runner

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/scenario"
)

// withStep writes the scenario file src into dir with the YAML of extra steps appended
// and each edit (old -> new) applied, and returns its path.
func withStep(t *testing.T, src, dir, name string, extra string, edits ...string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(text, edits[i]) {
			t.Fatalf("%s has no %q to edit", src, edits[i])
		}
		text = strings.Replace(text, edits[i], edits[i+1], 1)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(strings.TrimRight(text, "\n")+"\n"+extra), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDirectModeProtocols runs the same direct-mode scenario (logins, calls through each
// user's session, an audit log) negotiated, pinned with --protocol to each revision, and
// pinned by the sut block, and checks on the reference server's audit log that every call
// went out on the revision meant: the server records each call's MCP-Protocol-Version.
func TestDirectModeProtocols(t *testing.T) {
	if len(scenario.ProtocolVersions) != 3 {
		t.Fatalf("revisions %v: this test covers three", scenario.ProtocolVersions)
	}
	driver, err := ChooseDriver(SUTOptions{Kind: "builtin", Self: muster})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, flag, block, want string }{
		{name: "negotiated", want: "2026-07-28"},
		{name: "--protocol 2026-07-28", flag: "2026-07-28", want: "2026-07-28"},
		{name: "--protocol 2025-11-25", flag: "2025-11-25", want: "2025-11-25"},
		{name: "--protocol 2025-06-18", flag: "2025-06-18", want: "2025-06-18"},
		{name: "sut.protocol 2025-06-18", block: "2025-06-18", want: "2025-06-18"},
		{name: "--protocol overrides sut.protocol", flag: "2025-11-25", block: "2025-06-18", want: "2025-11-25"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var others []string
			for _, v := range scenario.ProtocolVersions {
				if v != c.want {
					others = append(others, `'\"protocol\":\"`+v+`\"'`)
				}
			}
			check := `  - id: audited-protocol
    tool: test_exec
    args: {command: [cat, audit.jsonl]}
    expected: {success: true, contains: ['\"protocol\":\"` + c.want + `\"'], not_contains: [` + strings.Join(others, ", ") + `]}
`
			var edits []string
			if c.block != "" {
				edits = []string{"  ready: {log:", "  protocol: \"" + c.block + "\"\n  ready: {log:"}
			}
			file := withStep(t, "../../testdata/e2e/direct-login.yaml", t.TempDir(), "direct-login.yaml", check, edits...)
			so := SUTOptions{Kind: "builtin", Self: muster, Protocol: c.flag}
			o := runFilesWith(t, driver, so, file)
			if o.code != ExitOK {
				t.Fatalf("exit %d, want 0:\n%s", o.code, o.stdout)
			}
		})
	}
}

// TestPinnedProtocolTheSUTDoesNotSpeak: the reference SUT speaks only the revisions with
// the initialize handshake; pinned to 2026-07-28 its scenario is an ERROR at once (not
// after the ready timeout) that names both revisions.
func TestPinnedProtocolTheSUTDoesNotSpeak(t *testing.T) {
	so := SUTOptions{Kind: "builtin", Self: muster, Protocol: "2026-07-28"}
	driver, err := ChooseDriver(so)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	o := runFilesWith(t, driver, so, "../../testdata/e2e/plain.yaml")
	const want = "MCP protocol 2026-07-28 was pinned, but the SUT does not speak it: it settled on 2025-11-25"
	if o.code != ExitFailed || !strings.Contains(o.stdout, want) {
		t.Fatalf("exit %d, want 1 with %q:\n%s", o.code, want, o.stdout)
	}
	if took := time.Since(start); took >= testReadyTimeout {
		t.Errorf("took %s: the mismatch waited for the ready timeout", took)
	}
}

// TestDirectModeHTTPS: the built-in https scenario passes with its ca_file; without it
// the login fails on the untrusted certificate and says to set ca_file; a ca_file that
// is missing or holds no certificate is the scenario's ERROR, naming the file.
func TestDirectModeHTTPS(t *testing.T) {
	driver, err := ChooseDriver(SUTOptions{Kind: "builtin", Self: muster})
	if err != nil {
		t.Fatal(err)
	}
	const src = "../../scenarios/direct-https.yaml"
	caLine := "  ca_file: \"{{ .tempdir }}/ca.pem\"\n"
	cases := []struct {
		name  string
		edits []string
		code  int
		want  []string
	}{
		{name: "with ca_file", code: ExitOK},
		// The readiness check over https waits for the CA the server writes, then trusts it.
		{name: "ready over https", edits: []string{`ready: {log: "reference-server listening on"}`, "ready: {http: /.well-known/oauth-protected-resource}"}, code: ExitOK},
		{name: "without ca_file", edits: []string{caLine, ""}, code: ExitFailed,
			want: []string{"step:        discover", "x509: certificate signed by unknown authority",
				"set ca_file in the scenario's sut block to that CA's PEM file"}},
		{name: "missing ca_file", edits: []string{caLine, "  ca_file: \"{{ .tempdir }}/nope.pem\"\n"}, code: ExitFailed,
			want: []string{"ERROR", "sut.ca_file: read CA file: open ", "nope.pem: no such file or directory"}},
		{name: "ca_file without a certificate", edits: []string{caLine, "  ca_file: \"{{ .tempdir }}/bad.pem\"\n  files: {bad.pem: \"not a certificate\"}\n"},
			code: ExitFailed, want: []string{"ERROR", "sut.ca_file: CA file ", "bad.pem holds no PEM certificate"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := withStep(t, src, t.TempDir(), "direct-https.yaml", "", c.edits...)
			o := runFiles(t, driver, file)
			if o.code != c.code {
				t.Fatalf("exit %d, want %d:\n%s", o.code, c.code, o.stdout)
			}
			for _, w := range c.want {
				if !strings.Contains(o.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, o.stdout)
				}
			}
		})
	}
}
