package result

import (
	"fmt"
	"strconv"
	"strings"
)

// SplitPath splits a json_path or template path on dots. A segment in double quotes is
// literal and may contain dots (`_meta."giantswarm.io/auth_required".0.server`).
func SplitPath(path string) ([]string, error) {
	var segs []string
	for i := 0; i <= len(path); {
		if i < len(path) && path[i] == '"' {
			end := strings.IndexByte(path[i+1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("unclosed quote in path %q", path)
			}
			segs = append(segs, path[i+1:i+1+end])
			i += end + 2
			if i < len(path) && path[i] != '.' {
				return nil, fmt.Errorf("path %q: a quoted segment must be followed by '.'", path)
			}
			i++
			continue
		}
		end := strings.IndexByte(path[i:], '.')
		if end < 0 {
			end = len(path) - i
		}
		seg := path[i : i+end]
		if seg == "" {
			return nil, fmt.Errorf("empty segment in path %q", path)
		}
		segs = append(segs, seg)
		i += end + 1
	}
	return segs, nil
}

// Lookup follows segs through maps and lists (numeric segments index lists).
func Lookup(v any, segs []string) (any, bool) {
	for _, s := range segs {
		switch c := v.(type) {
		case map[string]any:
			next, ok := c[s]
			if !ok {
				return nil, false
			}
			v = next
		case []any:
			i, err := strconv.Atoi(s)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			v = c[i]
		default:
			return nil, false
		}
	}
	return v, true
}
