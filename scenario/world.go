package scenario

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/muster-test/muster-test/internal/result"
	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// The checks here know the world a muster-shaped SUT builds from the scenario's mocks: the
// names it gives their tools, and the arguments a mock's responses refer to. They are
// errors where the scenario cannot be right (a name one typo away from a known one), and
// warnings where a real muster may know more than the file says.

// DefaultMusterPrefix is muster's default aggregator.musterPrefix: tools are x_<server>_<tool>.
const DefaultMusterPrefix = "x"

// ExposedName is muster's name for a tool of a server with prefix p, its toolPrefix or else
// its name (docs/muster-contract.md §3.3): `<musterPrefix>_<p>_<tool>`, except that a tool
// already named `<p>_...` keeps its name after the muster prefix.
func ExposedName(musterPrefix, p, tool string) string {
	if strings.HasPrefix(tool, p+"_") {
		return musterPrefix + "_" + tool
	}
	return musterPrefix + "_" + p + "_" + tool
}

// upstream is one mcp_servers entry as the SUT exposes it.
type upstream struct {
	name, prefix string
	tools        []string // exposed names
	// open: the tools are not all known at load time (a real server, or a mock a step adds
	// a templated tool to).
	open bool
}

// sutTools checks every step's SUT tool against the tools the mocks give a muster-shaped
// SUT. Names without the muster prefix (core_*, meta tools, workflows) are the SUT's own
// and not checked, nor is any name when the SUT is not muster-shaped (a sut block, or
// --sut-command/--sut-url), nor a step that expects the call to fail.
func (c *checker) sutTools(s *Scenario) {
	if s.SUT != nil || c.direct || s.PreConfiguration == nil {
		return
	}
	pc := s.PreConfiguration
	mp := musterPrefix(pc)
	ups := upstreams(pc, mp, c.order)
	// Services and service classes can bring servers of their own into a real muster.
	lenient := len(pc.Services) > 0 || len(pc.ServiceClasses) > 0
	var all []string
	for _, u := range ups {
		all = append(all, u.tools...)
	}
	for _, p := range c.order {
		st := p.st
		if st.IsGroup() || st.Tool == "" || IsTestTool(st.Tool) || !strings.HasPrefix(st.Tool, mp+"_") ||
			!st.Expected.WantSuccess() || slices.Contains(all, st.Tool) {
			continue
		}
		at, path := c.at(&st.Tool, st.Pos), p.path+".tool"
		u := ownerOf(ups, mp, st.Tool)
		switch {
		case u != nil && u.open:
		case u != nil:
			hint := didYouMean(st.Tool, u.tools)
			report := c.errorAt
			if hint == "" && (lenient || strings.HasSuffix(st.Tool, "_authenticate")) {
				report = c.warnAt // a login tool muster may add, or a server of a service
			}
			exposed := "which has no tools"
			if len(u.tools) > 0 {
				exposed = "which the SUT exposes as " + strings.Join(u.tools, ", ")
			}
			report(at, "%s: %q is not a tool of mcp server %q, %s%s", path, st.Tool, u.name, exposed, hint)
		case slices.ContainsFunc(ups, func(u upstream) bool { return u.open }):
		default:
			if hint := didYouMean(st.Tool, all); hint != "" {
				c.errorAt(at, "%s: %q is no tool of the scenario's mcp_servers%s", path, st.Tool, hint)
			} else {
				c.warnAt(at, "%s: %q names no server of the scenario's mcp_servers (a SUT names their tools %s_<server or toolPrefix>_<tool>)",
					path, st.Tool, mp)
			}
		}
	}
}

// musterPrefix is main_config's aggregator.musterPrefix, else muster's default.
func musterPrefix(pc *PreConfiguration) string {
	if pc.MainConfig != nil {
		if agg, ok := pc.MainConfig.Config["aggregator"].(map[string]any); ok {
			if p, ok := agg["musterPrefix"].(string); ok && p != "" {
				return p
			}
		}
	}
	return DefaultMusterPrefix
}

// upstreams lists the servers with the names of their tools: a mock's declared tools, its
// login tool when it is protected, and the tools steps add to it.
func upstreams(pc *PreConfiguration, mp string, order []placed) []upstream {
	var ups []upstream
	for i := range pc.MCPServers {
		srv := &pc.MCPServers[i]
		u := upstream{name: srv.Name, prefix: srv.Name, open: srv.Mock == nil}
		if srv.Mock == nil {
			if p, ok := srv.Config["toolPrefix"].(string); ok && p != "" {
				u.prefix = p
			}
			ups = append(ups, u)
			continue
		}
		if srv.Mock.ToolPrefix != "" {
			u.prefix = srv.Mock.ToolPrefix
		}
		for _, t := range srv.Mock.Tools {
			u.tools = append(u.tools, ExposedName(mp, u.prefix, t.Name))
		}
		if srv.Mock.OAuth.Required || srv.Mock.OAuth.MockOAuthServerRef != "" {
			u.tools = append(u.tools, ExposedName(mp, u.prefix, "authenticate"))
		}
		for _, p := range order {
			if p.st.Tool != "test_add_mock_tool" || p.st.Args["server"] != srv.Name {
				continue
			}
			if name, ok := p.st.Args["tool_name"].(string); ok && !isTemplated(name) {
				u.tools = append(u.tools, ExposedName(mp, u.prefix, name))
			} else {
				u.open = true
			}
		}
		ups = append(ups, u)
	}
	for _, p := range order {
		// A templated server name may add a tool to any mock.
		if srv, ok := p.st.Args["server"].(string); ok && p.st.Tool == "test_add_mock_tool" && isTemplated(srv) {
			for i := range ups {
				ups[i].open = true
			}
		}
	}
	return ups
}

// ownerOf is the server whose prefix a tool name carries (the longest, so that server
// "a-b" wins over "a"), nil for none.
func ownerOf(ups []upstream, mp, tool string) *upstream {
	var best *upstream
	for i := range ups {
		if strings.HasPrefix(tool, mp+"_"+ups[i].prefix+"_") && (best == nil || len(ups[i].prefix) > len(best.prefix)) {
			best = &ups[i]
		}
	}
	return best
}

// mockTemplates checks the `{{ arg }}` templates of a mock tool's responses against the
// properties its input_schema declares: one a typo away from a property cannot be meant
// (the call would fail with "argument not given"), another may be an argument callers pass
// without the schema saying so.
func (c *checker) mockTemplates(srv *MCPServer, path string) {
	if srv.Mock == nil {
		return
	}
	for i := range srv.Mock.Tools {
		t := &srv.Mock.Tools[i]
		props, _ := t.InputSchema["properties"].(map[string]any)
		if len(props) == 0 {
			continue
		}
		declared := keys(props)
		for j := range t.Responses {
			r := &t.Responses[j]
			given := keys(r.Condition)
			for _, field := range []any{&r.Response, &r.Error} {
				walkScalars(c.nodeOf(field), func(n *yaml.Node) {
					for _, arg := range mcpserver.TemplateArgs(n.Value) {
						if slices.Contains(declared, arg) || slices.Contains(given, arg) {
							continue
						}
						where := prefix(fmt.Sprintf("%s.config.tools[%d].responses[%d]", path, i, j))
						at := c.templatePos(n, arg)
						if hint := didYouMean(arg, declared); hint != "" {
							c.errorAt(at, "%stemplate {{ %s }} names no property of the tool's input_schema%s", where, arg, hint)
						} else {
							c.warnAt(at, "%stemplate {{ %s }} names no property of the tool's input_schema (declared: %s); a call without that argument fails",
								where, arg, strings.Join(declared, ", "))
						}
					}
				})
			}
		}
	}
}

// answerPaths checks a test tool step's json_path keys against the tool's documented
// answer (TestTool.Answer): a path that leaves it one typo away from a field is an error
// with that field, any other path outside it a warning.
func (c *checker) answerPaths(p placed, tt TestTool) {
	e := p.st.Expected
	if e == nil || len(e.JSONPath) == 0 || len(tt.Answer) == 0 {
		return
	}
	jp := c.nodeOf(&e.JSONPath)
	keyAt := func(key string) Pos {
		if jp != nil && jp.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(jp.Content); i += 2 {
				if jp.Content[i].Value == key {
					return c.pos(jp.Content[i])
				}
			}
		}
		return e.Pos
	}
	where := p.path + ".expected.json_path"
	if !e.WantSuccess() && !tt.JSONFailure {
		c.errorAt(c.at(&e.JSONPath, e.Pos), "%s: a failed %s answers its error text, not JSON: match it with contains or error_contains",
			where, tt.Name)
		return
	}
	for _, path := range keys(e.JSONPath) {
		segs, err := result.SplitPath(path)
		if err != nil || segs[0] == "_meta" || AnswerHas(tt.Answer, segs) {
			continue // a malformed path is the runner's to report, with the answer
		}
		if near := nearest(path, answerPrefixes(tt.Answer)); near != "" {
			c.errorAt(keyAt(path), "%s: %s: no such path in %s's answer; did you mean %s?", where, path, tt.Name, near)
		} else {
			c.warnAt(keyAt(path), "%s: %s: not in %s's documented answer (%s)", where, path, tt.Name, strings.Join(tt.Answer, ", "))
		}
	}
}

// AnswerHas reports whether a json_path (split into segments) can exist in an answer with
// the documented fields: it runs along one of them ("*" stands for any key), or goes on
// below one whose contents are open (a map of claims, a list of calls).
func AnswerHas(answer []string, segs []string) bool {
	for _, a := range answer {
		fields := strings.Split(a, ".")
		ok := true
		for i := 0; i < len(fields) && i < len(segs); i++ {
			if fields[i] != "*" && fields[i] != segs[i] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// answerPrefixes are the documented fields and every object on the way to them: the paths
// a json_path may name.
func answerPrefixes(answer []string) []string {
	var out []string
	for _, a := range answer {
		for i, ch := range a {
			if ch == '.' && !slices.Contains(out, a[:i]) {
				out = append(out, a[:i])
			}
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}
