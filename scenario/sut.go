package scenario

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// SUT is a scenario's `sut:` block: a system under test that is not muster-shaped, started
// from a command or already running at a URL. The runner is then the MCP server's OAuth
// client ("direct mode"). Every string is a template over the scenario's world (WorldRoots).
type SUT struct {
	// Command is the argv to start (no shell); empty when URL names a running server.
	Command []string `yaml:"command"`
	// Env is added to the runner's environment for the command.
	Env map[string]string `yaml:"env"`
	// Files are written into the scenario's temp dir before the start: name -> content.
	Files map[string]string `yaml:"files"`
	// URL is the MCP endpoint. Default with a command: http://127.0.0.1:{{ .sut.port }}/mcp.
	URL string `yaml:"url"`
	// Ready says when a started server is ready (default: its port accepts connections).
	Ready *SUTReady `yaml:"ready"`
	// CAFile is a PEM file of CAs to trust, besides the system's, for a server on https: every
	// HTTP client of the runner that talks to the SUT uses it. It may be written by the
	// server itself at its start (e.g. {{ .tempdir }}/ca.pem).
	CAFile string `yaml:"ca_file"`
	// Protocol pins the MCP protocol revision of every session the runner opens to the SUT
	// (one of ProtocolVersions); "" negotiates the newest both sides speak.
	Protocol string `yaml:"protocol"`
	// Client is a client pre-registered at the server's authorization server.
	Client *SUTClient `yaml:"client"`
	// Users are the credentials test_oauth_login uses at an authorization server that is
	// not a mock IdP of the scenario: user name -> how to log in.
	Users map[string]SUTUser `yaml:"users"`
	// OnTimeout is sent to a started server when a step or the scenario times out: a hung
	// server's own account of itself (a Go server prints every goroutine's stack on QUIT).
	OnTimeout *SUTOnTimeout `yaml:"on_timeout"`

	Pos Pos `yaml:"-"`
}

// SUTOnTimeout names the signal (QUIT, ABRT, USR1, USR2, HUP, INT or TERM, without SIG).
type SUTOnTimeout struct {
	Signal string `yaml:"signal"`
}

// TimeoutSignals are the signals on_timeout may name.
var TimeoutSignals = []string{"QUIT", "ABRT", "USR1", "USR2", "HUP", "INT", "TERM"}

// SUTReady is a readiness check: an HTTP path that must answer below 500, or a regular
// expression a line of the server's output must match.
type SUTReady struct {
	HTTP string `yaml:"http"`
	Log  string `yaml:"log"`
}

// SUTClient is a pre-registered OAuth client. A secret is better taken from the
// environment (ClientSecretEnv) than written into the file.
type SUTClient struct {
	ClientID        string `yaml:"client_id"`
	ClientSecret    string `yaml:"client_secret"`
	ClientSecretEnv string `yaml:"client_secret_env"`
}

// SUTUser is how one user logs in at an authorization server of the SUT: a login form
// filled with Username and Password (or the environment variable PasswordEnv), and/or extra
// query parameters of the authorization request (a server's test shortcut such as
// tenant_id and sub).
type SUTUser struct {
	Username        string            `yaml:"username"`
	Password        string            `yaml:"password"`
	PasswordEnv     string            `yaml:"password_env"`
	AuthorizeParams map[string]string `yaml:"authorize_params"`
}

// ProtocolVersions are the MCP protocol revisions the runner speaks with a SUT, newest
// first: 2026-07-28 is stateless (no initialize, no Mcp-Session-Id); the older two use
// the initialize handshake and sessions. Older revisions predate MCP's authorization spec.
var ProtocolVersions = []string{"2026-07-28", "2025-11-25", "2025-06-18"}

// CheckProtocol says what is wrong with a protocol revision a user pinned ("" is none).
func CheckProtocol(v string) error {
	if v == "" || slices.Contains(ProtocolVersions, v) {
		return nil
	}
	return fmt.Errorf("%q is not an MCP protocol revision muster-test speaks (valid: %s)", v, strings.Join(ProtocolVersions, ", "))
}

// WorldRoots are the roots of the templates over a scenario's world: `{{ .sut.port }}`,
// `{{ .idp.NAME.issuer_url }}`, `{{ .mcp.NAME.url }}`, `{{ .ports.NAME }}`,
// `{{ .tempdir }}` and `{{ .self }}`. No step may take one of these names as its id.
var WorldRoots = []string{"sut", "idp", "mcp", "ports", "tempdir", "self"}

// worldFields are the fields a world template may name below each root that has them.
var worldFields = map[string][]string{
	"sut": {"port", "url", "path"},
	"idp": {"issuer_url", "jwks_url", "metadata_url", "port", "client_id", "client_secret"},
	"mcp": {"url"},
}

// IsWorldRoot reports whether a template root names the scenario's world.
func IsWorldRoot(root string) bool { return slices.Contains(WorldRoots, root) }

// musterOnly are the pre_configuration keys that configure a muster-shaped SUT.
var musterOnly = []string{"workflows", "services", "service_classes", "main_config", "muster_broker"}

// sutBlock checks the `sut:` block and every world template of the scenario.
func (c *checker) sutBlock(s *Scenario) {
	if s.SUT != nil {
		c.sutKeys(s)
	}
	c.worldTemplates(s)
}

func (c *checker) sutKeys(s *Scenario) {
	b := s.SUT
	at := c.at(&s.SUT, s.Pos)
	if len(b.Command) == 0 && b.URL == "" {
		c.errorAt(at, "sut: needs \"command\" (the argv that starts the server) or \"url\" (a running server)")
	}
	if pc := s.PreConfiguration; pc != nil {
		given := map[string]bool{"workflows": len(pc.Workflows) > 0, "services": len(pc.Services) > 0,
			"service_classes": len(pc.ServiceClasses) > 0, "main_config": pc.MainConfig != nil, "muster_broker": pc.MusterBroker != nil}
		for _, k := range musterOnly {
			if given[k] {
				c.errorAt(at, "sut: a scenario with its own SUT cannot use pre_configuration.%s, which configures a muster-shaped SUT", k)
			}
		}
	}
	if r := b.Ready; r != nil {
		rAt := c.at(&b.Ready, at)
		switch {
		case (r.HTTP == "") == (r.Log == ""):
			c.errorAt(rAt, "sut.ready: give exactly one of \"http\" (a path that must answer below 500) or \"log\" (a regular expression)")
		case r.HTTP != "" && !strings.HasPrefix(r.HTTP, "/") && !isTemplated(r.HTTP):
			c.errorAt(c.at(&r.HTTP, rAt), "sut.ready.http: %q is not a path (it starts with /)", r.HTTP)
		case r.Log != "":
			if _, err := regexp.Compile(r.Log); err != nil {
				c.errorAt(c.at(&r.Log, rAt), "sut.ready.log: %v", err)
			}
		}
	}
	if err := CheckProtocol(b.Protocol); err != nil {
		c.errorAt(c.at(&b.Protocol, at), "sut.protocol: %v", err)
	}
	if o := b.OnTimeout; o != nil {
		switch {
		case len(b.Command) == 0:
			c.errorAt(c.at(&b.OnTimeout, at), "sut.on_timeout: needs a started server (command); a server named by url alone is not the runner's to signal")
		case !slices.Contains(TimeoutSignals, o.Signal):
			c.errorAt(c.at(&o.Signal, c.at(&b.OnTimeout, at)), "sut.on_timeout.signal: %q: want one of %s%s", o.Signal,
				strings.Join(TimeoutSignals, ", "), didYouMean(o.Signal, TimeoutSignals))
		}
	}
	if cl := b.Client; cl != nil && cl.ClientID == "" {
		c.errorAt(c.at(&b.Client, at), "sut.client: missing required key \"client_id\"")
	}
}

// worldTemplates checks every world template in the sut block and in steps' args and
// expected: the IdP or server it names exists, and so does the field. A step id that is a
// world root is an error when the scenario uses world templates or a sut block, and a
// warning otherwise (a muster file never writes them).
func (c *checker) worldTemplates(s *Scenario) {
	used := s.SUT != nil
	scan := func(n *yaml.Node, path string) {
		walkScalars(n, func(sc *yaml.Node) {
			for _, ref := range Templates(sc.Value) {
				if IsWorldRoot(ref.Root) {
					used = true
					c.worldRef(sc, path, ref.Path)
				}
			}
		})
	}
	if s.SUT != nil {
		scan(c.nodeOf(&s.SUT), "sut")
	}
	for _, p := range c.order {
		scan(c.nodeOf(&p.st.Args), p.path+".args")
		if p.st.Expected != nil {
			scan(c.nodeOf(&p.st.Expected), p.path+".expected")
		}
	}
	for _, p := range c.order {
		if p.st.ID == "" || !IsWorldRoot(p.st.ID) {
			continue
		}
		if used {
			c.errorAt(c.at(&p.st.ID, p.st.Pos), "%s.id: %q names the scenario's world in templates ({{ .%s }}); choose another id", p.path, p.st.ID, p.st.ID)
		} else {
			c.warnAt(c.at(&p.st.ID, p.st.Pos), "%s.id: %q is reserved for templates over the scenario's world", p.path, p.st.ID)
		}
	}
}

// worldRef checks one world template path such as idp.main.issuer_url.
func (c *checker) worldRef(n *yaml.Node, path, ref string) {
	segs := strings.Split(ref, ".")
	root := segs[0]
	bad := func(format string, args ...any) {
		c.errorf(n, path, "template {{ .%s }}: "+format, append([]any{ref}, args...)...)
	}
	switch root {
	case "tempdir", "self":
		if len(segs) != 1 {
			bad("%s has no fields", root)
		}
	case "ports":
		if len(segs) != 2 {
			bad("write {{ .ports.NAME }}: a free port chosen for NAME")
		}
	case "sut":
		if len(segs) != 2 || !slices.Contains(worldFields["sut"], segs[1]) {
			bad("the SUT's fields are %s", strings.Join(worldFields["sut"], ", "))
		}
	case "idp", "mcp":
		var names []string
		if root == "idp" {
			names = keys(c.idps)
		} else {
			for name, srv := range c.mcps {
				if srv.HTTPMock() {
					names = append(names, name)
				}
			}
			slices.Sort(names)
		}
		switch {
		case len(segs) != 3:
			bad("write {{ .%s.NAME.FIELD }} with FIELD one of %s", root, strings.Join(worldFields[root], ", "))
		case !slices.Contains(names, segs[1]):
			what := "entry of mock_oauth_servers"
			if root == "mcp" {
				what = "HTTP mock among mcp_servers"
			}
			bad("%q is not an %s of this scenario%s", segs[1], what, known(segs[1], names))
		case !slices.Contains(worldFields[root], segs[2]):
			bad("%q is not a field of %s.%s (fields: %s)%s", segs[2], root, segs[1], strings.Join(worldFields[root], ", "),
				didYouMean(segs[2], worldFields[root]))
		}
	}
}

// walkScalars calls fn for every scalar below n, following aliases once.
func walkScalars(n *yaml.Node, fn func(*yaml.Node)) {
	visited := map[*yaml.Node]bool{}
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		if n == nil || visited[n] {
			return
		}
		visited[n] = true
		switch n.Kind {
		case yaml.AliasNode:
			walk(n.Alias)
		case yaml.MappingNode:
			for i := 1; i < len(n.Content); i += 2 {
				walk(n.Content[i])
			}
		case yaml.SequenceNode, yaml.DocumentNode:
			for _, e := range n.Content {
				walk(e)
			}
		case yaml.ScalarNode:
			fn(n)
		}
	}
	walk(n)
}
