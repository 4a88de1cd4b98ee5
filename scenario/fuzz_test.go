package scenario_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: no input may crash the loader, and its results must be consistent. The seeds
// are every fixture under testdata/scenarios, so `go test` runs them all.
func FuzzParse(f *testing.F) {
	err := filepath.WalkDir(testdata, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		f.Add(data)
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("name: x\nsteps: &s [{id: a, tool: t, cleanup: *s, expected: {success: true}}]\n"))
	f.Add([]byte("name: x\nsteps:\n  - {<<: [*a], id: b}\n"))
	f.Add([]byte("name: x\nsteps:\n  - {id: a, tool: test_switch_user, args: {name: '{{ a.b }}'}, expected: {success: true}}\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		s, diags := loader.Parse("f.yaml", data)
		errs := 0
		for i, d := range diags {
			if !d.Warning {
				errs++
			}
			if d.Pos.File != "f.yaml" || d.Msg == "" || d.Pos.Line < 0 || d.Pos.Col < 0 {
				t.Fatalf("malformed diagnostic %#v", d)
			}
			if i > 0 && d.Pos.Line < diags[i-1].Pos.Line {
				t.Fatalf("diagnostics not sorted: %v", diags)
			}
		}
		if (s == nil) != (errs > 0) {
			t.Fatalf("scenario nil = %v with %d errors: %v", s == nil, errs, diags)
		}
		if s != nil && (s.Name == "" || len(s.Steps) == 0 || s.Pos.File != "f.yaml") {
			t.Fatalf("a loaded scenario lacks name, steps or file: %+v", s)
		}
	})
}
