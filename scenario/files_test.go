package scenario_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/muster-test/muster-test/scenario"
)

const okDoc = "name: ok\nsteps:\n  - id: a\n    tool: t\n    expected: {success: true}\n"

// loadSoon is LoadPaths that fails the test instead of hanging when loading blocks.
func loadSoon(t *testing.T, paths ...string) *scenario.Set {
	t.Helper()
	done := make(chan *scenario.Set, 1)
	go func() { done <- loader.LoadPaths(paths...) }()
	select {
	case set := <-done:
		return set
	case <-time.After(20 * time.Second):
		t.Fatalf("loading %v still blocked after 20s", paths)
		return nil
	}
}

// oneError requires exactly one error, about file, containing msg.
func oneError(t *testing.T, set *scenario.Set, file, msg string) {
	t.Helper()
	if len(set.Errors) != 1 || set.Errors[0].Pos.File != file || !strings.Contains(set.Errors[0].Msg, msg) {
		t.Fatalf("want one error about %s containing %q, got %v", file, msg, set.Errors)
	}
}

// TestNonRegularFilesRefused: a FIFO named *.yaml once blocked the loader for good, and a
// symlink to /dev/zero grew its memory by 110 MB/s.
func TestNonRegularFilesRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "a-fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	// If the loader does block on the FIFO, a writer lets it go at the end of the test.
	t.Cleanup(func() {
		if f, err := os.OpenFile(fifo, os.O_RDWR, 0); err == nil {
			f.Close()
		}
	})
	zero := filepath.Join(dir, "b-zero.yaml")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "c-good.yaml")
	if err := os.WriteFile(good, []byte(okDoc), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "d-link.yaml")
	if err := os.Symlink("c-good.yaml", link); err != nil {
		t.Fatal(err)
	}

	set := loadSoon(t, dir)
	if len(set.Errors) != 2 || set.Errors[0].Pos.File != fifo || set.Errors[1].Pos.File != zero {
		t.Fatalf("want errors about %s and %s, got %v", fifo, zero, set.Errors)
	}
	for _, e := range set.Errors {
		if !strings.Contains(e.Msg, "not a regular file") {
			t.Errorf("message %q", e)
		}
	}
	if len(set.Scenarios) != 2 {
		t.Errorf("the file and the symlink to it must load, got %d scenarios", len(set.Scenarios))
	}
	oneError(t, loadSoon(t, fifo), fifo, "not a regular file (a named pipe)")
	oneError(t, loadSoon(t, zero), zero, "not a regular file (a device)")
}

func TestFileSizeCap(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	pad := "# " + strings.Repeat("x", 77) + "\n"
	if err := os.WriteFile(big, []byte(okDoc+strings.Repeat(pad, scenario.MaxFileSize/len(pad)+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	oneError(t, loadSoon(t, big), big, "larger than 1 MiB")

	atCap := filepath.Join(dir, "at-cap.yaml")
	if err := os.WriteFile(atCap, []byte(okDoc+strings.Repeat(" ", scenario.MaxFileSize-len(okDoc))), 0o644); err != nil {
		t.Fatal(err)
	}
	if set := loadSoon(t, atCap); len(set.Errors) != 0 || len(set.Scenarios) != 1 {
		t.Errorf("a file of exactly the cap must load: %v", set.Errors)
	}
}

// TestLoadFSRefusesTheSame: the embedded suite goes through the same rules.
func TestLoadFSRefusesTheSame(t *testing.T) {
	fsys := fstest.MapFS{
		"s/big.yaml":  {Data: make([]byte, scenario.MaxFileSize+1)},
		"s/pipe.yaml": {Mode: fs.ModeNamedPipe},
		"s/ok.yaml":   {Data: []byte(okDoc)},
	}
	set := loader.LoadFS(fsys, "s")
	if len(set.Errors) != 2 || !strings.Contains(set.Errors[0].String(), "s/big.yaml: larger than 1 MiB") ||
		!strings.Contains(set.Errors[1].String(), "s/pipe.yaml: not a regular file") {
		t.Errorf("got %v", set.Errors)
	}
	if len(set.Scenarios) != 1 {
		t.Errorf("ok.yaml must load, got %d scenarios", len(set.Scenarios))
	}
}
