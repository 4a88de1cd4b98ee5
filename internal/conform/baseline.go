package conform

import (
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/muster-test/muster-test/internal/report"
)

// baseline is the set of checks known to fail (the MCP conformance suite's
// expected-failures file: a top-level YAML list of ids).
type baseline map[string]bool

// readBaseline reads the file; an id that names no check is bad input.
func readBaseline(file string, cat *Catalogue) (baseline, error) {
	if file == "" {
		return nil, nil
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--baseline: %w", err)
	}
	var ids []string
	if err := yaml.Unmarshal(raw, &ids); err != nil {
		return nil, fmt.Errorf("--baseline %s: want a YAML list of check ids: %w", file, err)
	}
	b := baseline{}
	for _, id := range ids {
		if cat.Find(id) == nil {
			return nil, fmt.Errorf("--baseline %s: %w", file, cat.unknown(id))
		}
		b[id] = true
	}
	return b, nil
}

// apply turns a listed failure into XFAIL and marks a listed check that passed as stale.
// A WARN or N/A stays what it is: it never fails the run, so a baseline neither hides nor
// needs it.
func (b baseline) apply(o *Outcome) {
	if !b[o.Check.ID] {
		return
	}
	o.Baselined = true
	switch o.Verdict {
	case Fail:
		o.Verdict = XFail
	case Pass:
		o.Stale = true
	}
}

// writeBaseline writes exactly the ids that fail the run without a baseline: FAIL and
// XFAIL. WARN never fails the run, so it is not written.
func writeBaseline(file string, res *Result) error {
	var b strings.Builder
	b.WriteString("# Checks of muster-test conform known to fail (written by --write-baseline).\n")
	b.WriteString("# Listed failures are reported XFAIL; a listed check that passes fails the run.\n")
	n := 0
	for _, o := range res.Outcomes {
		if o.Verdict == Fail || o.Verdict == XFail {
			fmt.Fprintf(&b, "- %s\n", o.Check.ID)
			n++
		}
	}
	if n == 0 {
		b.WriteString("[]\n")
	}
	return report.WriteFile(file, []byte(b.String()))
}
