package scenario

import (
	"encoding/json"
	"fmt"
	"path"
	"reflect"
	"slices"
	"strings"

	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// The JSON Schema of scenario files is generated from the types the loader decodes into,
// walked with the decoder's own rules (infoOf's keys, Duration, opaque maps, typed maps,
// null for an absent value), so that a key the loader knows is a key the schema knows and
// an unknown key fails both. What the loader checks in code rather than in types is added
// from the tables below, each keyed by the struct field that holds the value. The schema is
// draft-07, which editors' YAML language servers read.

// schemaNeeds is what the loader requires of a value beyond its type (see checker.validate
// and checker.step), by the field that holds it ("" for the document): keys that must be
// present, and schema fragments for some of its keys.
type schemaNeeds struct {
	required []string
	keys     map[string]map[string]any
	// groupable: an entry with `concurrently` is a group, which needs an id only.
	groupable bool
}

var stepNeeds = schemaNeeds{required: []string{"id", "tool", "expected"},
	keys: map[string]map[string]any{"expected": {"required": []string{"success"}}}}

var schemaRequired = map[string]schemaNeeds{
	"": {required: []string{"name", "steps"}, keys: map[string]map[string]any{"steps": {"minItems": 1}}},
	// steps and the scenario's cleanup need id, tool and expected.success; a step's own
	// cleanup items need a tool only.
	"Scenario.steps":                      {required: stepNeeds.required, keys: stepNeeds.keys, groupable: true},
	"Scenario.cleanup":                    stepNeeds,
	"Step.concurrently":                   stepNeeds,
	"Step.cleanup":                        {required: []string{"tool"}},
	"PreConfiguration.mock_oauth_servers": {required: []string{"name"}},
	"PreConfiguration.mcp_servers":        {required: []string{"name"}},
	"SUT.client":                          {required: []string{"client_id"}},
	"ToolConfig.store": {required: []string{"op"}, keys: map[string]map[string]any{
		"op": {"enum": []string{mcpserver.StorePut, mcpserver.StoreGet, mcpserver.StoreDelete, mcpserver.StoreList, mcpserver.StoreAppend}}}},
}

// schemaStrictWhen is the config of an mcp_servers entry: a mock, decoded strictly, when it
// has `tools` (see decoder.mockConfig); a real server's definition, passed on as written,
// otherwise. The type is whatever the loader decodes a mock's config into.
var schemaStrictWhen = map[string]struct {
	key string
	typ reflect.Type
}{
	"MCPServer.config": {"tools", reflect.TypeOf(MCPServer{}.Mock)},
}

// durationPattern is what time.ParseDuration reads, without a sign: the loader refuses
// negative durations.
const durationPattern = `^\+?(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$`

// templatePattern matches a string with a template in it (isTemplated): such a test tool
// argument is checked once it is resolved, at run time.
const templatePattern = `\{\{.*\}\}`

type schemaGen struct {
	defs  map[string]any
	names map[reflect.Type]string
	used  map[string]bool
	tools []TestTool
}

// JSONSchema returns the JSON Schema of scenario files for this loader: every key of the
// format with its type, the keys the loader requires, and, when the loader has a test tool
// catalogue, the test tools' names and arguments.
func (l Loader) JSONSchema() ([]byte, error) {
	g := &schemaGen{defs: map[string]any{}, names: map[reflect.Type]string{}, used: map[string]bool{}, tools: l.TestTools}
	root := g.of(reflect.TypeFor[Scenario](), "") // the document: schemaRequired[""] wraps it
	root["$schema"] = "http://json-schema.org/draft-07/schema#"
	root["title"] = "muster-test scenario"
	root["description"] = "One scenario: mocks to start, the steps to run against the SUT and what each must return (see scenarios/README.md)."
	root["type"] = "object"
	root["definitions"] = g.defs
	for holder := range schemaRequired {
		if !g.used[holder] {
			return nil, fmt.Errorf("scenario schema: the required keys of %q name no field of the format", holder)
		}
	}
	for holder := range schemaStrictWhen {
		if !g.used[holder] {
			return nil, fmt.Errorf("scenario schema: the strict config of %q names no field of the format", holder)
		}
	}
	out, err := json.MarshalIndent(root, "", "  ")
	return append(out, '\n'), err
}

// nullable is a JSON type that may also be null: the loader reads `key:` as absent.
func nullable(t string) map[string]any { return map[string]any{"type": []string{t, "null"}} }

// of is the schema of a value of type t held by the field holder ("Type.key").
func (g *schemaGen) of(t reflect.Type, holder string) map[string]any {
	switch {
	case t == durationType || t == timeDuration:
		s := nullable("string")
		s["pattern"] = durationPattern
		s["description"] = `a Go duration with its unit, e.g. "30s", "2m", "1h30m" (a bare number is an error)`
		return s
	case t.Kind() == reflect.Interface:
		return map[string]any{}
	case t.Kind() == reflect.Pointer:
		return g.of(t.Elem(), holder)
	case t.Kind() == reflect.Map:
		s := nullable("object")
		if t.Elem().Kind() != reflect.Interface {
			s["additionalProperties"] = g.of(t.Elem(), holder)
		}
		if strict, ok := schemaStrictWhen[holder]; ok {
			g.used[holder] = true
			s["if"] = map[string]any{"type": "object", "required": []string{strict.key}}
			s["then"] = g.ref(strict.typ.Elem())
		}
		return s
	case t.Kind() == reflect.Slice:
		s := nullable("array")
		s["items"] = g.of(t.Elem(), holder)
		return s
	case t.Kind() == reflect.Struct:
		return g.needs(g.ref(t), holder)
	case t.Kind() == reflect.String:
		return nullable("string")
	case t.Kind() == reflect.Bool:
		return nullable("boolean")
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Int64:
		return nullable("integer")
	case t.Kind() == reflect.Float32 || t.Kind() == reflect.Float64:
		return nullable("number")
	}
	panic(fmt.Sprintf("scenario schema: no schema for %s (held by %s)", t, holder))
}

// needs wraps a struct's schema with what schemaRequired says of its holder.
func (g *schemaGen) needs(s map[string]any, holder string) map[string]any {
	n, ok := schemaRequired[holder]
	if !ok {
		return s
	}
	g.used[holder] = true
	need := map[string]any{"required": n.required}
	if len(n.keys) > 0 {
		props := map[string]any{}
		for k, frag := range n.keys {
			props[k] = frag
		}
		need["properties"] = props
	}
	if !n.groupable {
		need["allOf"] = []any{s}
		return need
	}
	return map[string]any{"allOf": []any{s},
		"if":   map[string]any{"required": []string{"concurrently"}},
		"then": map[string]any{"required": []string{"id"}, "properties": map[string]any{"concurrently": map[string]any{"minItems": 1}}},
		"else": need}
}

// ref defines a struct type once (the format's types are recursive: a step holds steps)
// and refers to it.
func (g *schemaGen) ref(t reflect.Type) map[string]any {
	name, ok := g.names[t]
	if !ok {
		name = t.Name()
		if pkg := t.PkgPath(); pkg != reflect.TypeFor[Scenario]().PkgPath() {
			name = path.Base(pkg) + "." + name // a type of the mocks' packages
		}
		g.names[t] = name
		si := infoOf(t)
		props := map[string]any{}
		for _, key := range si.keys {
			props[key] = g.of(t.FieldByIndex(si.fields[key]).Type, t.Name()+"."+key)
		}
		def := nullable("object")
		def["properties"], def["additionalProperties"] = props, false
		if t == reflect.TypeFor[Step]() && len(g.tools) > 0 {
			g.testTools(def, props)
		}
		g.defs[name] = def
	}
	return map[string]any{"$ref": "#/definitions/" + name}
}

// testTools adds the catalogue to the step schema: a `test_` tool must be one of it, and
// each tool's arguments are typed, the required ones required.
func (g *schemaGen) testTools(def, props map[string]any) {
	var names []string
	var rules []any
	for _, tt := range g.tools {
		if tt.Later {
			continue
		}
		names = append(names, tt.Name)
		args := map[string]any{}
		var required []string
		for _, a := range tt.Args {
			args[a.Name] = argSchema(a)
			if a.Required {
				required = append(required, a.Name)
			}
		}
		argsSchema := map[string]any{"description": tt.Signature(), "properties": args}
		then := map[string]any{"properties": map[string]any{"args": argsSchema}}
		if len(required) > 0 {
			argsSchema["required"] = required
			then["required"] = []string{"args"}
		}
		if len(tt.Answer) > 0 {
			then["description"] = tt.Signature() + " answers " + strings.Join(tt.Answer, ", ")
		}
		rules = append(rules, map[string]any{
			"if":   map[string]any{"required": []string{"tool"}, "properties": map[string]any{"tool": map[string]any{"const": tt.Name}}},
			"then": then,
		})
	}
	slices.Sort(names)
	tool := props["tool"].(map[string]any)
	tool["description"] = "a tool of the SUT, or a test tool (test_*) that the runner runs itself"
	tool["anyOf"] = []any{
		map[string]any{"enum": names},
		map[string]any{"not": map[string]any{"pattern": "^test_"}},
		map[string]any{"type": "null"},
	}
	def["allOf"] = rules
}

// argSchema is a test tool argument of its kind (ToolArg.CheckArg); a templated string
// passes for every kind, being checked once resolved, and null is an argument not given.
func argSchema(a ToolArg) map[string]any {
	templated := map[string]any{"type": "string", "pattern": templatePattern}
	null := map[string]any{"type": "null"}
	var s map[string]any
	switch a.Kind {
	case ArgDuration:
		s = nullable("string")
	case ArgSeconds:
		s = map[string]any{"type": []string{"number", "string", "null"}}
	case ArgObject:
		s = map[string]any{"anyOf": []any{nullable("object"), templated}}
	case ArgList:
		list := map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
		if a.Required {
			list["minItems"] = 1
		}
		s = map[string]any{"anyOf": []any{list, templated, null}}
	case ArgBool:
		s = map[string]any{"anyOf": []any{map[string]any{"type": "boolean"}, templated, null}}
	case ArgAny:
		s = map[string]any{}
	default:
		s = nullable("string")
		if a.Required {
			s["minLength"] = 1
		}
	}
	s["description"] = a.Kind.String()
	return s
}
