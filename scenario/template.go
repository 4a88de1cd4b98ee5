package scenario

import (
	"regexp"
	"strings"
)

var (
	templateExpr = regexp.MustCompile(`\{\{-?(.*?)-?\}\}`)
	// plainPath is `{{ step-id.a.b }}` / `{{ .step-id.a.b }}`: dot-separated segments, a
	// quoted segment may contain dots. Anything else (pipes, functions, spaces) is a
	// template of the SUT's own (muster workflows) and passes through untouched.
	plainPath = regexp.MustCompile(`^\.?([A-Za-z0-9_-]+)(\.([A-Za-z0-9_-]+|"[^"]*"))*$`)
)

// TemplateRef is one `{{ ... }}` expression found in a string.
type TemplateRef struct {
	Start, End int    // byte range of the whole expression
	Path       string // the plain path without its leading dot; "" when not a plain path
	Root       string // the path's first segment (a step id, when it names one)
}

// Templates finds every template expression in s, in order. The loader and the executor
// share it so that what is checked at load time is exactly what is resolved at run time.
func Templates(s string) []TemplateRef {
	if !strings.Contains(s, "{{") {
		return nil
	}
	var refs []TemplateRef
	for _, m := range templateExpr.FindAllStringSubmatchIndex(s, -1) {
		ref := TemplateRef{Start: m[0], End: m[1]}
		inner := strings.TrimSpace(s[m[2]:m[3]])
		if p := plainPath.FindStringSubmatch(inner); p != nil {
			ref.Path, ref.Root = strings.TrimPrefix(inner, "."), p[1]
		}
		refs = append(refs, ref)
	}
	return refs
}

// templateRoots returns the first path segment of every plain-path template in s, in order.
// Whether a root is a step id is for the caller to decide: `{{ .port }}` has root "port".
func templateRoots(s string) []string {
	var roots []string
	for _, r := range Templates(s) {
		if r.Root != "" {
			roots = append(roots, r.Root)
		}
	}
	return roots
}

// isTemplated reports whether a literal holds a template and so cannot be checked at load.
func isTemplated(s string) bool { return templateExpr.MatchString(s) }
