package scenario

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// stepKind tells the three places a step can stand apart; their required keys differ.
type stepKind int

const (
	mainStep    stepKind = iota // steps[]
	cleanupStep                 // the scenario's cleanup[]
	itemStep                    // a step's own cleanup[] items
	memberStep                  // a step of a concurrently group
)

// placed is a step with its key path, in the order the executor runs it.
type placed struct {
	st   *Step
	path string
	kind stepKind
	// group is the concurrently group a memberStep belongs to.
	group *Step
}

// checker holds what the semantic checks of one scenario need.
type checker struct {
	*decoder
	idps  map[string]*MockOAuthServer
	mcps  map[string]*MCPServer
	order []placed       // execution order: steps, scenario cleanup, step cleanup items
	ids   map[string]int // how often each step id occurs in the scenario
	first map[string]*Step
}

// validate runs the checks that need more than one key: required keys, references
// between parts of the scenario, users and templates.
func (d *decoder) validate(s *Scenario) {
	c := &checker{decoder: d, idps: map[string]*MockOAuthServer{}, mcps: map[string]*MCPServer{},
		ids: map[string]int{}, first: map[string]*Step{}}
	if s.Name == "" {
		d.errorAt(s.Pos, "missing required key \"name\"")
	}
	if len(s.Steps) == 0 {
		at := s.Pos
		if n := d.nodeOf(&s.Steps); n != nil {
			at = d.pos(n)
		}
		d.errorAt(at, "steps: at least one step is required")
	}
	within(c, &s.Timeout, s.Pos, "timeout", minTimeout, MaxScenarioTimeout)
	c.preConfiguration(s.PreConfiguration)
	c.arrange(s)
	for _, p := range c.order {
		c.step(p)
	}
	c.flow()
	c.sutBlock(s)
	c.sutTools(s)
}

// mockIdP checks the settings of one mock IdP; path prefixes its keys in messages.
func (c *checker) mockIdP(o *MockOAuthServer, path string) {
	if r := o.Registration; r != "" && r != idp.RegistrationOpen && r != idp.RegistrationClosed {
		c.errorAt(c.at(&o.Registration, o.Pos), "%sregistration: %q: want %s or %s", path, r, idp.RegistrationOpen, idp.RegistrationClosed)
	}
	for j := range o.Faults {
		f := &o.Faults[j]
		if err := f.Check(); err != nil {
			at, hint := c.at(&f.Grant, c.at(&o.Faults, o.Pos)), ""
			if !slices.Contains(idp.FaultEndpoints, f.Endpoint) {
				at, hint = c.at(&f.Endpoint, at), didYouMean(f.Endpoint, idp.FaultEndpoints)
			}
			c.errorAt(at, "%sfaults[%d]: %v%s", path, j, err, hint)
		}
	}
}

func (c *checker) preConfiguration(pc *PreConfiguration) {
	if pc == nil {
		return
	}
	c.mockBounds(pc)
	for i := range pc.MockOAuthServers {
		o := &pc.MockOAuthServers[i]
		path := fmt.Sprintf("pre_configuration.mock_oauth_servers[%d]", i)
		c.unique(o.Name, &o.Name, o.Pos, path, func(name string) bool {
			_, dup := c.idps[name]
			return dup
		})
		c.idps[o.Name] = o
		c.mockIdP(o, path+".")
	}
	for i := range pc.MCPServers {
		srv := &pc.MCPServers[i]
		path := fmt.Sprintf("pre_configuration.mcp_servers[%d]", i)
		c.unique(srv.Name, &srv.Name, srv.Pos, path, func(name string) bool {
			_, dup := c.mcps[name]
			return dup
		})
		c.mcps[srv.Name] = srv
		c.mockTools(srv, path+".config.tools")
		c.mockTemplates(srv, path)
	}
	// References are checked after all names are known: order in the file does not matter.
	for i := range pc.MockOAuthServers {
		for j := range pc.MockOAuthServers[i].TrustedIssuers {
			ti := &pc.MockOAuthServers[i].TrustedIssuers[j]
			c.idpRef(ti.OAuthServerRef, &ti.OAuthServerRef, ti.Pos,
				fmt.Sprintf("pre_configuration.mock_oauth_servers[%d].trusted_issuers[%d].oauth_server_ref", i, j))
		}
	}
	for i := range pc.MCPServers {
		m := pc.MCPServers[i].Mock
		if m == nil {
			continue
		}
		path := fmt.Sprintf("pre_configuration.mcp_servers[%d].config.oauth", i)
		if m.OAuth.Required && !pc.MCPServers[i].HTTPMock() {
			// The SUT launches a stdio mock itself; nothing could check tokens there.
			c.errorAt(pc.MCPServers[i].Pos, "%s: oauth.required needs type streamable-http or sse, not %q (a stdio mock cannot be protected)", path, m.Type)
		}
		c.idpRef(m.OAuth.MockOAuthServerRef, &m.OAuth.MockOAuthServerRef, pc.MCPServers[i].Pos, path+".mock_oauth_server_ref")
		c.idpRef(m.OAuth.TrustIssuerRef, &m.OAuth.TrustIssuerRef, pc.MCPServers[i].Pos, path+".trust_issuer_ref")
		c.forwarding(&m.OAuth, pc.MCPServers[i].Pos, path)
	}
}

// forwarding checks newer muster's token forwarding keys of a mock's oauth block, which
// the runner writes into the SUT's MCPServer spec for muster to act on. The reference SUT
// does not forward or exchange tokens: a scenario that counts on it fails there at a step
// of its own, and the warning says why before it runs.
func (c *checker) forwarding(o *mcpserver.OAuthConfig, fallback Pos, path string) {
	if ref, ok := o.TokenExchange["oauth_server_ref"].(string); ok {
		c.idpRef(ref, nil, c.entryPos(&o.TokenExchange, "oauth_server_ref", fallback), path+".token_exchange.oauth_server_ref")
	}
	if o.ForwardToken {
		c.warnAt(c.at(&o.ForwardToken, fallback), "%s.forward_token: muster (newer than January 2026) forwards the user's token to this server; "+
			"the reference SUT does not, so there the server is reached through its own login", path)
	}
	if o.TokenExchange != nil {
		c.warnAt(c.at(&o.TokenExchange, fallback), "%s.token_exchange: muster (newer than January 2026) exchanges the user's token for this server (RFC 8693); "+
			"the reference SUT does not, so there the server is reached through its own login", path)
	}
}

// mockTools requires every tool of a mock server to have a name of its own, which the mock
// needs to start.
func (c *checker) mockTools(srv *MCPServer, path string) {
	if srv.Mock == nil {
		return
	}
	tools := c.nodeOf(&srv.Mock.Tools)
	seen := map[string]bool{}
	for i := range srv.Mock.Tools {
		at := srv.Pos
		if tools != nil && tools.Kind == yaml.SequenceNode && i < len(tools.Content) {
			at = c.pos(tools.Content[i])
		}
		name := &srv.Mock.Tools[i].Name
		c.unique(*name, name, at, fmt.Sprintf("%s[%d]", path, i), func(name string) bool { return seen[name] })
		seen[*name] = true
		c.mockStore(&srv.Mock.Tools[i].Store, at, fmt.Sprintf("%s[%d].store", path, i))
	}
}

// mockStore reports a store setting no call could serve (the mock's own check, which
// would refuse it at start) at the key it concerns.
func (c *checker) mockStore(field **mcpserver.StoreConfig, at Pos, path string) {
	st := *field
	if st == nil {
		return
	}
	at = c.at(field, at)
	fields := map[string]any{"op": &st.Op, "key": &st.Key, "value": &st.Value, "if_version": &st.IfVersion, "prefix": &st.Prefix}
	for _, p := range st.Problems() {
		if p.Key == "" {
			c.errorAt(at, "%s: %s", path, p.Msg)
			continue
		}
		c.errorAt(c.at(fields[p.Key], at), "%s.%s: %s", path, p.Key, p.Msg)
	}
}

// unique requires a name and reports a second definition of it.
func (c *checker) unique(name string, field *string, at Pos, path string, taken func(string) bool) {
	switch {
	case name == "":
		c.errorAt(at, "%s: missing required key \"name\"", path)
	case taken(name):
		c.errorAt(c.at(field, at), "%s: name %q is defined twice", path, name)
	}
}

// at is the position of a field's value, or fallback when the key was absent.
func (c *checker) at(field any, fallback Pos) Pos {
	if n := c.nodeOf(field); n != nil {
		return c.pos(n)
	}
	return fallback
}

func (c *checker) idpRef(name string, field *string, fallback Pos, path string) {
	if name == "" || c.idps[name] != nil {
		return
	}
	c.errorAt(c.at(field, fallback), "%s: %q is not a mock_oauth_servers entry of this scenario%s",
		path, name, known(name, keys(c.idps)))
}

// known is the hint after an unknown reference: a likely typo, or what is defined.
func known(name string, defined []string) string {
	if hint := didYouMean(name, defined); hint != "" {
		return hint
	}
	if len(defined) == 0 {
		return " (none is defined)"
	}
	return " (defined: " + strings.Join(defined, ", ") + ")"
}

func keys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// arrange lists the steps in execution order and counts their ids.
func (c *checker) arrange(s *Scenario) {
	for i := range s.Steps {
		g := &s.Steps[i]
		c.order = append(c.order, placed{st: g, path: fmt.Sprintf("steps[%d]", i), kind: mainStep})
		for j := range g.Concurrently {
			c.order = append(c.order, placed{st: &g.Concurrently[j], path: fmt.Sprintf("steps[%d].concurrently[%d]", i, j),
				kind: memberStep, group: g})
		}
	}
	for i := range s.Cleanup {
		c.order = append(c.order, placed{st: &s.Cleanup[i], path: fmt.Sprintf("cleanup[%d]", i), kind: cleanupStep})
	}
	// Step cleanup items run last, in reverse order of registration.
	for i := len(s.Steps) - 1; i >= 0; i-- {
		for j := len(s.Steps[i].Cleanup) - 1; j >= 0; j-- {
			c.order = append(c.order, placed{st: &s.Steps[i].Cleanup[j], path: fmt.Sprintf("steps[%d].cleanup[%d]", i, j), kind: itemStep})
		}
	}
	// Warnings go out in file order, which for ids means steps, cleanup, then items.
	byFile := slices.Clone(c.order)
	slices.SortStableFunc(byFile, func(a, b placed) int {
		return cmp.Or(cmp.Compare(a.st.Pos.Line, b.st.Pos.Line), cmp.Compare(a.st.Pos.Col, b.st.Pos.Col))
	})
	for _, p := range byFile {
		id := p.st.ID
		if id == "" {
			continue
		}
		c.ids[id]++
		if first := c.first[id]; first != nil {
			c.warnAt(c.at(&p.st.ID, p.st.Pos), "%s: step id %q is repeated (first at line %d); a template cannot refer to it",
				p.path, id, first.Pos.Line)
			continue
		}
		c.first[id] = p.st
	}
}

// step checks one step on its own.
func (c *checker) step(p placed) {
	st := p.st
	// The node is not kept when a step inside had an error; the slice is there anyway.
	if st.IsGroup() || c.nodeOf(&st.Concurrently) != nil {
		c.group(p)
		return
	}
	// A required key written with a typo was reported as the typo, with a did-you-mean.
	if st.ID == "" && p.kind != itemStep && !c.typo(st, "id") {
		c.errorAt(st.Pos, "%s: missing required key \"id\"", p.path)
	}
	if st.Tool == "" && !c.typo(st, "tool") {
		c.errorAt(st.Pos, "%s: missing required key \"tool\"", p.path)
	}
	if p.kind != itemStep && (st.Expected == nil || st.Expected.Success == nil) {
		switch {
		case st.Expected == nil && !c.typo(st, "expected"):
			c.errorAt(st.Pos, "%s: missing required key \"expected\" (with \"success\")", p.path)
		case st.Expected != nil && !c.typo(st.Expected, "success"):
			c.errorAt(st.Expected.Pos, "%s.expected: missing required key \"success\"", p.path)
		}
	}
	if len(st.Cleanup) > 0 && p.kind != mainStep {
		c.errorAt(c.at(&st.Cleanup, st.Pos), "%s.cleanup: only steps[] may register cleanup items", p.path)
	}
	if e := st.Expected; e != nil && c.nodeOf(&e.P95Duration) != nil && st.Parallel < 2 {
		c.errorAt(c.at(&e.P95Duration, e.Pos), "%s.expected.p95_duration: needs parallel of 2 or more (the 95th percentile of one call is that call: use max_duration)", p.path)
	}
	c.bounds(st, p.path)
	c.expectationKeys(st.Expected)
	c.vacuous(st.Expected, p.path)
	if IsTestTool(st.Tool) {
		c.testTool(p)
	}
}

// argPos is the position of args[key] (of its value node), else of the step.
func (c *checker) argPos(st *Step, key string) Pos { return c.entryPos(&st.Args, key, st.Pos) }

// entryPos is the position of the value under key in the map field (a map[string]any read
// from a YAML mapping), else fallback.
func (c *checker) entryPos(field any, key string, fallback Pos) Pos {
	if n := c.nodeOf(field); n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return c.pos(n.Content[i+1])
			}
		}
	}
	return fallback
}

// flow walks the steps in execution order and checks what depends on order: which users
// exist and which step results a template may use.
func (c *checker) flow() {
	users := map[string]bool{"default": true}
	ran := map[string]bool{}
	// What the members of a group create exists once the whole group has run: a member
	// can use neither a sibling's result nor a user a sibling logs in.
	var group *Step
	var groupUsers, groupRan []string
	endGroup := func() {
		for _, u := range groupUsers {
			users[u] = true
		}
		for _, id := range groupRan {
			ran[id] = true
		}
		group, groupUsers, groupRan = nil, nil, nil
	}
	for _, p := range c.order {
		if group != nil && p.group != group {
			endGroup()
		}
		if p.group != nil {
			group = p.group
		}
		st := p.st
		if st.AsRole != "" {
			c.errorAt(c.at(&st.AsRole, st.Pos), "%s.as_role: roles belong to a workload's workflows (muster-test load); a scenario names users with as_user", p.path)
		}
		if st.AsUser != "" && !users[st.AsUser] {
			c.errorAt(c.at(&st.AsUser, st.Pos), "%s.as_user: unknown user %q%s", p.path, st.AsUser, userHint(users))
		}
		if st.Tool == "test_switch_user" {
			if name, ok := st.Args["name"].(string); ok && !isTemplated(name) && !users[name] {
				c.errorAt(c.argPos(st, "name"), "%s.args.name: unknown user %q%s", p.path, name, userHint(users))
			}
		}
		c.templates(p, ran)
		// test_create_user names its user `name`, test_oauth_login `user`.
		for tool, key := range map[string]string{"test_create_user": "name", "test_oauth_login": "user"} {
			if name, ok := st.Args[key].(string); ok && st.Tool == tool && !isTemplated(name) {
				if p.group != nil {
					groupUsers = append(groupUsers, name)
				} else {
					users[name] = true
				}
			}
		}
		switch {
		case st.ID == "":
		case p.group != nil:
			groupRan = append(groupRan, st.ID)
		case !st.IsGroup():
			ran[st.ID] = true
		}
	}
}

func userHint(users map[string]bool) string {
	return " (known here: " + strings.Join(keys(users), ", ") + "; a user exists after its test_create_user or test_oauth_login step)"
}

// templates checks the `{{ step-id.path }}` references in a step's args and in the strings
// of its expectations, which resolve alike.
func (c *checker) templates(p placed, ran map[string]bool) {
	refs := func(section string) func(*yaml.Node) {
		return func(n *yaml.Node) {
			for _, root := range templateRoots(n.Value) {
				c.templateRef(p, section, root, n, ran)
			}
		}
	}
	walkScalars(c.nodeOf(&p.st.Args), refs(p.path+".args"))
	if e := p.st.Expected; e != nil {
		for _, field := range []any{&e.Contains, &e.NotContains, &e.ErrorContains, &e.JSONPath} {
			walkScalars(c.nodeOf(field), refs(p.path+".expected"))
		}
	}
}

func (c *checker) templateRef(p placed, section, root string, n *yaml.Node, ran map[string]bool) {
	switch {
	case c.ids[root] == 0 && !IsWorldRoot(root) && root != RolesRoot && nearest(root, keys(c.ids)) != "":
		c.errorAt(c.templatePos(n, root), "%s: template names %q, which is no step id of this scenario%s", section, root, didYouMean(root, keys(c.ids)))
	case c.ids[root] == 0:
		// Not a step id: a template of the SUT's own, passed through.
	case c.ids[root] > 1:
		c.errorf(n, section, "template refers to step id %q, which is repeated in this scenario (first at line %d)",
			root, c.first[root].Pos.Line)
	case c.first[root].IsGroup():
		c.errorf(n, section, "template refers to %q, a concurrently group, which has no result of its own: refer to one of its steps", root)
	case !ran[root]:
		target := c.first[root]
		if p.group != nil && slices.ContainsFunc(p.group.Concurrently, func(m Step) bool { return m.ID == root }) {
			c.errorf(n, section, "template refers to step %q of the same concurrently group, which runs at the same time", root)
			return
		}
		if target == p.st {
			c.errorf(n, section, "template refers to step %q itself, whose result does not exist yet", root)
		} else {
			c.errorf(n, section, "template refers to step %q (line %d), which runs later and cannot have a result yet",
				root, target.Pos.Line)
		}
	}
}

// group checks a concurrently group: steps of its own and nothing else, one level deep.
func (c *checker) group(p placed) {
	st := p.st
	if p.kind != mainStep {
		c.errorAt(c.at(&st.Concurrently, st.Pos), "%s.concurrently: a group can only stand in steps[], not inside a group or a cleanup", p.path)
		return
	}
	if st.ID == "" {
		c.errorAt(st.Pos, "%s: missing required key \"id\"", p.path)
	}
	if len(st.Concurrently) == 0 {
		c.errorAt(c.at(&st.Concurrently, st.Pos), "%s.concurrently: a group needs at least one step", p.path)
	}
	own := []struct {
		key   string
		field any
	}{{"tool", &st.Tool}, {"args", &st.Args}, {"as_user", &st.AsUser}, {"expected", &st.Expected},
		{"parallel", &st.Parallel}, {"retry", &st.Retry}, {"timeout", &st.Timeout}, {"cleanup", &st.Cleanup}}
	for _, o := range own {
		if n := c.nodeOf(o.field); n != nil {
			c.errorAt(c.pos(n), "%s.%s: a concurrently group has no %s of its own: give it to the steps inside", p.path, o.key, o.key)
		}
	}
}
