// Package conform runs the check catalogue of `muster-test conform` against one MCP server
// and turns each check's scenario result into a verdict (PASS, FAIL, WARN, N/A, XFAIL),
// with a known-failures baseline, a linter-like summary and the report files.
package conform

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	catalogue "github.com/muster-test/muster-test/conform"
	"github.com/muster-test/muster-test/internal/testtools"
	"github.com/muster-test/muster-test/scenario"
)

// Level is how strongly the spec asks for what a check tests.
type Level string

// Levels, in the order the summary lists them.
const (
	Must   Level = "MUST"
	Should Level = "SHOULD"
	May    Level = "MAY"
)

var levels = []Level{Must, Should, May}

// What a check needs of its target.
const (
	// NeedsIdP marks a check that mints tokens at the mock IdP "idp", which the server
	// must trust: only a --config run can give that.
	NeedsIdP = "idp"
	// NeedsGateway marks a check of a muster-shaped gateway (its own mock upstreams, no
	// sut block): it runs with --gateway only, and the server checks do not.
	NeedsGateway = "gateway"
	// NeedsMultiScopeTool marks a check that calls a tool needing two or more scopes,
	// which the config names (conform.multi_scope_tool): no request finds one.
	NeedsMultiScopeTool = "multi_scope_tool"
)

// setupPrefix starts the id of a step that only prepares a check; its failure makes the
// check N/A rather than failed.
const setupPrefix = "setup-"

// Check is one entry of the catalogue: its metadata and its scenario.
type Check struct {
	ID          string `yaml:"id"`
	Level       Level  `yaml:"level"`
	Requirement string `yaml:"requirement"`
	// Paraphrase marks a requirement that is not a quote: no single sentence of the spec
	// states what the check tests.
	Paraphrase bool     `yaml:"paraphrase"`
	Refs       []string `yaml:"refs"`
	Needs      []string `yaml:"needs"`
	// Revisions are the MCP revisions that state the requirement (empty: every one);
	// with --protocol pinned to another, the check is N/A and RevisionsWhy says why.
	Revisions    []string `yaml:"revisions"`
	RevisionsWhy string   `yaml:"revisions_why"`

	Scenario *scenario.Scenario `yaml:"-"`
}

// Uncovered is a requirement no check tests, and why.
type Uncovered struct {
	Requirement string   `yaml:"requirement"`
	Refs        []string `yaml:"refs"`
	Status      string   `yaml:"status"` // untested | excluded
	Reason      string   `yaml:"reason"`
}

// Catalogue is every check, in the table's order, and the requirements left out.
type Catalogue struct {
	Checks     []*Check    `yaml:"checks"`
	NotCovered []Uncovered `yaml:"not_covered"`
}

// Load reads catalogue.yaml and checks/*.yaml from fsys and holds them to each other: one
// file per entry, named by its id, every file loading without a diagnostic.
func Load(fsys fs.FS) (*Catalogue, error) {
	raw, err := fs.ReadFile(fsys, "catalogue.yaml")
	if err != nil {
		return nil, err
	}
	cat := &Catalogue{}
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(cat); err != nil {
		return nil, fmt.Errorf("catalogue.yaml: %w", err)
	}
	set := testtools.Loader().LoadFS(fsys, "checks")
	if len(set.Errors) > 0 {
		return nil, fmt.Errorf("check files: %s", set.Errors[0].String())
	}
	byName := map[string]*scenario.Scenario{}
	for _, sc := range set.Scenarios {
		if want := sc.Name + ".yaml"; path.Base(sc.Pos.File) != want {
			return nil, fmt.Errorf("%s: the check named %s must be in %s", sc.Pos.File, sc.Name, want)
		}
		byName[sc.Name] = sc
	}
	seen := map[string]bool{}
	for _, c := range cat.Checks {
		if err := c.valid(); err != nil {
			return nil, fmt.Errorf("catalogue.yaml: check %q: %w", c.ID, err)
		}
		if seen[c.ID] {
			return nil, fmt.Errorf("catalogue.yaml: check %q listed twice", c.ID)
		}
		seen[c.ID] = true
		if c.Scenario = byName[c.ID]; c.Scenario == nil {
			return nil, fmt.Errorf("catalogue.yaml: check %q has no file checks/%s.yaml", c.ID, c.ID)
		}
		if c.needs(NeedsGateway) && !declaresIdP(c.Scenario, gatewayIdP) {
			// --gateway-auth makes it the gateway's own IdP: without it, the check could not
			// run against a gateway that authenticates its clients.
			return nil, fmt.Errorf("checks/%s.yaml: a gateway check must declare the mock IdP %s", c.ID, gatewayIdP)
		}
	}
	for name := range byName {
		if !seen[name] {
			return nil, fmt.Errorf("checks/%s.yaml is not in catalogue.yaml", name)
		}
	}
	for _, u := range cat.NotCovered {
		if u.Status != "untested" && u.Status != "excluded" || u.Reason == "" || len(u.Refs) == 0 {
			return nil, fmt.Errorf("catalogue.yaml: not_covered %q: want status untested or excluded, a reason and refs", u.Requirement)
		}
	}
	return cat, nil
}

func (c *Check) valid() error {
	switch {
	case c.ID == "":
		return fmt.Errorf("no id")
	case !slices.Contains(levels, c.Level):
		return fmt.Errorf("level %q: want MUST, SHOULD or MAY", c.Level)
	case c.Requirement == "":
		return fmt.Errorf("no requirement text")
	case len(c.Refs) == 0:
		return fmt.Errorf("no spec reference")
	}
	for _, r := range c.Refs {
		if !strings.HasPrefix(r, "https://") || !strings.Contains(r, "#") {
			return fmt.Errorf("reference %q: want a full https URL with a section anchor", r)
		}
	}
	if len(c.Revisions) > 0 && c.RevisionsWhy == "" {
		return fmt.Errorf("revisions without revisions_why: say why the other revisions do not have it")
	}
	for _, n := range c.Needs {
		if n != NeedsIdP && n != NeedsGateway && n != NeedsMultiScopeTool {
			return fmt.Errorf("needs %q: want %q, %q or %q", n, NeedsIdP, NeedsGateway, NeedsMultiScopeTool)
		}
	}
	return nil
}

// requirementText is the requirement as shown to a reader: a quote as is, a paraphrase
// marked as one.
func (c *Check) requirementText() string {
	if c.Paraphrase {
		return "(paraphrase) " + c.Requirement
	}
	return c.Requirement
}

func (c *Check) needs(what string) bool { return slices.Contains(c.Needs, what) }

// Find returns the check with this id.
func (cat *Catalogue) Find(id string) *Check {
	for _, c := range cat.Checks {
		if c.ID == id {
			return c
		}
	}
	return nil
}

// unknown explains an id that names no check, with the nearest ones.
func (cat *Catalogue) unknown(id string) error {
	ids := make([]string, len(cat.Checks))
	for i, c := range cat.Checks {
		ids[i] = c.ID
	}
	msg := fmt.Sprintf("no check %q", id)
	if near := scenario.Closest(id, ids, 3); len(near) > 0 {
		msg += " (did you mean " + strings.Join(near, ", ") + "?)"
	}
	return fmt.Errorf("%s; muster-test conform --list shows them all", msg)
}

// List prints the catalogue, one line per check: its id, its level, its spec references.
func List(stdout, stderr io.Writer) int {
	cat, err := Load(catalogue.FS)
	if err != nil {
		fmt.Fprintln(stderr, "muster-test conform: the built-in catalogue:", err)
		return 2
	}
	for _, c := range cat.Checks {
		fmt.Fprintf(stdout, "%s %s %s\n", c.ID, c.Level, strings.Join(c.Refs, " "))
	}
	return 0
}
