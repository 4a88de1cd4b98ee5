package expect

import (
	"fmt"
	"strconv"
)

// Match compares an expected value from a scenario file with an actual value from a result:
// maps match partially (every expected key present and matching), lists element by element
// with the same length and order, scalars by value across types (42 == 42.0, "3" == 3,
// true == "true").
func Match(want, got any) bool {
	want, got = Normalize(want), Normalize(got)
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok || !Match(wv, gv) {
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
			if !Match(w[i], g[i]) {
				return false
			}
		}
		return true
	case nil:
		return got == nil
	}
	switch got.(type) {
	case map[string]any, []any, nil:
		return false
	}
	// Numbers compare by value across types ("3" matches 3), but two strings compare as
	// strings: "1.10" is not "1.1" and "007" is not "7".
	_, wIsNum := want.(float64)
	_, gIsNum := got.(float64)
	if wIsNum || gIsNum {
		wf, wNum := number(want)
		gf, gNum := number(got)
		if wNum && gNum {
			return wf == gf
		}
	}
	return scalarString(want) == scalarString(got)
}

// Normalize turns the value types YAML and JSON decoders produce into one set: float64 for
// numbers, map[string]any for maps, []any for lists.
func Normalize(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case uint64:
		return float64(x)
	case float32:
		return float64(x)
	case map[any]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			m[fmt.Sprint(k)] = Normalize(val)
		}
		return m
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			m[k] = Normalize(val)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, val := range x {
			l[i] = Normalize(val)
		}
		return l
	case []string:
		l := make([]any, len(x))
		for i, val := range x {
			l[i] = val
		}
		return l
	}
	return v
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil
	}
	return 0, false
}

func scalarString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}
