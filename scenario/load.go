package scenario

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"

	"gopkg.in/yaml.v3"
)

// Diagnostic is one load error or warning, with the position it is about.
type Diagnostic struct {
	Pos     Pos
	Msg     string
	Warning bool
	// Hidden is set on the line that ends a file's capped list: how many more errors (or
	// warnings, on a warning) the file has that are not listed.
	Hidden int
	// Excerpt is the source around Pos with a caret under it (see Excerpt); "" when the
	// diagnostic has no line.
	Excerpt string
}

// Count is how many errors (or warnings) the diagnostics stand for, those not listed
// included.
func Count(ds []Diagnostic) int {
	n := 0
	for _, d := range ds {
		n += max(1, d.Hidden)
	}
	return n
}

// String formats the diagnostic as "file:line:col: message" ("file:line:col: warning:
// message" for a warning), the form editors and CI logs link to.
func (d Diagnostic) String() string {
	if d.Warning {
		return d.Pos.String() + ": warning: " + d.Msg
	}
	return d.Pos.String() + ": " + d.Msg
}

// Set is the result of loading scenario files: the scenarios that loaded without errors, in
// load order, and the diagnostics of all files. A run must not start when Errors is not
// empty.
type Set struct {
	Scenarios []*Scenario
	Warnings  []Diagnostic
	Errors    []Diagnostic
	files     []string // in load order, for Diagnostics
}

// Diagnostics are the errors and the warnings together, file by file in load order and in
// each file by position, as a reader goes through the files.
func (s *Set) Diagnostics() []Diagnostic {
	rank := map[string]int{}
	for i, f := range s.files {
		rank[f] = i
	}
	all := slices.Concat(s.Errors, s.Warnings)
	slices.SortStableFunc(all, func(a, b Diagnostic) int {
		return cmp.Or(cmp.Compare(rank[a.Pos.File], rank[b.Pos.File]), cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	return all
}

// Loader loads scenario files. Steps that call a test tool are checked against TestTools,
// the catalogue of the runner that will run them (its own table of test tools supplies it).
// With no TestTools, test tool steps are not checked beyond their `test_` prefix: for
// programs that only read the format; the runner always loads with its catalogue.
type Loader struct {
	TestTools []TestTool
	// Direct says the run replaces every scenario's SUT (--sut-command, --sut-url): no
	// scenario then talks to a muster-shaped SUT, whose tool names the loader would check.
	Direct bool
}

// Parse loads one scenario document. The diagnostics are sorted by position and hold
// errors and warnings (Diagnostic.Warning); the scenario is nil when there is an error.
func (l Loader) Parse(file string, data []byte) (*Scenario, []Diagnostic) {
	s, diags, _ := l.parse(file, data)
	return s, diags
}

// parse is Parse that also returns the position of the scenario's name, which the Set
// builder needs for its duplicate-name warnings.
func (l Loader) parse(file string, data []byte) (*Scenario, []Diagnostic, Pos) {
	d := newDecoder(file)
	d.tools, d.direct = l.TestTools, l.Direct
	defer d.excerpts(data)
	root := d.document(data)
	if root == nil {
		return nil, d.diags, Pos{}
	}
	s := new(Scenario)
	d.decode(root, reflect.ValueOf(s).Elem(), "")
	s.Pos.File, s.Source = file, data
	namePos := s.Pos
	if n := d.nodeOf(&s.Name); n != nil {
		namePos = d.pos(n)
	}
	if root.Kind == yaml.MappingNode && !d.over && !d.deepMerge {
		d.validate(s)
	}
	sortDiagnostics(d.diags)
	d.diags = d.capped()
	for _, diag := range d.diags {
		if !diag.Warning {
			return nil, d.diags, namePos
		}
	}
	return s, d.diags, namePos
}

// excerpts gives every diagnostic of the file its source excerpt, in place: parse runs it
// deferred, on the slice it returns.
func (d *decoder) excerpts(data []byte) {
	for i := range d.diags {
		if p := d.diags[i].Pos; p.File == d.file && d.diags[i].Hidden == 0 {
			d.diags[i].Excerpt = Excerpt(data, p.Line, p.Col)
		}
	}
}

// document parses data into its one YAML document's root node, nil after an error.
func (d *decoder) document(data []byte) (root *yaml.Node) {
	d.lines = strings.Split(string(data), "\n")
	defer func() {
		if r := recover(); r != nil { // a scenario file must never crash the runner
			d.errorAt(Pos{File: d.file}, "yaml library failure: %v", r)
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.errorAt(Pos{File: d.file}, "empty file: expected a scenario (a map with name and steps)")
		} else {
			d.syntaxError(data, err)
		}
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == nil:
		d.errorAt(d.pos(&next), "a file holds one scenario: a second YAML document starts here")
	case !errors.Is(err, io.EOF):
		d.syntaxError(data, err)
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		d.errorAt(Pos{File: d.file}, "empty document: expected a scenario (a map with name and steps)")
		return nil
	}
	return doc.Content[0]
}

func sortDiagnostics(ds []Diagnostic) {
	slices.SortStableFunc(ds, func(a, b Diagnostic) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
}

// file is one scenario file found by LoadPaths or LoadFS: its name for positions and how to
// read it (or why it could not be found).
type file struct {
	name string
	read func() ([]byte, error)
	err  error
}

// LoadPaths loads scenario files. Each path is a file, or a directory searched recursively
// for *.yaml and *.yml files in lexical order. A path that does not exist is an error.
func (l Loader) LoadPaths(paths ...string) *Set {
	var files []file
	for _, p := range paths {
		files = append(files, walk(filepath.Clean(p), osFS{}, filepath.WalkDir)...)
	}
	return l.build(files)
}

// LoadFS is LoadPaths for one root (file or directory) of a file system, e.g. a go:embed'ed
// suite. Positions name files by their path in fsys.
func (l Loader) LoadFS(fsys fs.FS, root string) *Set {
	return l.build(walk(root, fsys, func(root string, fn fs.WalkDirFunc) error {
		return fs.WalkDir(fsys, root, fn)
	}))
}

// osFS lets walk stat and read real files through the same interface as an fs.FS. It opens
// without blocking: opening a FIFO for reading waits for a writer, which may never come.
type osFS struct{}

func (osFS) Open(name string) (fs.File, error) {
	return os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}

func walk(root string, fsys fs.FS, walkDir func(string, fs.WalkDirFunc) error) []file {
	read := func(name string) func() ([]byte, error) {
		return func() ([]byte, error) { return readScenario(fsys, name) }
	}
	info, err := fs.Stat(fsys, root)
	if err != nil {
		return []file{{name: root, err: err}}
	}
	if !info.IsDir() {
		return []file{{name: root, read: read(root)}}
	}
	var files []file
	err = walkDir(root, func(name string, e fs.DirEntry, err error) error {
		if err != nil {
			files = append(files, file{name: name, err: err})
			return nil
		}
		ext := strings.ToLower(path.Ext(name))
		if !e.IsDir() && (ext == ".yaml" || ext == ".yml") {
			files = append(files, file{name: name, read: read(name)})
		}
		return nil
	})
	if err != nil {
		files = append(files, file{name: root, err: err})
	}
	return files
}

// build parses every file and adds the checks that span files.
func (l Loader) build(files []file) *Set {
	set := &Set{}
	firstByName := map[string]Pos{}
	seenFile := map[string]bool{}
	for _, f := range files {
		if seenFile[f.name] && f.err == nil {
			continue // the same file reached through two paths loads once
		}
		seenFile[f.name] = true
		set.files = append(set.files, f.name)
		data, err := f.data()
		if err != nil {
			set.Errors = append(set.Errors, Diagnostic{Pos: Pos{File: f.name}, Msg: err.Error()})
			continue
		}
		s, diags, namePos := l.parse(f.name, data)
		for _, diag := range diags {
			if diag.Warning {
				set.Warnings = append(set.Warnings, diag)
			} else {
				set.Errors = append(set.Errors, diag)
			}
		}
		if s == nil {
			continue
		}
		if first, dup := firstByName[s.Name]; dup {
			set.Warnings = append(set.Warnings, Diagnostic{Pos: namePos, Warning: true,
				Msg: fmt.Sprintf("scenario name %q is also used at %s (both are kept)", s.Name, first)})
		} else {
			firstByName[s.Name] = namePos
		}
		set.Scenarios = append(set.Scenarios, s)
	}
	return set
}

func (f file) data() ([]byte, error) {
	if f.err != nil {
		var pe *fs.PathError
		if errors.As(f.err, &pe) && errors.Is(pe.Err, fs.ErrNotExist) {
			return nil, errors.New("no such file or directory")
		}
		return nil, f.err
	}
	return f.read()
}
