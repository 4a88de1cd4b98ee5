package scenario

// testTool checks a runner tool's name, its literal arguments against the catalogue's
// declaration, and what its `server` argument names.
func (c *checker) testTool(p placed) {
	if c.tools == nil {
		return
	}
	st := p.st
	toolAt := c.at(&st.Tool, st.Pos)
	tt, ok := c.lookupTool(st.Tool)
	switch {
	case !ok:
		c.errorAt(toolAt, "%s.tool: unknown test tool %q%s", p.path, st.Tool, didYouMean(st.Tool, c.toolNames()))
		return
	case tt.Later:
		c.errorAt(toolAt, "%s.tool: %s is not supported yet", p.path, st.Tool)
		return
	}
	c.toolArgs(p, tt)
	c.serverArg(p, tt)
	c.answerPaths(p, tt)
}

// toolArgs checks the literal arguments: required ones present, each of its kind. An
// argument the tool does not declare is a warning, since muster's newer files may pass
// arguments this runner does not read.
func (c *checker) toolArgs(p placed, tt TestTool) {
	st := p.st
	for _, a := range tt.Args {
		v, given := st.Args[a.Name]
		if !given || v == nil {
			if a.Required {
				c.errorAt(c.at(&st.Args, st.Pos), "%s.args: %s needs argument %q (%s)", p.path, st.Tool, a.Name, tt.Signature())
			}
			continue
		}
		if err := a.CheckArg(v); err != nil {
			c.errorAt(c.argPos(st, a.Name), "%s.args.%s: %v", p.path, a.Name, err)
		}
	}
	declared := make([]string, len(tt.Args))
	for i, a := range tt.Args {
		declared[i] = a.Name
	}
	for _, name := range keys(st.Args) {
		if _, ok := tt.Arg(name); !ok {
			c.warnAt(c.argPos(st, name), "%s.args.%s: %s does not read this argument%s (%s)", p.path, name, st.Tool,
				didYouMean(name, declared), tt.Signature())
		}
	}
}

// serverArg checks what a literal `server` argument names.
func (c *checker) serverArg(p placed, tt TestTool) {
	st := p.st
	raw, given := st.Args["server"]
	if !given || tt.Server == NoServer {
		return
	}
	argAt := c.argPos(st, "server")
	server, isString := raw.(string)
	switch {
	case !isString: // toolArgs has said so
	case isTemplated(server):
	case tt.Server == IdPServer:
		switch {
		case c.idps[server] != nil:
		case c.mcps[server] != nil:
			c.errorAt(argAt, "%s.args.server: %q is an mcp_servers entry, but the server of %s names a mock_oauth_servers entry%s",
				p.path, server, st.Tool, known("", keys(c.idps)))
		default:
			c.errorAt(argAt, "%s.args.server: %q is not a mock_oauth_servers entry of this scenario%s",
				p.path, server, known(server, keys(c.idps)))
		}
	default:
		srv := c.mcps[server]
		switch {
		case srv == nil && c.idps[server] != nil:
			c.errorAt(argAt, "%s.args.server: %q is a mock IdP, but the server of %s names an mcp_servers entry%s",
				p.path, server, st.Tool, known("", keys(c.mcps)))
		case srv == nil:
			c.errorAt(argAt, "%s.args.server: %q is not an mcp_servers entry of this scenario%s",
				p.path, server, known(server, keys(c.mcps)))
		case tt.Server == MockMCPServer && srv.Mock == nil:
			c.errorAt(argAt, "%s.args.server: %q is not a mock MCP server (its config has no tools); %s needs one",
				p.path, server, st.Tool)
		}
	}
}

func (c *checker) lookupTool(name string) (TestTool, bool) {
	for _, t := range c.tools {
		if t.Name == name {
			return t, true
		}
	}
	return TestTool{}, false
}

func (c *checker) toolNames() []string {
	names := make([]string, len(c.tools))
	for i, t := range c.tools {
		names[i] = t.Name
	}
	return names
}
