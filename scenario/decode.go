package scenario

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// decoder walks yaml.v3 nodes against the yaml tags of the target structs. It never stops
// at the first problem: every error is recorded with its position and decoding goes on, so
// one run shows all of a file's mistakes.
type decoder struct {
	file  string
	diags []Diagnostic
	// nodes maps the address of every field that was decoded without error (e.g.
	// &step.Parallel) to the node it came from: validation uses it for positions and to
	// tell "given" from "zero".
	nodes map[any]*yaml.Node
	// expanding holds the alias targets being decoded, to stop an anchor that contains
	// an alias to itself.
	expanding map[*yaml.Node]bool
	steps     int // values decoded so far, against maxDecodeSteps
	tools     []TestTool
	direct    bool     // Loader.Direct
	lines     []string // the file's lines, for positions inside a scalar (posIn)
	// site is the outermost alias being decoded: the budget error stands there, where the
	// expansion was asked for, rather than inside the anchored value.
	site *yaml.Node
	// over is set when the budget ran out: the document is rejected, nothing more is
	// decoded, and validation (which would report every undecoded step) is skipped.
	over bool
	// deepMerge is set once a merge chain was too deep: one message, not one per path, and
	// no validation of the maps it left unmerged.
	deepMerge bool
	reported  int // diagnostics reported, kept or not
	// Diagnostics past maxKept, only counted.
	droppedErrors, droppedWarnings int
	// misspelt holds the keys that an unknown key of a struct is a typo of (say "sucess"
	// of "success"): a required key given that way is reported once, as the typo.
	misspelt map[misspelling]bool
}

// misspelling is a known key of the struct at addr, written with a typo.
type misspelling struct {
	addr any
	key  string
}

// typo reports whether key of the struct at addr was given with a typo, already reported.
func (d *decoder) typo(addr any, key string) bool { return d.misspelt[misspelling{addr, key}] }

func newDecoder(file string) *decoder {
	return &decoder{file: file, nodes: map[any]*yaml.Node{}, expanding: map[*yaml.Node]bool{}, misspelt: map[misspelling]bool{}}
}

func (d *decoder) pos(n *yaml.Node) Pos {
	return Pos{File: d.file, Line: n.Line, Col: n.Column}
}

func (d *decoder) errorAt(p Pos, format string, args ...any) {
	d.add(Diagnostic{Pos: p, Msg: fmt.Sprintf(format, args...)})
}

func (d *decoder) warnAt(p Pos, format string, args ...any) {
	d.add(Diagnostic{Pos: p, Msg: fmt.Sprintf(format, args...), Warning: true})
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	d.errorAt(d.pos(n), prefix(path)+format, args...)
}

// prefix turns a key path into a message prefix ("steps[2].expected: ").
func prefix(path string) string {
	if path == "" {
		return ""
	}
	return path + ": "
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// nodeOf returns the node a field was decoded from, nil when the key was absent.
func (d *decoder) nodeOf(fieldAddr any) *yaml.Node { return d.nodes[fieldAddr] }

var (
	// The mocks' config types use time.Duration; both are written and checked alike.
	durationType = reflect.TypeFor[Duration]()
	timeDuration = reflect.TypeFor[time.Duration]()
	posType      = reflect.TypeFor[Pos]()
)

// decode stores node n into v, reporting every mismatch under the key path `path`.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.AliasNode && d.site == nil {
		d.site = n
		defer func() { d.site = nil }()
	}
	n, ok := d.resolve(n, path)
	if !ok {
		return
	}
	if !d.spend(1, n, path) {
		return
	}
	if v.Kind() == reflect.Struct {
		// Set even when n is null or not a map, so that a later "missing id" can say where.
		if si := infoOf(v.Type()); si.pos >= 0 {
			v.Field(si.pos).Set(reflect.ValueOf(d.pos(n)))
		}
	}
	if isNull(n) {
		return // null leaves the zero value: an absent key and `key:` mean the same
	}
	if n.Anchor != "" {
		d.expanding[n] = true
		defer delete(d.expanding, n)
	}

	t := v.Type()
	switch {
	case t == durationType || t == timeDuration:
		d.duration(n, v, path)
	case t.Kind() == reflect.Interface:
		d.opaque(n, v, path)
	case t.Kind() == reflect.Map && t.Elem().Kind() != reflect.Interface:
		d.typedMap(n, v, path)
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.errorf(n, path, "expected a map, got %s", describe(n))
			return
		}
		d.opaque(n, v, path)
	case t.Kind() == reflect.Pointer:
		p := reflect.New(t.Elem())
		v.Set(p)
		d.decode(n, p.Elem(), path)
	case t.Kind() == reflect.Struct:
		d.structure(n, v, path)
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, path, "expected a list, got %s", describe(n))
			return
		}
		if !d.fits(len(n.Content), n, path) {
			return // before allocating a slice of a million steps
		}
		// Allocate first so that element addresses recorded in d.nodes stay valid.
		v.Set(reflect.MakeSlice(t, len(n.Content), len(n.Content)))
		for i, c := range n.Content {
			d.decode(c, v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	default:
		d.scalar(n, v, path)
	}
}

// resolve follows an alias to its anchor.
func (d *decoder) resolve(n *yaml.Node, path string) (*yaml.Node, bool) {
	if n.Kind != yaml.AliasNode {
		return n, true
	}
	if n.Alias == nil || d.expanding[n.Alias] {
		d.errorf(n, path, "alias *%s refers to a value that contains it", n.Value)
		return nil, false
	}
	return n.Alias, true
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node holds, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a map"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch n.ShortTag() {
	case "!!str":
		return fmt.Sprintf("a string (%q)", clip(n.Value))
	case "!!int", "!!float":
		return "a number (" + n.Value + ")"
	case "!!bool":
		return "a boolean (" + n.Value + ")"
	case "!!null":
		return "null"
	case "!!timestamp":
		return "a timestamp (" + n.Value + ")"
	}
	return "a value tagged " + n.ShortTag()
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	tag := n.ShortTag()
	if n.Kind != yaml.ScalarNode {
		tag = ""
	}
	switch v.Kind() {
	case reflect.String:
		if tag != "!!str" {
			d.errorf(n, path, "expected a string, got %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Bool:
		var b bool
		if tag != "!!bool" || libDecode(n, &b) != nil {
			d.errorf(n, path, "expected true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		var i int64
		if tag != "!!int" || libDecode(n, &i) != nil || v.OverflowInt(i) {
			d.errorf(n, path, "expected an integer, got %s", describe(n))
			return
		}
		v.SetInt(i)
	case reflect.Float32, reflect.Float64:
		var f float64
		if (tag != "!!int" && tag != "!!float") || libDecode(n, &f) != nil {
			d.errorf(n, path, "expected a number, got %s", describe(n))
			return
		}
		v.SetFloat(f)
	default:
		// A field type the format does not use: a programming error in a tagged type.
		panic(fmt.Sprintf("scenario: no decoder for %s at %s", v.Type(), path))
	}
}

func (d *decoder) duration(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!int" || n.ShortTag() == "!!float") {
		d.errorf(n, path, "bare number %s is not a duration: write it with a unit, e.g. \"%ss\"", n.Value, n.Value)
		return
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		d.errorf(n, path, "expected a duration such as \"30s\", got %s", describe(n))
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		d.errorf(n, path, "invalid duration %q: write a Go duration such as \"30s\", \"2m\" or \"1h30m\"", n.Value)
		return
	}
	if dur < 0 {
		d.errorf(n, path, "duration %q must not be negative", n.Value)
		return
	}
	v.SetInt(int64(dur))
}

// typedMap decodes a map whose values have a type of the format (map[string]string,
// map[string]SUTUser): each value is checked like a field.
func (d *decoder) typedMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a map, got %s", describe(n))
		return
	}
	t := v.Type()
	m := reflect.MakeMapWithSize(t, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "expected a name as the key, got %s", describe(k))
			continue
		}
		e := reflect.New(t.Elem()).Elem()
		d.decode(n.Content[i+1], e, path+"."+k.Value)
		m.SetMapIndex(reflect.ValueOf(k.Value), e)
	}
	v.Set(m)
}

// opaque loads a subtree the format does not check key by key (args, json_path, ...) as
// plain Go values: map[string]any, []any and scalars.
func (d *decoder) opaque(n *yaml.Node, v reflect.Value, path string) {
	if !d.weigh(n, path) {
		return
	}
	var out any
	if err := d.library(n, path, &out); err != nil {
		return
	}
	out = plain(out)
	if out == nil {
		return
	}
	v.Set(reflect.ValueOf(out))
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// libDecode runs yaml.v3's own decoding of a node. A panic inside the library becomes an
// error: a scenario file must never crash the runner.
func libDecode(n *yaml.Node, out any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml library failure: %v", r)
		}
	}()
	return n.Decode(out)
}

// library is libDecode that reports its errors as diagnostics; non-nil when it did.
func (d *decoder) library(n *yaml.Node, path string, out any) error {
	err := libDecode(n, out)
	if err == nil {
		return nil
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, msg := range te.Errors {
			d.errorAt(lineDiag(d.file, n, msg), "%s", lineMessage(msg))
		}
		return err
	}
	d.errorf(n, path, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
	return err
}

// lineDiag reads the line out of a yaml.v3 message ("line 5: ..."), falling back to n.
func lineDiag(file string, n *yaml.Node, msg string) Pos {
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		if line, err := strconv.Atoi(m[1]); err == nil {
			return Pos{File: file, Line: line}
		}
	}
	return Pos{File: file, Line: n.Line, Col: n.Column}
}

func lineMessage(msg string) string {
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		return m[2]
	}
	return strings.TrimPrefix(msg, "yaml: ")
}

// plain rewrites yaml.v3's map[interface{}]interface{} (mappings with non-string keys) to
// map[string]any so that consumers see one map type everywhere. It rewrites in place: the
// values come straight from the YAML library and nobody else holds them. mcpserver's
// normalize does the same for a Config but copies, because a Config's maps belong to its
// caller; the runner's report and expect packages have their own, which also convert
// numbers (expect) or run on values of any origin (report), and may not import this one.
func plain(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = plain(e)
		}
		return x
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[fmt.Sprint(k)] = plain(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = plain(e)
		}
		return x
	}
	return v
}

// structInfo is what the decoder needs of a struct type: its keys and its Pos field.
type structInfo struct {
	fields map[string][]int // yaml key -> field index (a path through `,inline` structs)
	keys   []string         // declaration order, for did-you-mean hints
	pos    int              // index of the `Pos` field, -1 when none
}

var structInfos sync.Map // reflect.Type -> *structInfo

func infoOf(t reflect.Type) *structInfo {
	if si, ok := structInfos.Load(t); ok {
		return si.(*structInfo)
	}
	si := &structInfo{fields: map[string][]int{}, pos: -1}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case name == "-" && f.Type == posType:
			si.pos = i
		case name == "-" || !f.IsExported():
		case name == "" && opts == "inline":
			// An embedded config type (a mock's), whose keys are the entry's own, as
			// yaml.v3 reads them.
			inner := infoOf(f.Type)
			for _, k := range inner.keys {
				si.fields[k] = append([]int{i}, inner.fields[k]...)
				si.keys = append(si.keys, k)
			}
		default:
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			si.fields[name] = []int{i}
			si.keys = append(si.keys, name)
		}
	}
	structInfos.Store(t, si)
	return si
}

func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "expected a map, got %s", describe(n))
		return
	}
	si := infoOf(v.Type())
	seen := map[string]*yaml.Node{}
	for _, kv := range d.pairs(n, path, 0, nil) {
		k := kv[0]
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "expected a key name, got %s", describe(k))
			continue
		}
		i, known := si.fields[k.Value]
		if !known {
			d.errorf(k, path, "unknown key %q%s", k.Value, unknownKeyHint(v.Type(), k.Value, si.keys))
			if near := nearest(k.Value, si.keys); near != "" {
				d.misspelt[misspelling{v.Addr().Interface(), near}] = true
			}
			continue
		}
		if first := seen[k.Value]; first != nil {
			d.errorf(k, path, "key %q given twice (first at line %d)", k.Value, first.Line)
			continue
		}
		seen[k.Value] = k
		f := v.FieldByIndex(i)
		val, ok := d.resolve(kv[1], joinPath(path, k.Value))
		if !ok {
			continue
		}
		before := d.reported
		d.decode(kv[1], f, joinPath(path, k.Value)) // the alias itself, if it is one: see site
		if d.reported == before {
			// Only a cleanly decoded value counts as given: a rejected `parallel: many`
			// must not also be reported as "parallel: must be at least 1, got 0".
			d.nodes[f.Addr().Interface()] = val
		}
	}
	if s, ok := v.Addr().Interface().(*MCPServer); ok {
		d.mockConfig(s, path)
	}
}

// pairs lists a mapping's key/value pairs with YAML merge keys (`<<: *base`) applied:
// explicit keys win over merged ones, as yaml.v3 does for plain maps. depth is how many
// merges led to n, top the outermost merge key of them (nil for none): a chain that is too
// deep is reported there, where the author looks.
func (d *decoder) pairs(n *yaml.Node, path string, depth int, top *yaml.Node) [][2]*yaml.Node {
	var own, merged [][2]*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!merge" {
			own = append(own, [2]*yaml.Node{k, val})
			continue
		}
		val, ok := d.resolve(val, path)
		if !ok {
			continue
		}
		at := top
		if at == nil {
			at = k
		}
		sources := []*yaml.Node{val}
		if val.Kind == yaml.SequenceNode {
			sources = val.Content
		}
		for _, src := range sources {
			src, ok := d.resolve(src, path)
			if !ok {
				continue
			}
			// Merges of merges expand like aliases do: they count against the same budget.
			if !d.spend(len(src.Content)/2, k, path) {
				return own
			}
			switch {
			case src.Kind != yaml.MappingNode:
				d.errorf(k, path, "a merge key (<<) needs a map or a list of maps, got %s", describe(src))
				continue
			case d.expanding[src]:
				d.errorf(k, path, "a merge key (<<) refers to a map that contains it")
				continue
			case depth >= maxMergeDepth:
				if !d.deepMerge {
					d.deepMerge = true
					d.errorf(at, path, "merge keys (<<) nested more than %d deep", maxMergeDepth)
				}
				return own
			}
			d.expanding[src] = true
			merged = append(merged, d.pairs(src, path, depth+1, at)...)
			delete(d.expanding, src)
		}
	}
	have := map[string]bool{}
	for _, kv := range own {
		have[kv[0].Value] = true
	}
	for _, kv := range merged {
		if !have[kv[0].Value] {
			have[kv[0].Value] = true
			own = append(own, kv)
		}
	}
	return own
}

// mockConfig decodes an mcp_servers entry's config strictly when it describes a mock (it has
// `tools`); a config without tools is a real server definition and stays an opaque map.
func (d *decoder) mockConfig(s *MCPServer, path string) {
	cfg := d.nodeOf(&s.Config)
	if cfg == nil || cfg.Kind != yaml.MappingNode {
		return
	}
	for _, kv := range d.pairs(cfg, path, 0, nil) {
		if kv[0].Kind == yaml.ScalarNode && kv[0].Value == "tools" {
			s.Mock = new(mcpserver.Config)
			d.decode(cfg, reflect.ValueOf(s.Mock).Elem(), joinPath(path, "config"))
			return
		}
	}
}
