package scenario

import (
	"fmt"
	"io"
	"io/fs"
	"time"

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

// Bounds of the numeric keys whose size costs time, processes or descriptors. A value past
// one is a load error: `parallel: 1000000` once ran out of file descriptors, and a retry
// delay growing by 1e308 overflowed into no delay at all.
const (
	MaxParallel          = 1000
	MaxRetryCount        = 1000
	MaxBackoffMultiplier = 10.0
	MaxRetryDelay        = Duration(10 * time.Minute) // also caps each backed-off wait
	MaxStepTimeout       = Duration(time.Hour)
	MaxWaitForState      = Duration(time.Hour)
	MaxScenarioTimeout   = Duration(24 * time.Hour)
	MaxMockDelay         = Duration(10 * time.Minute)
	// MaxVirtualUsers bounds a workload's users: each holds an MCP session (a connection).
	MaxVirtualUsers = 100000
	// minTimeout is the least written timeout: `timeout: 0s` would otherwise silently
	// mean "the default" (or, for a scenario, "none").
	minTimeout = Duration(time.Millisecond)
)

// within reports a value given in the file (absent keys take their default) that lies
// outside [lo, hi], at the value. NaN is outside every range.
func within[T int | float64 | Duration | time.Duration](c *checker, field *T, fallback Pos, path string, lo, hi T) {
	if c.nodeOf(field) == nil {
		return
	}
	if v := *field; !(v >= lo && v <= hi) {
		c.errorAt(c.at(field, fallback), "%s: must be from %v to %v, got %v", path, lo, hi, v)
	}
}

// bounds checks a step's numeric keys against their bounds.
func (c *checker) bounds(st *Step, path string) {
	within(c, &st.Parallel, st.Pos, path+".parallel", 1, MaxParallel)
	within(c, &st.Timeout, st.Pos, path+".timeout", minTimeout, MaxStepTimeout)
	if r := st.Retry; r != nil {
		within(c, &r.Count, st.Pos, path+".retry.count", 0, MaxRetryCount)
		within(c, &r.Delay, st.Pos, path+".retry.delay", 0, MaxRetryDelay)
		within(c, &r.BackoffMultiplier, st.Pos, path+".retry.backoff_multiplier", 1, MaxBackoffMultiplier)
	}
	if e := st.Expected; e != nil {
		within(c, &e.WaitForState, e.Pos, path+".expected.wait_for_state", 0, MaxWaitForState)
	}
}

// mockBounds checks the response delays of a scenario's mock servers.
func (c *checker) mockBounds(pc *PreConfiguration) {
	for i, srv := range pc.MCPServers {
		if srv.Mock == nil {
			continue
		}
		for j := range srv.Mock.Tools {
			for k := range srv.Mock.Tools[j].Responses {
				within(c, &srv.Mock.Tools[j].Responses[k].Delay, srv.Pos, fmt.Sprintf(
					"pre_configuration.mcp_servers[%d].config.tools[%d].responses[%d].delay", i, j, k), 0, time.Duration(MaxMockDelay))
			}
		}
	}
}

// MaxFileSize bounds a scenario file. The largest real ones are a few KiB; the YAML
// library's node tree of a file full of tiny values costs about 100 times its size and
// seconds to build, so the bound is kept at 1 MiB rather than a round larger number.
const MaxFileSize = 1 << 20

var errTooLarge = fmt.Errorf("larger than %d MiB, the limit for a scenario file", MaxFileSize>>20)

// readScenario reads a regular file of at most MaxFileSize bytes. Anything else is refused
// before a byte is read: a FIFO blocks until a writer comes, /dev/zero never ends.
func readScenario(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s): a scenario file must be one", kind(info.Mode()))
	}
	if info.Size() > MaxFileSize {
		return nil, errTooLarge
	}
	// The size can change after Stat (and is 0 for some special regular files): the read
	// itself is bounded too.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	switch {
	case err != nil:
		return nil, err
	case len(data) > MaxFileSize:
		return nil, errTooLarge
	}
	return data, nil
}

// kind names what a non-regular file is.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}

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
		if diag.Warning {
			d.droppedWarnings++
		} else {
			d.droppedErrors++
		}
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
	errs, warns := d.droppedErrors, d.droppedWarnings
	for _, r := range rest {
		if r.Warning {
			warns++
		} else {
			errs++
		}
	}
	sum := Diagnostic{Pos: rest[0].Pos, Warning: errs == 0, Hidden: errs}
	switch {
	case errs == 0:
		sum.Hidden, sum.Msg = warns, fmt.Sprintf("... %d more warnings", warns)
	case warns == 0:
		sum.Msg = fmt.Sprintf("... %d more errors", errs)
	default:
		sum.Msg = fmt.Sprintf("... %d more errors and %d warnings", errs, warns)
	}
	sum.Msg += fmt.Sprintf(" in this file, the next one here (at most %d are shown per file)", maxShownPerFile)
	return append(ds[:maxShownPerFile:maxShownPerFile], sum)
}
