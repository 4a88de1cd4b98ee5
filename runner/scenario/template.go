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

// templateRoots returns the first path segment of every plain-path template in s, in order.
// Whether a root is a step id is for the caller to decide: `{{ .port }}` has root "port".
func templateRoots(s string) []string {
	if !strings.Contains(s, "{{") {
		return nil
	}
	var roots []string
	for _, m := range templateExpr.FindAllStringSubmatch(s, -1) {
		if p := plainPath.FindStringSubmatch(strings.TrimSpace(m[1])); p != nil {
			roots = append(roots, p[1])
		}
	}
	return roots
}

// isTemplated reports whether a literal holds a template and so cannot be checked at load.
func isTemplated(s string) bool { return templateExpr.MatchString(s) }
