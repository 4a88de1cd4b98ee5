package child

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"github.com/muster-test/muster-test/internal/relay"
)

// A sibling (the child binary or the relay) that is missing, not a runnable file or not a
// Go binary of this build leaves the runner running children itself, and stdio mocks
// unrelayed. (That real siblings from the same build are used, and that their roles work,
// is shown end to end in cmd/muster-test.)
func TestBinaryFallsBackToSelf(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(t *testing.T, sibling string){
		"no sibling": func(t *testing.T, sibling string) {},
		"a directory": func(t *testing.T, sibling string) {
			if err := os.Mkdir(sibling, 0o755); err != nil {
				t.Fatal(err)
			}
		},
		"not executable": func(t *testing.T, sibling string) { copyFile(t, self, sibling, 0o644) },
		"not a Go binary": func(t *testing.T, sibling string) {
			if err := os.WriteFile(sibling, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, setup := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			me := filepath.Join(dir, "muster-test")
			copyFile(t, self, me, 0o755)
			setup(t, filepath.Join(dir, Name))
			setup(t, filepath.Join(dir, relay.Name))
			if got := Binary(me); got != me {
				t.Errorf("Binary = %s, want %s", got, me)
			}
			if got := Relay(me); got != "" {
				t.Errorf("Relay = %s, want none", got)
			}
		})
	}
}

func TestSameBuild(t *testing.T) {
	base := func() *debug.BuildInfo {
		return &debug.BuildInfo{
			GoVersion: "go1.26.8",
			Main:      debug.Module{Path: "github.com/muster-test/muster-test", Version: "v1.2.3"},
			Deps: []*debug.Module{
				{Path: "github.com/mark3labs/mcp-go", Version: "v1.2.1", Sum: "h1:a"},
				{Path: "github.com/ory/fosite", Version: "v0.49.0", Sum: "h1:b"},
			},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "-ldflags", Value: ""}},
		}
	}
	runner := base()
	cases := map[string]struct {
		edit func(b *debug.BuildInfo)
		want bool
	}{
		"same build":           {func(b *debug.BuildInfo) {}, true},
		"fewer dependencies":   {func(b *debug.BuildInfo) { b.Deps = b.Deps[:1] }, true},
		"other toolchain":      {func(b *debug.BuildInfo) { b.GoVersion = "go1.26.7" }, false},
		"other module version": {func(b *debug.BuildInfo) { b.Main.Version = "v1.2.2" }, false},
		"other revision":       {func(b *debug.BuildInfo) { b.Settings[0].Value = "abd" }, false},
		"other flags":          {func(b *debug.BuildInfo) { b.Settings[1].Value = "-X main.x=y" }, false},
		"other dependency version": {func(b *debug.BuildInfo) {
			b.Deps[0] = &debug.Module{Path: "github.com/mark3labs/mcp-go", Version: "v1.2.0", Sum: "h1:a"}
		}, false},
		"dependency runner lacks": {func(b *debug.BuildInfo) {
			b.Deps = append(b.Deps, &debug.Module{Path: "example.com/x", Version: "v1.0.0"})
		}, false},
		"dependency replaced": {func(b *debug.BuildInfo) {
			b.Deps[1] = &debug.Module{Path: "github.com/ory/fosite", Version: "v0.49.0", Sum: "h1:b", Replace: &debug.Module{Path: "../fosite"}}
		}, false},
		"main module replaced ways": {func(b *debug.BuildInfo) { b.Main.Replace = &debug.Module{Path: "../x"} }, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			child := base()
			c.edit(child)
			if got := sameBuild(runner, child); got != c.want {
				t.Errorf("sameBuild = %v, want %v", got, c.want)
			}
		})
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
}
