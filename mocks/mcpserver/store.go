package mcpserver

import (
	"fmt"
	"maps"
	"math"
	"strconv"
	"strings"

	"github.com/muster-test/muster-test/mocks/kvstore"
)

// Store operations a tool's `store` may name.
const (
	StorePut    = "put"
	StoreGet    = "get"
	StoreDelete = "delete"
	StoreList   = "list"
	StoreAppend = "append"
)

const storeOps = "put, get, delete, list or append"

// StoreConfig makes a tool read or write its server's key-value store, so that what one
// call puts another call (of any session, any user) gets back. Key, Value, IfVersion and
// Prefix are rendered with the call's arguments like responses are.
type StoreConfig struct {
	// Op is put, get, delete, list or append.
	Op string `yaml:"op"`
	// Key names the entry. A put without one stores under a new key (the next free
	// number, as a string), as a create does.
	Key string `yaml:"key"`
	// Value is what a put stores; absent, the call's arguments (defaults applied). For an
	// append it is required, an object: each of its fields' text is added to the end of
	// the entry's field of that name, atomically (appends made at once all land).
	Value any `yaml:"value"`
	// IfVersion makes a put or delete conditional: it happens only when the entry is at
	// this version (0: the key must be free), else the call is a version-conflict tool
	// error. Absent, writes are unconditional.
	IfVersion any `yaml:"if_version"`
	// Prefix limits a list to the keys that start with it.
	Prefix string `yaml:"prefix"`
}

// StoreProblem is one thing wrong with a StoreConfig: the key it concerns ("" for the
// store as a whole) and what is wrong, so that a loader can point at the key.
type StoreProblem struct {
	Key, Msg string
}

// Problems lists what no call could serve: an unknown op, and keys the op does not use
// or needs.
func (c StoreConfig) Problems() []StoreProblem {
	var out []StoreProblem
	bad := func(key, format string, args ...any) {
		out = append(out, StoreProblem{key, fmt.Sprintf(format, args...)})
	}
	switch c.Op {
	case StorePut, StoreGet, StoreDelete, StoreList, StoreAppend:
	case "":
		bad("", `missing required key "op" (%s)`, storeOps)
		return out
	default:
		bad("op", "unknown op %q (%s)", c.Op, storeOps)
		return out
	}
	if c.Key == "" && (c.Op == StoreGet || c.Op == StoreDelete || c.Op == StoreAppend) {
		bad("", `op %s needs a "key"`, c.Op)
	}
	if c.Key != "" && c.Op == StoreList {
		bad("key", `op list takes no "key" (use "prefix")`)
	}
	if _, fields := c.Value.(map[string]any); c.Op == StoreAppend && !fields {
		bad("value", `op append needs a "value" with the fields to add text to (e.g. {text: "{{ text }}"})`)
	}
	if c.Value != nil && c.Op != StorePut && c.Op != StoreAppend {
		bad("value", `only ops put and append take a "value"`)
	}
	v, literal := c.IfVersion.(string)
	switch {
	case c.IfVersion == nil:
	case c.Op != StorePut && c.Op != StoreDelete:
		bad("if_version", `only ops put and delete take "if_version"`)
	case c.Key == "":
		bad("if_version", `"if_version" needs a "key": a put without one always creates`)
	case literal && !strings.Contains(v, "{{"):
		if _, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err != nil {
			bad("if_version", "if_version %q is neither a version number nor a template", v)
		}
	}
	if c.Prefix != "" && c.Op != StoreList {
		bad("prefix", `only op list takes a "prefix"`)
	}
	return out
}

// kvStore is a server's store: one per server, gone with the server (a stdio mock's lives
// as long as its one session, in its process or relayed).
type kvStore struct{ kvstore.Store }

// storeError is a call the store refuses (a missing key, a version conflict): a tool error.
type storeError struct{ msg string }

func (e *storeError) Error() string { return e.msg }

// apply runs one call's operation with its rendered settings and returns the answer, a
// JSON object: put and append {key, version, value}, get {key, version, value}, delete
// {key, deleted, version}, list {keys, count}.
func (s *kvStore) apply(c StoreConfig, args map[string]any) (map[string]any, error) {
	key, err := renderText(c.Key, args)
	if err != nil {
		return nil, err
	}
	cond, err := ifVersion(c.IfVersion, args)
	if err != nil {
		return nil, err
	}
	var value any
	if c.Op == StorePut || c.Op == StoreAppend {
		if c.Value == nil {
			value = maps.Clone(args)
		} else if value, err = render(c.Value, args); err != nil {
			return nil, err
		}
	}
	prefix, err := renderText(c.Prefix, args)
	if err != nil {
		return nil, err
	}
	var e kvstore.Entry
	switch c.Op {
	case StorePut:
		if c.Key == "" {
			e = s.Create(value)
		} else if e, err = s.Put(key, value, cond); err != nil {
			return nil, refused(err, "")
		}
		return map[string]any{"key": e.Key, "version": e.Version, "value": e.Value}, nil
	case StoreAppend:
		if e, err = s.Update(key, func(old any) (any, error) { return appendFields(key, old, value) }); err != nil {
			return nil, refused(err, " to append to")
		}
		return map[string]any{"key": e.Key, "version": e.Version, "value": e.Value}, nil
	case StoreGet:
		if e, err = s.Get(key); err != nil {
			return nil, refused(err, "")
		}
		return map[string]any{"key": key, "version": e.Version, "value": e.Value}, nil
	case StoreDelete:
		if e, err = s.Delete(key, cond); err != nil {
			return nil, refused(err, " to delete")
		}
		return map[string]any{"key": key, "deleted": true, "version": e.Version}, nil
	default: // list; Problems refused any other op
		keys := []any{}
		for _, k := range s.Keys(prefix) {
			keys = append(keys, k)
		}
		return map[string]any{"keys": keys, "count": len(keys)}, nil
	}
}

// appendFields is the entry's value old with each field of add's text added to the end
// of its own; the entry must be an object whose fields named in add are text or absent.
func appendFields(key string, old, add any) (any, error) {
	obj, ok := old.(map[string]any)
	if !ok {
		return nil, &storeError{fmt.Sprintf("append: the entry under key %q is not an object", key)}
	}
	out := maps.Clone(obj)
	for f, v := range add.(map[string]any) {
		prev, text := out[f].(string)
		if out[f] != nil && !text {
			return nil, &storeError{fmt.Sprintf("append: field %q of key %q is not text", f, key)}
		}
		out[f] = prev + formatScalar(v)
	}
	return out, nil
}

// refused is the tool error of a call the store refused; what is appended to a missing
// key's message says what the call meant to do with it.
func refused(err error, missing string) error {
	msg := err.Error()
	if _, ok := err.(*kvstore.NotFoundError); ok {
		msg += missing
	}
	return &storeError{msg}
}

// renderText renders a template as a key: whatever the arguments hold, formatted.
func renderText(tpl string, args map[string]any) (string, error) {
	v, err := renderString(tpl, args)
	if err != nil {
		return "", err
	}
	return formatScalar(v), nil
}

// ifVersion renders the expected version; the zero Cond when none is configured.
func ifVersion(tpl any, args map[string]any) (kvstore.Cond, error) {
	if tpl == nil {
		return kvstore.Cond{}, nil
	}
	v, err := render(tpl, args)
	if err != nil {
		return kvstore.Cond{}, err
	}
	f, ok := asNumber(v)
	if !ok || f != math.Trunc(f) || f < 0 {
		return kvstore.Cond{}, &storeError{fmt.Sprintf("if_version: %s is not a version number", formatScalar(v))}
	}
	return kvstore.At(int64(f)), nil
}
