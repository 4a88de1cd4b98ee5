package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestChildBinary runs a scenario with a reference SUT and a stdio mock the ways an
// installation can look: muster-test-child and muster-test-relay beside muster-test (`make
// build`, `go install ./cmd/...`), muster-test alone (`go install ./cmd/muster-test`), and
// siblings from another build beside it. Each run must pass, with the SUT started from the
// binary that Binary chose and the stdio mock from the relay, or without one from that
// binary too.
func TestChildBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries; skipped under -short")
	}
	both := t.TempDir()
	goBuild(t, "-o", both+"/", "github.com/muster-test/muster-test/cmd/...")
	runner, sibling := filepath.Join(both, "muster-test"), filepath.Join(both, "muster-test-child")

	t.Run("sibling", func(t *testing.T) { runStdioScenario(t, runner, sibling, filepath.Join(both, "muster-test-relay")) })
	t.Run("sibling: {{ .self }} is still muster-test", func(t *testing.T) {
		// A direct-mode scenario starts `{{ .self }} reference-server serve`, a role only
		// muster-test plays.
		scenario, err := filepath.Abs("../../scenarios/direct-discovery.yaml")
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(runner, "--config", scenario, "--no-color")
		cmd.Dir = t.TempDir()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("run: %v\n%s", err, out)
		}
	})
	t.Run("alone", func(t *testing.T) {
		alone := filepath.Join(t.TempDir(), "muster-test")
		copyExecutable(t, runner, alone)
		runStdioScenario(t, alone, alone, alone)
	})
	t.Run("sibling from another build", func(t *testing.T) {
		dir := t.TempDir()
		copyExecutable(t, runner, filepath.Join(dir, "muster-test"))
		goBuild(t, "-ldflags=-X main.usage=other", "-o", filepath.Join(dir, "muster-test-child"),
			"github.com/muster-test/muster-test/cmd/muster-test-child")
		runStdioScenario(t, filepath.Join(dir, "muster-test"), filepath.Join(dir, "muster-test"), filepath.Join(dir, "muster-test"))
	})
	t.Run("relay from another build", func(t *testing.T) {
		dir := t.TempDir()
		copyExecutable(t, runner, filepath.Join(dir, "muster-test"))
		copyExecutable(t, sibling, filepath.Join(dir, "muster-test-child"))
		goBuild(t, "-ldflags=-X main.other=1", "-o", filepath.Join(dir, "muster-test-relay"),
			"github.com/muster-test/muster-test/cmd/muster-test-relay")
		runStdioScenario(t, filepath.Join(dir, "muster-test"), filepath.Join(dir, "muster-test-child"), filepath.Join(dir, "muster-test-child"))
	})
	t.Run("no template execution in the child", func(t *testing.T) {
		// Executing a text/html template makes the linker keep every exported method of
		// every type (see refsut's callback pages): the child's size and start cost grow.
		f, err := elf.Open(sibling)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		syms, err := f.Symbols()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range syms {
			if s.Name == "text/template.(*state).evalField" {
				t.Fatalf("muster-test-child links template execution (%s)", s.Name)
			}
		}
	})
}

// runStdioScenario runs the built-in stdio mock scenario with runner and checks that the
// reference SUT was started from want and the stdio mock from wantStdio.
func runStdioScenario(t *testing.T, runner, want, wantStdio string) {
	t.Helper()
	scenario, err := filepath.Abs("../../scenarios/mcpserver-stdio-mock.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(runner, "--sut", "builtin", "--config", scenario, "--no-color", "--keep-temp-config", "--parallel", "1")
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	kept := regexp.MustCompile(`temp dir kept: (\S+)`).FindSubmatch(out)
	if kept != nil {
		t.Cleanup(func() { os.RemoveAll(string(kept[1])) })
	}
	if err != nil || kept == nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	if line, _, _ := strings.Cut(string(out), "\n"); !strings.Contains(line, "("+want+" reference-sut)") {
		t.Errorf("the SUT was not started from %s:\n%s", want, line)
	}
	raw, err := os.ReadFile(filepath.Join(string(kept[1]), "muster", "mcpservers", "local-tools.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Spec struct {
			Command string `yaml:"command"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Spec.Command != wantStdio {
		t.Errorf("the stdio mock's command is %q, want %q", doc.Spec.Command, wantStdio)
	}
}

func goBuild(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("go", append([]string{"build"}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func copyExecutable(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}
