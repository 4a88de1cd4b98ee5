package child

import (
	"debug/buildinfo"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"

	"github.com/muster-test/muster-test/internal/relay"
)

// Name is the slim child binary, installed beside muster-test by `go install ./cmd/...`
// and `make build`.
const Name = "muster-test-child"

// Binary returns the binary to start children with: Name in self's directory when it was
// built like self (see sibling), otherwise self, which plays every child role too.
func Binary(self string) string {
	if b := sibling(self, Name); b != "" {
		return b
	}
	return self
}

// Relay returns the stdio relay (package relay) in self's directory when it was built like
// self, or "": then the SUT starts the full stdio mock from Binary.
func Relay(self string) string {
	return sibling(self, relay.Name)
}

// sibling returns the binary name in self's directory if it was built like self, else "". A
// sibling of another version (say, left from an earlier `go install`) could behave
// differently from the runner it serves, so it is not used. A build of a tree with
// uncommitted changes carries no version that tells such trees apart: build the binaries
// together (`make build` does).
func sibling(self, name string) string {
	path := filepath.Join(filepath.Dir(self), name)
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return ""
	}
	mine, err := buildinfo.ReadFile(self)
	if err != nil {
		return ""
	}
	theirs, err := buildinfo.ReadFile(path)
	if err != nil || !sameBuild(mine, theirs) {
		return ""
	}
	return path
}

// sameBuild reports whether two binaries of this module came from one source tree and one
// set of build flags: same toolchain, main module version and settings (VCS revision,
// -ldflags, -tags, GOARCH, ...), and every dependency of child at the version runner has.
func sameBuild(runner, child *debug.BuildInfo) bool {
	if runner.GoVersion != child.GoVersion || module(&runner.Main) != module(&child.Main) ||
		!slices.Equal(runner.Settings, child.Settings) {
		return false
	}
	have := map[string]string{}
	for _, d := range runner.Deps {
		have[d.Path] = module(d)
	}
	for _, d := range child.Deps {
		if have[d.Path] != module(d) {
			return false
		}
	}
	return true
}

// module identifies a module version, with its replacement if any.
func module(m *debug.Module) string {
	if m == nil {
		return ""
	}
	return m.Path + "@" + m.Version + " " + m.Sum + " => " + module(m.Replace)
}
