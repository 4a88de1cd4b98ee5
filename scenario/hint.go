package scenario

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// didYouMean returns ` (did you mean "k"?)` for the known name closest to name, or "" when
// none is close enough to be a plausible typo.
func didYouMean(name string, known []string) string {
	if k := nearest(name, known); k != "" {
		return fmt.Sprintf(" (did you mean %q?)", k)
	}
	return ""
}

// nearest is the known name with the smallest edit distance to name (case-insensitive, so
// "toolprefix" finds "toolPrefix"), if that distance is small for the name's length.
func nearest(name string, known []string) string {
	best, bestDist := "", -1
	lname := strings.ToLower(name)
	for _, k := range known {
		if dist := editDistance(lname, strings.ToLower(k)); bestDist < 0 || dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if bestDist < 0 || bestDist > 1+len([]rune(name))/4 {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// Closest returns up to n of the known names nearest to name, nearest first: those that
// contain it, or are within a typo's edit distance of it. The CLI uses it to suggest
// scenario names.
func Closest(name string, known []string, n int) []string {
	type scored struct {
		k    string
		dist int
	}
	var hits []scored
	lname := strings.ToLower(name)
	for _, k := range known {
		lk := strings.ToLower(k)
		dist := editDistance(lname, lk)
		if strings.Contains(lk, lname) {
			dist = min(dist, 1)
		}
		if dist <= max(2, len([]rune(name))/3) {
			hits = append(hits, scored{k, dist})
		}
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].dist < hits[j].dist })
	var out []string
	for i := 0; i < len(hits) && i < n; i++ {
		out = append(out, hits[i].k)
	}
	return out
}

// belongsUnder is where key is a key of a block nested in a struct of type t: the dotted
// path of the nearest block that has it ("config.oauth" for "scope" on an mcp_servers
// entry), "" when no block within three levels has it.
func belongsUnder(t reflect.Type, key string) string {
	type block struct {
		t    reflect.Type
		path string
	}
	level := []block{{t, ""}}
	for range 3 {
		var next []block
		for _, b := range level {
			si := infoOf(b.t)
			for _, k := range si.keys {
				f := b.t.FieldByIndex(si.fields[k]).Type
				if b.t == mcpServerType && k == "config" {
					f = mockConfigType // an opaque map, decoded as a mock's config when it has tools
				}
				for f.Kind() == reflect.Pointer || f.Kind() == reflect.Slice {
					f = f.Elem()
				}
				if f.Kind() != reflect.Struct || f == durationType || f == posType {
					continue
				}
				if _, ok := infoOf(f).fields[key]; ok {
					return joinPath(b.path, k)
				}
				next = append(next, block{f, joinPath(b.path, k)})
			}
		}
		level = next
	}
	return ""
}

var (
	mcpServerType  = reflect.TypeFor[MCPServer]()
	mockConfigType = reflect.TypeFor[mcpserver.Config]()
)

// unknownKeyHint is what follows `unknown key "k"` for a struct of type t whose keys are
// known: where the key belongs when a nested block has it, else the likely typo.
func unknownKeyHint(t reflect.Type, key string, known []string) string {
	if hint := didYouMean(key, known); hint != "" {
		return hint
	}
	if under := belongsUnder(t, key); under != "" {
		return fmt.Sprintf(" (it belongs under %s:)", under)
	}
	return ""
}
