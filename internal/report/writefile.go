package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// CheckDir makes sure a report can be written into dir: it creates dir when missing and
// writes and removes a probe file in it.
func CheckDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	probe, err := os.CreateTemp(dir, ".muster-test-probe-*")
	if err != nil {
		return err
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// CheckFile makes sure a report can be written at path (through writeFileAtomic): its
// directory is writable and path is not a directory.
func CheckFile(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return errors.New("is a directory")
	}
	return CheckDir(filepath.Dir(path))
}

// writeFileAtomic writes data to path through a temporary file in the same directory and a
// rename, so a reader (a CI job picking up the report) never sees a half-written file.
func writeFileAtomic(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp.Name(), err)
	}
	return nil
}

// WriteFile writes a report file as the reporters do: whole or not at all.
func WriteFile(path string, data []byte) error { return writeFileAtomic(path, data) }
