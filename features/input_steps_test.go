package features

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"github.com/cucumber/godog"
)

// inputSteps are the steps that make scenario files no editor would: very long ones, FIFOs
// and symlinks, and check that what comes back stays short and positioned.
func (w *world) inputSteps(sc *godog.ScenarioContext) {
	sc.Step(`^a scenario file "([^"]*)" with (\d+) steps "(.*)"$`, w.writeSteps)
	sc.Step(`^a FIFO "([^"]*)"$`, func(name string) error {
		return w.inDir(name, func(p string) error { return syscall.Mkfifo(p, 0o644) })
	})
	sc.Step(`^a symlink "([^"]*)" to "([^"]*)"$`, func(name, target string) error {
		return w.inDir(name, func(p string) error { return os.Symlink(target, p) })
	})
	sc.Step(`^the error output has at most (\d+) message lines$`, w.stderrLines)
	sc.Step(`^every error line stands at "([^"]*)":line:col$`, w.positioned)
	sc.Step(`^the error output contains:$`, func(text *godog.DocString) error {
		if !strings.Contains(w.stderr.String(), text.Content) {
			return fmt.Errorf("stderr lacks\n%s\nstderr:\n%s", text.Content, w.stderr.String())
		}
		return nil
	})
}

// inDir runs make on the path of name in the world's directory, creating its parent.
func (w *world) inDir(name string, make func(path string) error) error {
	p := filepath.Join(w.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return make(p)
}

func (w *world) writeSteps(name string, n int, step string) error {
	var b strings.Builder
	b.WriteString("name: many\nsteps:\n")
	for range n {
		b.WriteString("  - " + step + "\n")
	}
	return w.inDir(name, func(p string) error { return os.WriteFile(p, []byte(b.String()), 0o644) })
}

// stderrLines counts the lines of messages, not those of the source excerpts under them
// (which start with a space).
func (w *world) stderrLines(n int) error {
	got := 0
	for _, line := range strings.Split(strings.TrimSpace(w.stderr.String()), "\n") {
		if !strings.HasPrefix(line, " ") {
			got++
		}
	}
	if got > n {
		return fmt.Errorf("stderr has %d lines, want at most %d; it starts:\n%s", got, n, w.stderr.String()[:min(2000, w.stderr.Len())])
	}
	return nil
}

// positioned requires file:line:col on every diagnostic line (all but the summary and the
// lines of the source excerpts, which start with a space).
func (w *world) positioned(file string) error {
	re := regexp.MustCompile(`^` + regexp.QuoteMeta(file) + `:\d+:\d+: `)
	for _, line := range strings.Split(strings.TrimSpace(w.stderr.String()), "\n") {
		if !re.MatchString(line) && !strings.HasPrefix(line, "muster-test: ") && !strings.HasPrefix(line, " ") {
			return fmt.Errorf("line without %s:line:col: %q", file, line)
		}
	}
	return nil
}
