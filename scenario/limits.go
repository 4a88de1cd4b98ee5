package scenario

import (
	"fmt"

	"gopkg.in/yaml.v3"
)

// The limits below keep a hostile or broken file from costing more than a moment: the
// loader stops at them with one clear error (each with its position) instead of running
// for minutes and printing millions of lines.

// maxDecodeSteps bounds the values one document may hold or expand to. Aliases let a small
// file name the same subtree many times (a "billion laughs" document), and a few MiB of
// `{},` are a million steps; real scenario files stay far below this.
const maxDecodeSteps = 200_000

// maxMergeDepth bounds chains of merge keys (a map merging a map that merges a map ...).
const maxMergeDepth = 16

// maxKept bounds the diagnostics a decoder holds; the rest are only counted. Only the first
// maxShownPerFile are shown, so keeping more would cost memory for nothing.
const maxKept = 1000

// spend takes cost from the value budget; false (reported once, at n) when it runs out.
func (d *decoder) spend(cost int, n *yaml.Node, path string) bool {
	if d.over {
		return false
	}
	if d.steps += cost; d.steps > maxDecodeSteps {
		d.over = true
		if d.site != nil {
			n = d.site
		}
		d.errorf(n, path, "the document holds more than %d values (aliases and merge keys expanded); "+
			"loading stopped here", maxDecodeSteps)
		return false
	}
	return true
}

// fits is whether k more values fit the budget, without spending them; it reports like
// spend when they do not.
func (d *decoder) fits(k int, n *yaml.Node, path string) bool {
	if !d.over && d.steps+k <= maxDecodeSteps {
		return true
	}
	return d.spend(k, n, path)
}

// weigh spends one value per node of a subtree that the YAML library will decode (args,
// configs), aliases expanded, so that those count against the budget too.
func (d *decoder) weigh(n *yaml.Node, path string) bool {
	var walk func(n *yaml.Node) bool
	walk = func(n *yaml.Node) bool {
		if n.Kind == yaml.AliasNode {
			if n.Alias == nil || d.expanding[n.Alias] {
				return true // the library reports it
			}
			if d.site == nil {
				d.site = n
				defer func() { d.site = nil }()
			}
			d.expanding[n.Alias] = true
			defer delete(d.expanding, n.Alias)
			return walk(n.Alias)
		}
		if !d.spend(1, n, path) {
			return false
		}
		for _, c := range n.Content {
			if !walk(c) {
				return false
			}
		}
		return true
	}
	return walk(n)
}

func (d *decoder) add(diag Diagnostic) {
	d.reported++
	if diag.Pos.File == "" { // a value never decoded (e.g. a broken alias) still names its file
		diag.Pos.File = d.file
	}
	if len(d.diags) >= maxKept {
		d.dropped++
		d.droppedErrors = d.droppedErrors || !diag.Warning
		return
	}
	d.diags = append(d.diags, diag)
}

// maxShownPerFile bounds the diagnostics one file reports: past a few dozen, more lines
// bury the first mistake, which often causes the rest.
const maxShownPerFile = 50

// capped is the sorted diagnostics cut to maxShownPerFile, plus one line that counts the
// rest and stands at the first of them. That line is an error when any of the rest is.
func (d *decoder) capped() []Diagnostic {
	ds := d.diags
	if len(ds) <= maxShownPerFile { // maxKept is larger: nothing was dropped either
		return ds
	}
	rest := ds[maxShownPerFile:]
	more, warning := len(rest)+d.dropped, !d.droppedErrors
	for _, r := range rest {
		warning = warning && r.Warning
	}
	kind := "errors"
	if warning {
		kind = "warnings"
	}
	return append(ds[:maxShownPerFile:maxShownPerFile], Diagnostic{Pos: rest[0].Pos, Warning: warning,
		Msg: fmt.Sprintf("... %d more %s in this file, the next one here (at most %d are shown per file)", more, kind, maxShownPerFile)})
}
