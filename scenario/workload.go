package scenario

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Workload is a load-mode file (docs/load.md): the scenario file's vocabulary for the world
// (pre_configuration, sut) and for steps, plus the users, the workflows they run and the
// thresholds the run must hold.
type Workload struct {
	Name             string            `yaml:"name"`
	Description      string            `yaml:"description"`
	PreConfiguration *PreConfiguration `yaml:"pre_configuration"`
	SUT              *SUT              `yaml:"sut"`
	VirtualUsers     *VirtualUsers     `yaml:"virtual_users"`
	Workflows        []Workflow        `yaml:"workflows"`
	Thresholds       map[string]string `yaml:"thresholds"`
	// The run's shape; the command's flags override each.
	Duration Duration `yaml:"duration"`
	RampUp   Duration `yaml:"ramp_up"`
	Warmup   Duration `yaml:"warmup"`
	Rate     float64  `yaml:"rate"`
	Clock    *Clock   `yaml:"clock"`

	// Parsed are the thresholds, in the file's order.
	Parsed []Threshold `yaml:"-"`
	Pos    Pos         `yaml:"-"`
}

// VirtualUsers are the users the load runs as. Each is user n (1-based) of Count, named
// NamePrefix + n, declared at every mock IdP with Claims (`{{ .n }}` in a claim's string
// is n), and logged in before the run.
type VirtualUsers struct {
	Count      int            `yaml:"count"`
	NamePrefix string         `yaml:"name_prefix"`
	Claims     map[string]any `yaml:"claims"`
	// Scope is what a direct-mode login asks for.
	Scope string `yaml:"scope"`
	// Login are steps each user runs once after its session opened, before the run: a
	// muster-shaped SUT's login flow (test_simulate_oauth_callback, core_auth_login).
	Login []Step `yaml:"login"`
	Pos   Pos    `yaml:"-"`
}

// Workflow is one kind of work: its steps, run by Roles distinct users.
type Workflow struct {
	Name string `yaml:"name"`
	// Weight is the workflow's share of the starts (default 1).
	Weight    *float64 `yaml:"weight"`
	Roles     []string `yaml:"roles"`
	ThinkTime Duration `yaml:"think_time"`
	Steps     []Step   `yaml:"steps"`
	Pos       Pos      `yaml:"-"`
}

// W is the workflow's weight, 1 when not given.
func (w *Workflow) W() float64 {
	if w.Weight == nil {
		return 1
	}
	return *w.Weight
}

// RoleNames are the workflow's roles; a workflow that names none has the one role "user".
func (w *Workflow) RoleNames() []string {
	if len(w.Roles) == 0 {
		return []string{"user"}
	}
	return w.Roles
}

// Clock drives the mock IdPs' clocks during the run: every Every, Advance (a refresh storm
// on purpose when it passes the tokens' lifetime).
type Clock struct {
	IdP     string   `yaml:"idp"` // one IdP; empty: every mock IdP
	Advance Duration `yaml:"advance"`
	Every   Duration `yaml:"every"`
}

// LoadWorkload reads and parses one workload file.
func (l Loader) LoadWorkload(file string) (*Workload, []Diagnostic) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, []Diagnostic{{Pos: Pos{File: file}, Msg: err.Error()}}
	}
	return l.ParseWorkload(file, data)
}

// ParseWorkload loads one workload document; the workload is nil when there is an error.
func (l Loader) ParseWorkload(file string, data []byte) (*Workload, []Diagnostic) {
	if len(data) > MaxFileSize {
		return nil, []Diagnostic{{Pos: Pos{File: file}, Msg: fmt.Sprintf("file is larger than %d bytes", MaxFileSize)}}
	}
	d := newDecoder(file)
	d.tools = l.TestTools
	defer d.excerpts(data)
	root := d.document(data)
	if root == nil {
		return nil, d.diags
	}
	w := new(Workload)
	d.decode(root, reflect.ValueOf(w).Elem(), "")
	w.Pos.File = file
	if root.Kind == yaml.MappingNode && !d.over && !d.deepMerge {
		d.validateWorkload(w)
	}
	sortDiagnostics(d.diags)
	d.diags = d.capped()
	for _, diag := range d.diags {
		if !diag.Warning {
			return nil, d.diags
		}
	}
	return w, d.diags
}

// Scenario is the workload's world as a scenario without steps: what the runner sets up.
func (w *Workload) Scenario() *Scenario {
	return &Scenario{Name: w.Name, Description: w.Description, PreConfiguration: w.PreConfiguration, SUT: w.SUT, Pos: w.Pos}
}

func (d *decoder) validateWorkload(w *Workload) {
	c := &checker{decoder: d, idps: map[string]*MockOAuthServer{}, mcps: map[string]*MCPServer{},
		ids: map[string]int{}, first: map[string]*Step{}}
	if w.Name == "" {
		d.errorAt(w.Pos, "missing required key \"name\"")
	}
	if len(w.Workflows) == 0 {
		d.errorAt(c.at(&w.Workflows, w.Pos), "workflows: at least one workflow is required")
	}
	c.preConfiguration(w.PreConfiguration)
	if vu := w.VirtualUsers; vu != nil && c.nodeOf(&vu.Count) != nil {
		within(c, &vu.Count, vu.Pos, "virtual_users.count", 1, MaxVirtualUsers)
	}
	if w.Rate < 0 {
		d.errorAt(c.at(&w.Rate, w.Pos), "rate: must not be negative")
	}
	if ck := w.Clock; ck != nil {
		if ck.Every <= 0 || ck.Advance <= 0 {
			d.errorAt(c.at(&w.Clock, w.Pos), "clock: give both \"advance\" and \"every\" (e.g. {advance: 10m, every: 5s})")
		}
		c.idpRef(ck.IdP, &ck.IdP, c.at(&w.Clock, w.Pos), "clock.idp")
	}
	c.workflows(w)
	c.thresholds(w)
	// The world templates and the sut block are checked as a scenario's are.
	sc := w.Scenario()
	if n := c.nodeOf(&w.SUT); n != nil {
		d.nodes[&sc.SUT] = n
	}
	c.sutBlock(sc)
}

// workflows checks the workflows and places every step (login steps first) for the
// checks scenario steps get.
func (c *checker) workflows(w *Workload) {
	var groups [][]placed
	if vu := w.VirtualUsers; vu != nil {
		var g []placed
		for i := range vu.Login {
			g = append(g, placed{st: &vu.Login[i], path: fmt.Sprintf("virtual_users.login[%d]", i), kind: mainStep})
			c.roleTemplates(&vu.Login[i], g[i].path, nil)
		}
		groups = append(groups, g)
	}
	names := map[string]bool{}
	total, maxRoles := 0.0, 0
	for i := range w.Workflows {
		wf := &w.Workflows[i]
		path := fmt.Sprintf("workflows[%d]", i)
		c.unique(wf.Name, &wf.Name, wf.Pos, path, func(n string) bool { return names[n] })
		names[wf.Name] = true
		if wf.W() < 0 {
			c.errorAt(c.at(&wf.Weight, wf.Pos), "%s.weight: must not be negative", path)
		}
		total += max(wf.W(), 0)
		roles := map[string]bool{}
		for j, r := range wf.Roles {
			if roles[r] || r == "" {
				c.errorAt(c.at(&wf.Roles, wf.Pos), "%s.roles[%d]: %q: roles are distinct names", path, j, r)
			}
			roles[r] = true
		}
		maxRoles = max(maxRoles, len(wf.RoleNames()))
		if len(wf.Steps) == 0 {
			c.errorAt(c.at(&wf.Steps, wf.Pos), "%s.steps: at least one step is required", path)
		}
		var g []placed
		for j := range wf.Steps {
			st := &wf.Steps[j]
			sp := fmt.Sprintf("%s.steps[%d]", path, j)
			g = append(g, placed{st: st, path: sp, kind: mainStep})
			c.workflowStep(wf, st, sp, nil)
			for k := range st.Concurrently {
				m := &st.Concurrently[k]
				mp := fmt.Sprintf("%s.concurrently[%d]", sp, k)
				g = append(g, placed{st: m, path: mp, kind: memberStep, group: st})
				c.workflowStep(wf, m, mp, st)
			}
		}
		groups = append(groups, g)
	}
	if len(w.Workflows) > 0 && total <= 0 {
		c.errorAt(c.at(&w.Workflows, w.Pos), "workflows: the weights sum to 0: no workflow would ever start")
	}
	if vu := w.VirtualUsers; vu != nil && vu.Count > 0 && vu.Count < maxRoles {
		c.errorAt(c.at(&vu.Count, vu.Pos), "virtual_users.count: %d users cannot fill a workflow of %d roles", vu.Count, maxRoles)
	}
	c.workloadSteps(groups)
}

// workflowStep checks how a step of workflow wf names its user: by role. A step of a
// concurrently group (group set) runs beside its siblings, so in a workflow of several
// roles it names its role itself; the group has no role of its own.
func (c *checker) workflowStep(wf *Workflow, st *Step, path string, group *Step) {
	roles := wf.RoleNames()
	if st.AsUser != "" {
		c.errorAt(c.at(&st.AsUser, st.Pos), "%s.as_user: a workload's users are its virtual users; name the step's role with as_role", path)
	}
	switch {
	case st.IsGroup() && st.AsRole != "":
		c.errorAt(c.at(&st.AsRole, st.Pos), "%s.as_role: a concurrently group has no as_role of its own: give it to the steps inside", path)
	case st.AsRole != "" && !slices.Contains(roles, st.AsRole):
		c.errorAt(c.at(&st.AsRole, st.Pos), "%s.as_role: %q is not a role of workflow %q%s", path, st.AsRole, wf.Name,
			known(st.AsRole, roles))
	case group != nil && st.AsRole == "" && len(roles) > 1 && !st.IsGroup():
		c.errorAt(st.Pos, "%s: missing required key \"as_role\": a step of a concurrently group in workflow %q, which has roles %s, names the role it runs as",
			path, wf.Name, strings.Join(roles, ", "))
	}
	c.roleTemplates(st, path, wf)
}

// RolesRoot is the root of the templates that name the user playing a role of the
// workflow: {{ .roles.ROLE }} is that user's name (its subject at the mock IdPs), in a
// workflow step's args and expected.
const RolesRoot = "roles"

// roleTemplates checks the {{ .roles.ROLE }} templates of a step of workflow wf (nil: a
// login step, which runs for each user alone).
func (c *checker) roleTemplates(st *Step, path string, wf *Workflow) {
	if st.ID == RolesRoot {
		c.errorAt(c.at(&st.ID, st.Pos), "%s.id: %q names the workflow's roles in templates ({{ .%s.ROLE }}); choose another id", path, st.ID, st.ID)
	}
	check := func(n *yaml.Node, key string) {
		walkScalars(n, func(sc *yaml.Node) {
			for _, ref := range Templates(sc.Value) {
				if ref.Root != RolesRoot {
					continue
				}
				segs := strings.Split(ref.Path, ".")
				switch {
				case wf == nil:
					c.errorf(sc, key, "template {{ .%s }}: login steps run for each user alone, without roles", ref.Path)
				case len(segs) != 2:
					c.errorf(sc, key, "template {{ .%s }}: write {{ .roles.ROLE }} with ROLE one of %s", ref.Path, strings.Join(wf.RoleNames(), ", "))
				case !slices.Contains(wf.RoleNames(), segs[1]):
					c.errorf(sc, key, "template {{ .%s }}: %q is not a role of workflow %q%s", ref.Path, segs[1], wf.Name,
						known(segs[1], wf.RoleNames()))
				}
			}
		})
	}
	check(c.nodeOf(&st.Args), path+".args")
	if st.Expected != nil {
		check(c.nodeOf(&st.Expected), path+".expected")
	}
}

// workloadSteps runs the scenario step checks on every step. Step ids are unique across
// the workload (figures are keyed by them); templates may refer to earlier steps of the
// same workflow only, and a step of a concurrently group to none of its siblings, whose
// results exist once the whole group has run.
func (c *checker) workloadSteps(groups [][]placed) {
	for _, g := range groups {
		for _, p := range g {
			c.order = append(c.order, p)
			if id := p.st.ID; id != "" {
				c.ids[id]++
				if first := c.first[id]; first != nil {
					c.errorAt(c.at(&p.st.ID, p.st.Pos), "%s.id: step id %q is used twice (first at line %d); figures are kept per step id",
						p.path, id, first.Pos.Line)
				} else {
					c.first[id] = p.st
				}
			}
		}
	}
	for _, g := range groups {
		ran := map[string]bool{}
		var group *Step
		var groupRan []string
		for _, p := range g {
			if group != nil && p.group != group {
				for _, id := range groupRan {
					ran[id] = true
				}
				group, groupRan = nil, nil
			}
			c.step(p) // a group: one level deep, an id, nothing of its own
			if p.st.IsGroup() {
				continue
			}
			if p.st.Tool == "test_create_user" || p.st.Tool == "test_switch_user" {
				c.errorAt(c.at(&p.st.Tool, p.st.Pos), "%s.tool: a workload's users are its virtual users (%s cannot be used)", p.path, p.st.Tool)
			}
			c.templates(p, ran)
			switch {
			case p.group != nil:
				group = p.group
				groupRan = append(groupRan, p.st.ID)
			case p.st.ID != "":
				ran[p.st.ID] = true
			}
		}
	}
}

// thresholds parses each threshold and checks that the step or workflow it names exists.
func (c *checker) thresholds(w *Workload) {
	n := c.nodeOf(&w.Thresholds)
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	steps, flows, groupIDs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, wf := range w.Workflows {
		flows[wf.Name] = true
		for _, st := range wf.Steps {
			if st.IsGroup() {
				groupIDs[st.ID] = true
			} else {
				steps[st.ID] = true
			}
			for _, m := range st.Concurrently {
				steps[m.ID] = true
			}
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		t, err := ParseThreshold(k.Value, w.Thresholds[k.Value])
		if err != nil {
			at := k // a bad value is reported at the value
			if strings.Contains(err.Error(), ": value ") {
				at = v
			}
			c.errorf(at, "thresholds", "%v", err)
			continue
		}
		t.Pos = c.pos(k)
		switch {
		case t.Scope == "step" && groupIDs[t.Name]:
			c.errorf(k, "thresholds", "threshold %q: %q is a concurrently group, which has no figures of its own: name one of its steps", t.Key, t.Name)
			continue
		case t.Scope == "step" && !steps[t.Name]:
			c.errorf(k, "thresholds", "threshold %q: no workflow step has id %q%s", t.Key, t.Name, didYouMean(t.Name, keys(steps)))
			continue
		case t.Scope == "workflow" && !flows[t.Name]:
			c.errorf(k, "thresholds", "threshold %q: no workflow is named %q%s", t.Key, t.Name, known(t.Name, keys(flows)))
			continue
		}
		w.Parsed = append(w.Parsed, t)
	}
}
