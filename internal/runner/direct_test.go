package runner

import (
	"os"
	"strings"
	"testing"
)

// TestDirectModeStartsTheScenariosOwnSUT: a sut block starts a command (here the reference
// SUT, configured through files and world templates) and the runner tests it as any server;
// world templates resolve in expectations too.
func TestDirectModeStartsTheScenariosOwnSUT(t *testing.T) {
	driver, err := ChooseDriver(SUTOptions{Kind: "builtin", Self: muster})
	if err != nil {
		t.Fatal(err)
	}
	o, rec := runFiles(t, driver, "../../testdata/e2e/direct-refsut.yaml")
	if o.code != ExitOK {
		t.Fatalf("exit %d:\n%s", o.code, o.stdout)
	}
	rec.assertNothingLeft(t)
}

// TestDirectModeUnauthenticatedUser: a user of a protected server that did not log in opens
// its session at its first call, without a token, and that call fails like any failed call.
func TestDirectModeUnauthenticatedUser(t *testing.T) {
	driver, err := ChooseDriver(SUTOptions{Kind: "builtin", Self: muster})
	if err != nil {
		t.Fatal(err)
	}
	o, rec := runFiles(t, driver, "../../testdata/e2e/direct-protected.yaml")
	if o.code != ExitOK {
		t.Fatalf("exit %d:\n%s", o.code, o.stdout)
	}
	if !strings.Contains(o.stdout, "nothing was started, so isolation from other scenarios is up to you") {
		t.Errorf("a sut url must say that nothing was started:\n%s", o.stdout)
	}
	rec.assertNothingLeft(t)
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
	o, rec := runFilesWith(t, driver, so, "../../testdata/e2e/plain.yaml")
	if o.code != ExitFailed || !strings.Contains(o.stdout, "SUT not ready after 3s") ||
		!strings.Contains(o.stdout, "fake SUT starting in mode never-ready") {
		t.Fatalf("exit %d:\n%s", o.code, o.stdout)
	}
	rec.assertNothingLeft(t)
}
