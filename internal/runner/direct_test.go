package runner

import (
	"os"
	"strings"
	"testing"
)

// TestDirectMode runs direct-mode scenarios that must pass:
//   - a sut block starts a command (here the reference SUT, configured through files and
//     world templates) and the runner tests it as any server; world templates resolve in
//     expectations too;
//   - a user of a protected server who did not log in opens its session at its first call,
//     without a token, and that call fails like any failed call;
//   - minted tokens (good, expired, forged, unsigned) sent as raw requests to a protected
//     server, and commands run with test_exec;
//   - discovery and logins through the reference server's own authorization server, each
//     user's calls with its token, and its audit log read back.
func TestDirectMode(t *testing.T) {
	driver, err := ChooseDriver(SUTOptions{Kind: "builtin", Self: muster})
	if err != nil {
		t.Fatal(err)
	}
	for file, wantOut := range map[string]string{
		"direct-refsut.yaml":    "",
		"direct-protected.yaml": "nothing was started, so isolation from other scenarios is up to you",
		"direct-tokens.yaml":    "",
		"direct-login.yaml":     "",
	} {
		t.Run(file, func(t *testing.T) {
			o := runFiles(t, driver, "../../testdata/e2e/"+file)
			if o.code != ExitOK || !strings.Contains(o.stdout, wantOut) {
				t.Fatalf("exit %d, want 0 and output with %q:\n%s", o.code, wantOut, o.stdout)
			}
		})
	}
}

// TestDirectModeNeverReady: a command that never listens is an ERROR within the ready
// timeout, with its output.
func TestDirectModeNeverReady(t *testing.T) {
	t.Setenv(fakeSUTEnv, "never-ready")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	so := SUTOptions{Self: muster, Command: []string{self, "--port", "{{ .sut.port }}"}}
	driver, err := ChooseDriver(so)
	if err != nil {
		t.Fatal(err)
	}
	o := runFilesWith(t, driver, so, "../../testdata/e2e/plain.yaml")
	if o.code != ExitFailed || !strings.Contains(o.stdout, "SUT not ready after "+testReadyTimeout.String()) ||
		!strings.Contains(o.stdout, "fake SUT starting in mode never-ready") {
		t.Fatalf("exit %d:\n%s", o.code, o.stdout)
	}
}
