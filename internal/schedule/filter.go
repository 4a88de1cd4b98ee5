package schedule

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/muster-test/muster-test/scenario"
)

// Filter selects scenarios. Empty fields select everything.
type Filter struct {
	Names    []string // exact names (--scenario); a name that matches nothing is an error
	Tags     []string // a scenario must carry every one of these tags (--tag)
	Category string
	Concept  string
	Shard    Shard
}

// Shard is the K-th of N parts of the suite (1-based). The zero value is the whole suite.
type Shard struct{ K, N int }

// ParseShard reads "K/N" with 1 <= K <= N.
func ParseShard(s string) (Shard, error) {
	k, n, ok := strings.Cut(s, "/")
	ki, err1 := strconv.Atoi(k)
	ni, err2 := strconv.Atoi(n)
	if !ok || err1 != nil || err2 != nil || ni < 1 || ki < 1 || ki > ni {
		return Shard{}, fmt.Errorf("--shard %q: want K/N with 1 <= K <= N, e.g. 2/4", s)
	}
	return Shard{K: ki, N: ni}, nil
}

// Select applies f. The shard partition is computed over the filtered set sorted by name
// and file, dealt round-robin: every machine that runs the same files with the same
// filters gets the same parts, the parts are disjoint, together they are the whole set,
// and their sizes differ by at most one.
func Select(all []*scenario.Scenario, f Filter) ([]*scenario.Scenario, error) {
	if err := checkNames(all, f.Names); err != nil {
		return nil, err
	}
	var out []*scenario.Scenario
	for _, sc := range all {
		if len(f.Names) > 0 && !slices.Contains(f.Names, sc.Name) {
			continue
		}
		if f.Category != "" && !strings.EqualFold(sc.Category, f.Category) {
			continue
		}
		if f.Concept != "" && !strings.EqualFold(sc.Concept, f.Concept) {
			continue
		}
		if !hasAll(sc.Tags, f.Tags) {
			continue
		}
		out = append(out, sc)
	}
	if f.Shard.N <= 1 {
		return out, nil
	}
	sorted := slices.Clone(out)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].Name != sorted[j].Name {
			return sorted[i].Name < sorted[j].Name
		}
		return sorted[i].Pos.File < sorted[j].Pos.File
	})
	mine := map[*scenario.Scenario]bool{}
	for i, sc := range sorted {
		if i%f.Shard.N == f.Shard.K-1 {
			mine[sc] = true
		}
	}
	// Keep the run in the files' order, which is what users read in reports.
	return slices.DeleteFunc(out, func(sc *scenario.Scenario) bool { return !mine[sc] }), nil
}

func hasAll(have, want []string) bool {
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, w) }) {
			return false
		}
	}
	return true
}

// UnknownNamesError is a --scenario that matches nothing: each miss with the close names it
// may have meant, and every name there is.
type UnknownNamesError struct {
	misses []string // one line per name not found, with a did-you-mean
	known  []string // every scenario name, sorted, once each
}

// Misses says which names were not found and what they may have meant.
func (e *UnknownNamesError) Misses() string { return strings.Join(e.misses, "\n") }

// Available lists the names there are.
func (e *UnknownNamesError) Available() string {
	return fmt.Sprintf("available scenarios (%d):\n  %s", len(e.known), strings.Join(e.known, "\n  "))
}

func (e *UnknownNamesError) Error() string { return e.Misses() + "\n" + e.Available() }

// checkNames makes a --scenario that matches nothing an *UnknownNamesError.
func checkNames(all []*scenario.Scenario, names []string) error {
	var known []string
	for _, sc := range all {
		known = append(known, sc.Name)
	}
	slices.Sort(known)
	known = slices.Compact(known)
	var msgs []string
	for _, n := range names {
		if slices.Contains(known, n) {
			continue
		}
		msg := fmt.Sprintf("no scenario named %q", n)
		if close := scenario.Closest(n, known, 3); len(close) > 0 {
			msg += fmt.Sprintf("; did you mean %s?", strings.Join(quoteAll(close), " or "))
		}
		msgs = append(msgs, msg)
	}
	if len(msgs) == 0 {
		return nil
	}
	return &UnknownNamesError{misses: msgs, known: known}
}

// Explain says why f selects none of all: for each of --tag, --category and --concept that
// no scenario has, the values that exist (with a did-you-mean); for a combination that
// matches nothing, which filters were given. It starts with ":" or is empty.
func Explain(all []*scenario.Scenario, f Filter) string {
	var tags, cats, concepts []string
	for _, sc := range all {
		tags = append(tags, sc.Tags...)
		cats = append(cats, sc.Category)
		concepts = append(concepts, sc.Concept)
	}
	var out []string
	miss := func(flag, plural string, want []string, have []string) {
		have = distinctFold(have)
		for _, w := range want {
			if w == "" || slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, w) }) {
				continue
			}
			msg := fmt.Sprintf("no scenario has %s %q", flag, w)
			if close := scenario.Closest(w, have, 3); len(close) > 0 {
				msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(quoteAll(close), " or "))
			}
			if len(have) == 0 {
				msg += fmt.Sprintf("; no scenario has any %s", flag)
			} else {
				msg += fmt.Sprintf("; known %s: %s", plural, strings.Join(have, ", "))
			}
			out = append(out, msg)
		}
	}
	miss("tag", "tags", f.Tags, tags)
	miss("category", "categories", []string{f.Category}, cats)
	miss("concept", "concepts", []string{f.Concept}, concepts)
	if len(out) == 0 {
		var given []string
		for _, t := range f.Tags {
			given = append(given, "--tag "+t)
		}
		if f.Category != "" {
			given = append(given, "--category "+f.Category)
		}
		if f.Concept != "" {
			given = append(given, "--concept "+f.Concept)
		}
		if f.Shard.N > 1 {
			given = append(given, fmt.Sprintf("--shard %d/%d (an empty part)", f.Shard.K, f.Shard.N))
		}
		if len(given) == 0 {
			return ""
		}
		return ": no scenario has all of " + strings.Join(given, ", ")
	}
	return ":\n  " + strings.Join(out, "\n  ")
}

// distinctFold sorts values and drops empty ones and case-insensitive repeats.
func distinctFold(vs []string) []string {
	var out []string
	for _, v := range vs {
		if v != "" && !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, v) }) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strconv.Quote(v)
	}
	return out
}
