package mcpserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

// argTemplate matches `{{ name }}` and `{{ .name }}`. Anything else between braces (a
// path, a function call, a pipeline) is not an argument reference and stays verbatim,
// because muster's configurations carry their own templates through mock responses.
var argTemplate = regexp.MustCompile(`\{\{\s*\.?([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}`)

// TemplateArgs lists the arguments the templates in s refer to, in order: what a response
// needs from a call. The scenario loader checks them against the tool's input_schema.
func TemplateArgs(s string) []string {
	var names []string
	for _, m := range argTemplate.FindAllStringSubmatch(s, -1) {
		names = append(names, m[1])
	}
	return names
}

// missingArgError names an argument a template needs but the call did not provide.
type missingArgError struct{ name string }

func (e *missingArgError) Error() string {
	return fmt.Sprintf("argument %q is referenced by the response but was not given and has no default", e.name)
}

// render substitutes argument templates in every string of v. The runner's executor walks
// step arguments alike for its own templates (step results, the scenario's world); the
// grammars differ and a mock imports nothing of the runner, so the walks stay apart. A string that is exactly
// one template takes the argument's value with its type (a number stays a number);
// inside a longer string values are formatted naturally.
func render(v any, args map[string]any) (any, error) {
	switch x := v.(type) {
	case string:
		return renderString(x, args)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := render(e, args)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := render(e, args)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	default:
		return v, nil
	}
}

func renderString(s string, args map[string]any) (any, error) {
	if !strings.Contains(s, "{{") {
		return s, nil
	}
	if m := argTemplate.FindStringSubmatchIndex(s); m != nil && m[0] == 0 && m[1] == len(s) {
		name := s[m[2]:m[3]]
		v, ok := args[name]
		if !ok {
			return nil, &missingArgError{name}
		}
		return v, nil
	}
	var err error
	out := argTemplate.ReplaceAllStringFunc(s, func(tpl string) string {
		name := argTemplate.FindStringSubmatch(tpl)[1]
		v, ok := args[name]
		if !ok {
			if err == nil {
				err = &missingArgError{name}
			}
			return tpl
		}
		return formatScalar(v)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// toText renders a response value as the text content of a tool result: strings as they
// are, maps and lists as compact JSON, scalars formatted naturally, nil as "".
func toText(v any) (string, error) {
	switch v.(type) {
	case nil:
		return "", nil
	case map[string]any, []any:
		return toJSON(v)
	default:
		return formatScalar(v), nil
	}
}

// toJSON encodes without HTML escaping so that "&" in a response stays "&" for the
// substring expectations of scenario files.
func toJSON(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// formatScalar formats a value for use inside text: 3 rather than 3.000000, maps and lists
// as JSON.
func formatScalar(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case json.Number:
		return x.String()
	case map[string]any, []any:
		s, err := toJSON(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return s
	default:
		return fmt.Sprint(x)
	}
}

// valuesEqual compares a condition value with an argument the way scenario expectations
// compare JSON values: numbers by value whatever their type (42 == 42.0 == "42"), booleans
// with their string forms, maps key by key and lists element by element.
func valuesEqual(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !valuesEqual(wv, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !valuesEqual(w[i], g[i]) {
				return false
			}
		}
		return true
	case nil:
		return got == nil
	}
	if got == nil {
		return false
	}
	if ws, ok := want.(string); ok {
		if gs, ok := got.(string); ok {
			return ws == gs
		}
	}
	if wf, ok := asNumber(want); ok {
		gf, ok := asNumber(got)
		return ok && wf == gf
	}
	if wb, ok := asBool(want); ok {
		gb, ok := asBool(got)
		return ok && wb == gb
	}
	switch got.(type) {
	case map[string]any, []any:
		return false
	}
	return formatScalar(want) == formatScalar(got)
}

func asNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		return f, err == nil && !math.IsNaN(f)
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case bool:
		return 0, false
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(rv.Uint()), true
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	}
	return 0, false
}

func asBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}
