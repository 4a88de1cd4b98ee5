package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/muster-test/muster-test/internal/child"
	"github.com/muster-test/muster-test/internal/sut"
	"github.com/muster-test/muster-test/scenario"
)

// TestPlannedBinaryGuessesTheSUTsBinary: spares are started for the binary a scenario's SUT
// start will run, read from its file before its templates can be resolved.
func TestPlannedBinaryGuessesTheSUTsBinary(t *testing.T) {
	so := SUTOptions{Self: "/bin/muster-test", Child: "/bin/muster-test-child"}
	builtin, err := ChooseDriver(SUTOptions{Kind: "builtin", Self: so.Self, Child: so.Child})
	if err != nil {
		t.Fatal(err)
	}
	muster := &sut.ServeDriver{Label: "muster", Command: []string{"/usr/bin/muster"}}
	server := func(args ...string) *scenario.Scenario {
		return &scenario.Scenario{SUT: &scenario.SUT{Command: append([]string{"{{ .self }}", "reference-server", "serve"}, args...)}}
	}
	for _, c := range []struct {
		name   string
		driver sut.Driver
		sc     *scenario.Scenario
		want   string
	}{
		{"no sut block, the reference SUT", builtin, &scenario.Scenario{}, so.Child},
		{"no sut block, muster", muster, &scenario.Scenario{}, ""},
		{"no sut block, a wrapped reference SUT", &recorder{Driver: builtin}, &scenario.Scenario{}, so.Child},
		{"the reference server", muster, server("--issuer", "{{ .idp.idp.issuer_url }}", "--port", "{{ .sut.port }}"), so.Child},
		{"the reference server mounting an IdP", builtin, server("--with-as", "--port", "{{ .sut.port }}"), so.Self},
		{"the same, one dash", builtin, server("-with-as=true"), so.Self},
		{"a template with spaces", builtin, &scenario.Scenario{SUT: &scenario.SUT{Command: []string{"{{- .self -}}", "reference-server"}}}, so.Child},
		{"another command", builtin, &scenario.Scenario{SUT: &scenario.SUT{Command: []string{"/usr/bin/server", "--with-as"}}}, ""},
		{"a running server", builtin, &scenario.Scenario{SUT: &scenario.SUT{URL: "http://127.0.0.1:1/mcp"}}, ""},
	} {
		w := newScenarioRunner(&Options{SUT: so}, c.driver)
		if got := w.plannedBinary(c.sc); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if w := newScenarioRunner(&Options{SUT: SUTOptions{Self: so.Self, URL: "http://127.0.0.1:1/mcp"}}, builtin); w.spares != nil {
		t.Errorf("--sut-url: spares %v, want none", w.spares)
	}
}

// TestSUTEnvRunsOwnSUTsOnOneProc: a scenario run's SUT of muster-test's own binaries gets
// GOMAXPROCS=1; muster, another command, a running server, a load stage's SUT and a runner
// whose environment sets GOMAXPROCS get nothing.
func TestSUTEnvRunsOwnSUTsOnOneProc(t *testing.T) {
	t.Setenv("GOMAXPROCS", "")
	so := SUTOptions{Self: "/bin/muster-test", Child: "/bin/muster-test-child"}
	builtin, err := ChooseDriver(SUTOptions{Kind: "builtin", Self: so.Self, Child: so.Child})
	if err != nil {
		t.Fatal(err)
	}
	muster := &sut.ServeDriver{Label: "muster", Command: []string{"/usr/bin/muster"}}
	direct := func(argv ...string) *sut.Spec { return &sut.Spec{Direct: &sut.DirectSpec{Command: argv}} }
	one := []string{"GOMAXPROCS=1", child.OwnProcsVar + "=1"}
	for _, c := range []struct {
		name   string
		driver sut.Driver
		spec   *sut.Spec
		want   []string
	}{
		{"the reference SUT", builtin, &sut.Spec{}, one},
		{"a wrapped reference SUT", &recorder{Driver: builtin}, &sut.Spec{}, one},
		{"muster", muster, &sut.Spec{}, nil},
		{"the reference server from the child binary", muster, direct(so.Child, "reference-server", "serve"), one},
		{"the reference server mounting an IdP", builtin, direct(so.Self, "reference-server", "serve", "--with-as"), one},
		{"another command", builtin, direct("/usr/bin/server"), nil},
		{"a running server", builtin, &sut.Spec{Direct: &sut.DirectSpec{URL: "http://127.0.0.1:1/mcp"}}, nil},
	} {
		w := newScenarioRunner(&Options{SUT: so}, c.driver)
		if got := w.sutEnv(c.spec); !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if got := stageRunner(&Options{SUT: so}, builtin).sutEnv(&sut.Spec{}); got != nil {
		t.Errorf("a load stage's reference SUT: %q, want nothing", got)
	}
	t.Setenv("GOMAXPROCS", "2")
	if got := newScenarioRunner(&Options{SUT: so}, builtin).sutEnv(&sut.Spec{}); got != nil {
		t.Errorf("GOMAXPROCS set for the runner: %q, want nothing (the SUT inherits it)", got)
	}
}

// TestReferenceSUTRunsOnOneProcAndWhatItStartsDoesNot: in a scenario run the reference
// SUT's process has GOMAXPROCS=1 from its exec on (a fresh start's, or the spare's it
// took), and a stdio server it starts, here a user's real one, gets the runner's
// environment without it.
func TestReferenceSUTRunsOnOneProcAndWhatItStartsDoesNot(t *testing.T) {
	t.Setenv("GOMAXPROCS", "") // as unset: the runner's environment does not choose
	driver, err := ChooseDriver(SUTOptions{Kind: "builtin", Self: muster})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "env.yaml")
	// The server writes its parent's (the SUT's) environment and its own, then waits for
	// its stdin to close, as a stdio server does.
	script := fmt.Sprintf(`tr '\0' '\n' < /proc/$PPID/environ > %[1]s/sut.env; env > %[1]s/server.env; exec cat > /dev/null`, dir)
	yaml := fmt.Sprintf(`name: env
description: the environments of the SUT and of a stdio server it starts
pre_configuration:
  mcp_servers:
    - name: real
      config: {type: stdio, command: /bin/sh, args: ["-c", %q]}
steps:
  - id: list
    tool: core_service_list
    args: {}
    expected: {success: true}
`, script)
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	o := runFiles(t, driver, file)
	if o.code != ExitOK {
		t.Fatalf("exit %d:\n%s", o.code, o.stdout)
	}
	read := func(name string) []string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("the stdio server never wrote %s: %v", name, err)
		}
		return strings.Split(string(b), "\n")
	}
	if sutEnv := read("sut.env"); !slices.Contains(sutEnv, "GOMAXPROCS=1") {
		t.Errorf("the SUT's environment at exec lacks GOMAXPROCS=1:\n%s", strings.Join(sutEnv, "\n"))
	}
	for _, kv := range read("server.env") {
		if strings.HasPrefix(kv, "GOMAXPROCS=1") || strings.HasPrefix(kv, child.OwnProcsVar+"=") {
			t.Errorf("the stdio server inherited %s", kv)
		}
	}
}
