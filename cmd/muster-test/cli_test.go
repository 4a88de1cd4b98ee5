package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/runner"
)

// cli runs muster-test's command line in process and returns its exit code and streams.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := dispatch(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// Help is asked for, so it goes to stdout with exit 0 (`muster-test --help | grep shard`);
// a mistake goes to stderr with exit 2.
func TestHelpOnStdout(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--help"}, "-shard"},
		{[]string{"-h"}, "-shard"},
		{[]string{"help"}, "-shard"},
		{[]string{"help", "run"}, "-shard"},
		{[]string{"validate", "--help"}, "Usage: muster-test validate"},
		{[]string{"help", "validate"}, "Usage: muster-test validate"},
		{[]string{"help", "list"}, "Usage: muster-test list"},
		{[]string{"help", "client"}, "-client-id"},
		{[]string{"help", "conform"}, "-write-baseline"},
		{[]string{"client", "--help"}, "-client-id"},
		{[]string{"conform", "--help"}, "-protocol"},
		{[]string{"help", "mock-idp"}, "usage: muster-test mock-idp"},
		{[]string{"help", "reference-server"}, "-with-as"},
		{[]string{"help", "load"}, "-shard string"},
		{[]string{"help", "load", "merge"}, "-max-regression"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := cli(t, tc.args...)
			if code != 0 || !strings.Contains(out, tc.want) || errOut != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want 0 and %q on stdout only", code, out, errOut, tc.want)
			}
		})
	}
	for _, args := range [][]string{{"--no-such-flag"}, {"help", "no-such-command"}, {"help", "a", "b"}, {"client", "--nope"},
		{"conform", "--nope"}, {"conform", "--protocol", "2024-11-05", "--sut-url", "http://127.0.0.1:1/mcp"},
		// Run flags that validate and list would not read are refused, not ignored.
		{"validate", "--junit", "v.xml", "../../scenarios/direct-discovery.yaml"}, {"list", "--html", "l.html"}, {"list", "--parallel", "3"},
		{"mock-idp", "--bogus"}, {"mock-idp", "extra"}, {"load", "merge", "--bogus"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out, errOut := cli(t, args...)
			if code != 2 || out != "" || strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and one line on stderr only", code, out, errOut)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}, {"--config", "x", "--version"}} {
		code, out, _ := cli(t, args...)
		if code != 0 || !strings.HasPrefix(out, "muster-test ") || !strings.Contains(out, "go1.") {
			t.Errorf("%v: exit %d, %q", args, code, out)
		}
	}
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "github.com/muster-test/muster-test", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-11-30T04:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	want := "muster-test v1.2.3 (github.com/muster-test/muster-test), commit 0123456789ab with uncommitted changes of 2026-11-30T04:00:00Z, go1.26.0"
	if got := describeBuild(bi); got != want {
		t.Errorf("describeBuild = %q, want %q", got, want)
	}
}

// An empty --config directory says so, and a --scenario or --tag that matches nothing says
// where it searched and what there is.
func TestSelectionMisses(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	own := filepath.Join(dir, "own")
	for _, d := range []string{empty, own} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	scenario := "name: my-x\ncategory: behavioral\nconcept: mcpserver\ntags: [smoke, oauth]\nsteps:\n  - id: list\n    tool: core_mcpserver_list\n    expected: {success: true}\n"
	if err := os.WriteFile(filepath.Join(own, "x.yaml"), []byte(scenario), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir) // no ./scenarios here: without --config the built-in suite is searched
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"empty dir", []string{"list", "--config", empty}, []string{"no scenario files in " + empty}},
		{"name in the built-in suite", []string{"list", "--scenario", "my-x"},
			[]string{`no scenario named "my-x"`, "searched: embedded suite", "add --config PATH"}},
		{"name in a config dir", []string{"list", "--config", own, "--scenario", "my-y"},
			[]string{`no scenario named "my-y"; did you mean "my-x"?`, "searched: " + own, "available scenarios (1):\n  my-x"}},
		{"tag", []string{"list", "--config", own, "--tag", "smok"},
			[]string{`no scenario has tag "smok" (did you mean "smoke"?); known tags: oauth, smoke`}},
		{"tags that exist but not together", []string{"list", "--config", own, "--tag", "smoke", "--category", "integration"},
			[]string{`no scenario has category "integration"; known categories: behavioral`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := cli(t, tc.args...)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if strings.Contains(errOut, "matches the filters") && tc.name == "empty dir" {
				t.Errorf("an empty dir is not a filter miss:\n%s", errOut)
			}
		})
	}
}

// The re-run command repeats where the scenarios are and what they ran against, not the
// filters (it names the scenarios) nor the output flags.
func TestRerunKeepsConfigAndSUTFlags(t *testing.T) {
	opts := &runner.Options{}
	fs, finish := cliFlags("muster-test", opts)
	err := fs.Parse([]string{"--config", "a", "--tag", "smoke", "--sut-command", "./srv --port {{ .sut.port }}",
		"--config", "b dir", "--junit", "j.xml", "--sut-args", "--fault x", "--verbose", "--ready-timeout", "1m"})
	if err != nil {
		t.Fatal(err)
	}
	if err := finish(); err != nil {
		t.Fatal(err)
	}
	want := []string{"--config", "a", "--config", "b dir", "--ready-timeout", "1m0s", "--sut-args", "--fault x", "--sut-command", "./srv --port {{ .sut.port }}"}
	if !slices.Equal(opts.Rerun, want) {
		t.Errorf("Rerun = %q, want %q", opts.Rerun, want)
	}
}

// TestMockIdPConfigDiagnostics: mock-idp --config reads its file as the loader reads a
// scenario's mock_oauth_servers entry: each problem at file:line:col with a did-you-mean,
// exit 2 before anything listens; a good file gives the settings it holds.
func TestMockIdPConfigDiagnostics(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "idp.yaml")
	if err := os.WriteFile(bad, []byte("name: x\nuse_mock_clok: true\ntrusted_issuers: []\nfaults:\n  - {endpoint: tokn}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cli(t, "mock-idp", "--config", bad)
	for _, want := range []string{
		bad + `:2:1: unknown key "use_mock_clok" (did you mean "use_mock_clock"?)`,
		bad + `:3:18: trusted_issuers: only a scenario's mock_oauth_servers entry has it`,
		bad + `:5:16: faults[0]: fault endpoint "tokn"`,
	} {
		if code != 2 || out != "" || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, stdout %q; want 2 and %q in stderr:\n%s", code, out, want, errOut)
		}
	}
	cfg, err := decodeMockIdP("good.yaml", []byte("name: corp\nuse_mock_clock: true\ntoken_lifetime: 5m\n"), io.Discard)
	if err != nil || cfg.Name != "corp" || !cfg.UseMockClock || cfg.TokenLifetime != 5*time.Minute {
		t.Errorf("good file: %+v, %v", cfg, err)
	}
}
