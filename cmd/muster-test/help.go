package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/muster-test/muster-test/internal/runner"
)

// help is `muster-test help [COMMAND]`: the usage of muster-test or of one command, on
// stdout. The commands that parse their own flags print it for --help themselves.
func help(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return runCLI([]string{"--help"}, stdout, stderr)
	}
	if len(args) == 2 && args[0] == "load" && args[1] == "merge" {
		return runLoad([]string{"merge", "--help"}, stdout, stderr)
	}
	if len(args) > 1 {
		fmt.Fprintf(stderr, "muster-test help: want one command, got %q\n", strings.Join(args, " "))
		return runner.ExitUsage
	}
	switch cmd := args[0]; cmd {
	case "run":
		return runCLI([]string{"--help"}, stdout, stderr)
	case "validate", "list":
		return runCLI([]string{cmd, "--help"}, stdout, stderr)
	case "schema":
		return runSchema([]string{"--help"}, stdout, stderr)
	case "init":
		return runInit([]string{"--help"}, stdout, stderr)
	case "client":
		return runClient([]string{"--help"}, stdout, stderr)
	case "conform":
		return runConform([]string{"--help"}, stdout, stderr)
	case "load":
		return runLoad([]string{"--help"}, stdout, stderr)
	case "mock-idp":
		return runMockIDP([]string{"--help"}, stdout, stderr)
	case "reference-sut", "reference-server":
		return dispatch([]string{cmd, "serve", "--help"}, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "muster-test help: unknown command %q (commands: run, validate, list, schema, init, client, conform, load, mock-idp, reference-sut, reference-server)\n", cmd)
		return runner.ExitUsage
	}
}

// versionText is the module version and the VCS commit this binary was built from, as the
// Go toolchain recorded them: `go install ...@v1.2.3` gives a version, a build in a
// checkout gives "(devel)" and the commit (marked when the tree had changes).
func versionText() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "muster-test (no build information in this binary)"
	}
	return describeBuild(bi)
}

// describeBuild is versionText for the given build information.
func describeBuild(bi *debug.BuildInfo) string {
	var rev, at, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = " with uncommitted changes"
			}
		}
	}
	v := bi.Main.Version
	if v == "" {
		v = "(unknown version)"
	}
	out := "muster-test " + v
	if bi.Main.Path != "" {
		out += " (" + bi.Main.Path + ")"
	}
	if rev != "" {
		out += ", commit " + rev[:min(12, len(rev))] + modified
		if at != "" {
			out += " of " + at
		}
	} else {
		out += ", no VCS commit recorded"
	}
	return out + ", " + bi.GoVersion
}
