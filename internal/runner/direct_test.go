package runner

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/muster-test/muster-test/internal/env"
	"github.com/muster-test/muster-test/scenario"
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
		"direct-refsut.yaml":    "against each scenario's own SUT (its sut block)",
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

// TestOwnSUTsOnTheFirstLine: the run's first line names the SUT the scenarios run against,
// which for a scenario with a sut block is its own, not the driver's.
func TestOwnSUTsOnTheFirstLine(t *testing.T) {
	own, muster := &scenario.Scenario{SUT: &scenario.SUT{URL: "http://127.0.0.1:1/mcp"}}, &scenario.Scenario{}
	for _, c := range []struct {
		scs  []*scenario.Scenario
		want string
	}{
		{[]*scenario.Scenario{muster, muster}, "builtin"},
		{[]*scenario.Scenario{own}, "each scenario's own SUT (its sut block)"},
		{[]*scenario.Scenario{muster, own, muster}, "builtin; 1 of the 3 scenarios against their own SUT (their sut block)"},
	} {
		if got := ownSUTs("builtin", c.scs); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

// TestDirectModeNeverReady: a command that never listens is an ERROR within the ready
// timeout, with its output.
func TestDirectModeNeverReady(t *testing.T) {
	o := runFakeDirect(t, "never-ready")
	if o.code != ExitFailed || !strings.Contains(o.stdout, "SUT not ready after "+testReadyTimeout.String()) ||
		!strings.Contains(o.stdout, "fake SUT starting in mode never-ready") {
		t.Fatalf("exit %d:\n%s", o.code, o.stdout)
	}
}

// TestDirectModePortTakenIsRetried: a started server that finds the port the runner picked
// for it taken by another process meanwhile (the race of any free-port pick) is started
// again on new ports, and the result says so; the scenario passes.
func TestDirectModePortTakenIsRetried(t *testing.T) {
	o := runFakeDirect(t, "port-taken-once")
	if o.code != ExitOK || !strings.Contains(o.stdout, "SUT start 1 failed and was retried on new ports") {
		t.Fatalf("exit %d:\n%s", o.code, o.stdout)
	}
}

// TestDirectBlockSUTArgs: --sut-args are appended to the command a sut block starts (also
// one from --sut-command), never to the scenario's own slice, and mean nothing for a
// server that is only named by URL.
func TestDirectBlockSUTArgs(t *testing.T) {
	own := &scenario.SUT{Command: append(make([]string, 0, 4), "srv", "--port", "1")} // spare capacity: an append in place would show
	args := SUTOptions{Args: []string{"--fault", "x"}}
	for _, c := range []struct {
		name string
		sc   *scenario.SUT
		o    SUTOptions
		want []string
	}{
		{"own command", own, args, []string{"srv", "--port", "1", "--fault", "x"}},
		{"--sut-command", own, SUTOptions{Command: []string{"other"}, Args: args.Args}, []string{"other", "--fault", "x"}},
		{"url only", &scenario.SUT{URL: "http://127.0.0.1:1/mcp"}, args, nil},
		{"--sut-url", own, SUTOptions{URL: "http://127.0.0.1:1/mcp", Args: args.Args}, nil},
	} {
		b := directBlock(c.sc, c.o)
		if !slices.Equal(b.Command, c.want) {
			t.Errorf("%s: command %q, want %q", c.name, b.Command, c.want)
		}
	}
	if got := own.Command[:4][3]; got != "" {
		t.Errorf("the scenario's command was changed in place: %q", own.Command[:4])
	}
	if b := directBlock(nil, args); b != nil {
		t.Errorf("a muster-shaped scenario got a sut block: %+v", b)
	}
}

// TestDirectModeSUTArgsReachTheServer: a fault given with --sut-args starts the scenario's
// reference server with it, and the step that guards against it fails.
func TestDirectModeSUTArgsReachTheServer(t *testing.T) {
	so := SUTOptions{Kind: "builtin", Self: muster, Args: []string{"--fault", "tools-call-not-rechecked"}}
	driver, err := ChooseDriver(so)
	if err != nil {
		t.Fatal(err)
	}
	o := runFilesWith(t, driver, so, "../../testdata/e2e/direct-login.yaml")
	if o.code != ExitFailed || !strings.Contains(o.stdout, "step:        alice-cannot-export") ||
		!strings.Contains(o.stdout, "fault=tools-call-not-rechecked") {
		t.Fatalf("exit %d, want 1 with the step alice-cannot-export failing:\n%s", o.code, o.stdout)
	}
}

// TestDirectSpecPath: {{ .sut.path }} is the path of the MCP endpoint, so that a check can
// send a raw request (a query string, another method) to a server mounted anywhere.
func TestDirectSpecPath(t *testing.T) {
	for _, c := range []struct{ url, want string }{
		{"http://127.0.0.1:1/api/v1/mcp", "/api/v1/mcp"},
		{"http://127.0.0.1:1/mcp", "/mcp"},
	} {
		world := map[string]any{}
		if _, err := directSpec(&scenario.SUT{URL: c.url}, nil, world); err != nil {
			t.Fatal(err)
		}
		if got := world["sut"].(map[string]any)["path"]; got != c.want {
			t.Errorf("%s: sut.path %v, want %s", c.url, got, c.want)
		}
	}
}

// runFakeDirect runs the plain e2e scenario against this test binary as a --sut-command
// SUT playing the given fake mode.
func runFakeDirect(t *testing.T, mode string) runOutcome {
	return runFakeDirectFile(t, mode, "../../testdata/e2e/plain.yaml")
}

func runFakeDirectFile(t *testing.T, mode, file string) runOutcome {
	t.Setenv(fakeSUTEnv, mode)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	so := SUTOptions{Self: muster, Command: []string{self, "--port", "{{ .sut.port }}"}}
	driver, err := ChooseDriver(so)
	if err != nil {
		t.Fatal(err)
	}
	return runFilesWith(t, driver, so, file)
}

// TestOnTimeoutSignal: when a step times out on a hung server, the sut block's on_timeout
// signal goes to it, and what it then writes (a Go server's goroutine stacks on SIGQUIT,
// the deadlocked one among them) is in the result.
func TestOnTimeoutSignal(t *testing.T) {
	o := runFakeDirectFile(t, "deadlock", "../../testdata/e2e/deadlock.yaml")
	for _, want := range []string{"on timeout: sent SIGQUIT to the SUT (pid ", "SIGQUIT: quit", "goroutine ", "takeTwice"} {
		if !strings.Contains(o.stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if o.code != ExitFailed || t.Failed() {
		t.Fatalf("exit %d:\n%s", o.code, o.stdout)
	}
}

// TestReferenceServerFromTheChild: muster-test's own reference server ({{ .self }}) is
// started from the slim child binary, unless it mounts an IdP, which only muster-test
// links; other commands are left as written.
func TestReferenceServerFromTheChild(t *testing.T) {
	const self, child = "/opt/bin/muster-test", "/opt/bin/muster-test-child"
	e, err := env.Start(context.Background(), &scenario.Scenario{Name: "x"}, t.TempDir(), env.Binaries{Self: self, Child: child})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, c := range []struct {
		cmd  []string
		want string
	}{
		{[]string{"{{ .self }}", "reference-server", "serve", "--issuer", "http://127.0.0.1:1", "--port", "{{ .sut.port }}"}, child},
		{[]string{"{{ .self }}", "reference-server", "serve", "--store", "--introspect", "--issuer", "http://127.0.0.1:1"}, child},
		{[]string{"{{ .self }}", "reference-server", "serve", "--with-as", "--port", "{{ .sut.port }}"}, self},
		{[]string{"{{ .self }}", "reference-server", "serve", "--port", "0", "--with-as=true"}, self},
		{[]string{"{{ .self }}", "mock-idp", "--port", "1"}, self},
		{[]string{"/usr/bin/env", "reference-server", "serve", "--issuer", "http://127.0.0.1:1"}, "/usr/bin/env"},
	} {
		d, err := directSpec(&scenario.SUT{Command: c.cmd}, e, e.World())
		if err != nil {
			t.Fatal(err)
		}
		if d.Command[0] != c.want || d.Command[1] != c.cmd[1] || len(d.Command) != len(c.cmd) {
			t.Errorf("%q starts %q, want %s", c.cmd, d.Command, c.want)
		}
	}
}
