package conform

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/executor"
	"github.com/muster-test/muster-test/internal/testtools"
	"github.com/muster-test/muster-test/scenario"
)

// probeSteps is the one request sent before any check: a server that cannot be reached,
// does not start, or answers an MCP request with a web page is bad input, not a verdict.
// %s is the endpoint's path: {{ .sut.path }} in direct mode, /mcp for a gateway.
const probeSteps = `
steps:
  - id: probe
    tool: test_http_request
    args: {method: POST, path: "%s", token: "", headers: {Accept: "application/json, text/event-stream"}, body: {jsonrpc: "2.0", id: 1, method: initialize, params: {protocolVersion: "2025-06-18", capabilities: {}, clientInfo: {name: muster-test-conform, version: "1"}}}}
    expected: {success: false}
`

// target is what the checks run against: a server at a URL (nothing started), the sut
// block and mocks of a config file (started per check), or a muster-shaped gateway that
// the runner configures and starts per check (gateway: builtin or muster).
type target struct {
	url     string
	config  *scenario.Scenario // set with a config file
	file    string
	gateway string
	// gatewayAuth: the gateway authenticates its clients, trusting each check's
	// gateway-idp (use_as_muster_oauth_server); the checks' users log in to it first.
	gatewayAuth bool
	// protocol is the --protocol pin ("": negotiate): a requirement another revision
	// alone states is N/A under it.
	protocol string
	// hints is the config's conform block: what no request can find out about the server.
	hints hints
}

// hints is a config's conform block, read apart from the scenario it otherwise is.
type hints struct {
	// MultiScopeTool is a tool whose tools/call needs two or more scopes, with the
	// arguments to call it with and the claims a token needs besides its scopes to be let
	// through to it (a tenant): insufficient-scope-all-scopes calls it.
	MultiScopeTool *struct {
		Name      string         `yaml:"name"`
		Arguments map[string]any `yaml:"arguments"`
		Claims    map[string]any `yaml:"claims"`
	} `yaml:"multi_scope_tool"`
}

// world is the hints as the checks' templates read them: {{ .conform.multi_scope_tool.name }}.
func (h hints) world() map[string]any {
	w := map[string]any{}
	if m := h.MultiScopeTool; m != nil {
		w["multi_scope_tool"] = map[string]any{"name": m.Name, "arguments": orEmpty(m.Arguments), "claims": orEmpty(m.Claims)}
	}
	return map[string]any{"conform": w}
}

// describe names the target for the summary's first line.
func (t *target) describe() string {
	auth := ""
	if t.gatewayAuth {
		auth = ", authenticating its clients"
	}
	switch {
	case t.gateway == "builtin" && t.gatewayAuth:
		return "the reference SUT in protected mode, a gateway that authenticates its clients (started for each check)"
	case t.gateway == "builtin":
		return "the reference SUT, a muster-compatible gateway (started for each check)"
	case t.gateway != "":
		return "muster, as a gateway" + auth + " (started for each check)"
	case t.config != nil:
		return "the server of " + t.file + " (started for each check)"
	}
	return t.url
}

// loadConfig reads a config file: a scenario file without steps (the checks are the
// steps) that has a sut block and, for the checks that mint tokens, a mock IdP named idp
// the server trusts. The probe step is added to its text, so that the loader checks it
// like any scenario and its diagnostics point at the user's lines.
func loadConfig(file string) (*target, []scenario.Diagnostic, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, nil, err
	}
	var doc map[string]yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		// The loader says where.
		doc = nil
	}
	if _, ok := doc["steps"]; ok {
		return nil, nil, fmt.Errorf("%s: a conform config has no steps: the checks are its steps", file)
	}
	h, raw, err := readHints(file, raw)
	if err != nil {
		return nil, nil, err
	}
	text := strings.TrimRight(string(raw), "\n") + "\n"
	if _, ok := doc["name"]; !ok {
		text += "name: conform-probe\n"
	}
	text += fmt.Sprintf(probeSteps, "{{ .sut.path }}")
	sc, diags := testtools.Loader().Parse(file, []byte(text))
	if scenario.Count(diags) > 0 || sc == nil {
		return nil, diags, errors.New("the config file does not load")
	}
	if sc.SUT == nil {
		return nil, nil, fmt.Errorf("%s: no sut block: say how to start the server (or use --sut-url for one that runs)", file)
	}
	return &target{config: sc, file: file, hints: h}, diags, nil
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// readHints decodes the config's conform block and blanks its lines out of the text, which
// the scenario loader then reads with its line numbers unchanged.
func readHints(file string, raw []byte) (hints, []byte, error) {
	var h hints
	var root yaml.Node
	if yaml.Unmarshal(raw, &root) != nil || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return h, raw, nil // the loader says what is wrong
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != "conform" {
			continue
		}
		// Re-encoded to be decoded strictly: a Node's Decode takes unknown keys silently.
		block, err := yaml.Marshal(m.Content[i+1])
		if err == nil {
			dec := yaml.NewDecoder(bytes.NewReader(block))
			dec.KnownFields(true)
			err = dec.Decode(&h)
		}
		if err != nil {
			return h, nil, fmt.Errorf("%s:%d: conform: %w", file, m.Content[i].Line, err)
		}
		if t := h.MultiScopeTool; t != nil && t.Name == "" {
			return h, nil, fmt.Errorf("%s:%d: conform.multi_scope_tool needs a name", file, m.Content[i].Line)
		}
		end := -1 // the line before the next top-level key, else the end
		if i+2 < len(m.Content) {
			end = m.Content[i+2].Line - 1
		}
		lines := strings.Split(string(raw), "\n")
		for n := m.Content[i].Line - 1; n < len(lines) && (end < 0 || n < end); n++ {
			lines[n] = ""
		}
		return h, []byte(strings.Join(lines, "\n")), nil
	}
	return h, raw, nil
}

// probe is the scenario that tries the target once.
func (t *target) probe() (*scenario.Scenario, error) {
	if t.config != nil {
		return t.config, nil
	}
	path := "{{ .sut.path }}"
	if t.gateway != "" {
		path = "/mcp"
	}
	sc, diags := testtools.Loader().Parse("probe", []byte("name: conform-probe\n"+fmt.Sprintf(probeSteps, path)))
	if scenario.Count(diags) > 0 {
		return nil, fmt.Errorf("the probe does not load: %s", diags[0].String())
	}
	return sc, nil
}

// judgeProbe says why the probe's result makes the target unusable, or nil.
func judgeProbe(url string, res event.ScenarioResult) error {
	if len(res.Steps) == 0 {
		return fmt.Errorf("the server did not start or cannot be reached: %s", res.Error)
	}
	st := res.Steps[0]
	var answer struct {
		Status  int               `json:"status_code"`
		Headers map[string]string `json:"headers"`
		Body    any               `json:"body"`
	}
	if err := json.Unmarshal([]byte(st.Response), &answer); err != nil || answer.Status == 0 {
		why := firstLine(st.Message)
		if why == "" {
			why = firstLine(st.Response)
		}
		return fmt.Errorf("%s cannot be reached: %s", url, why)
	}
	ct := strings.ToLower(answer.Headers["Content-Type"])
	if strings.Contains(ct, "text/html") {
		return fmt.Errorf("%s answered an MCP request with a web page (%d, %s), not with MCP or an OAuth challenge: is this the MCP endpoint?",
			url, answer.Status, answer.Headers["Content-Type"])
	}
	return nil
}

// scenarioFor is the check's scenario aimed at the target: with a config, its sut block
// and its mocks (an IdP of the config replaces the check's of the same name, so the
// check mints tokens at the one the server trusts).
func (t *target) scenarioFor(c *Check) *scenario.Scenario {
	sc := *c.Scenario
	if c.needs(NeedsMultiScopeTool) {
		sc.Steps = slices.Clone(sc.Steps)
		for i := range sc.Steps {
			// Only the {{ .conform.* }} templates resolve here; the others stay for the run.
			// An unresolved one (no hint: the check is N/A and never gets here) is left as is.
			if args, err := executor.ResolveWorld(sc.Steps[i].Args, t.hints.world()); err == nil {
				sc.Steps[i].Args, _ = args.(map[string]any)
			}
		}
	}
	if c.needs(NeedsGateway) && t.gatewayAuth {
		sc.PreConfiguration = protectedBy(sc.PreConfiguration, gatewayIdP)
	}
	if t.config == nil || c.needs(NeedsGateway) {
		return &sc
	}
	sc.SUT = t.config.SUT
	pre := &scenario.PreConfiguration{}
	if own := t.config.PreConfiguration; own != nil {
		pre.MockOAuthServers = slices.Clone(own.MockOAuthServers)
		pre.MCPServers = slices.Clone(own.MCPServers)
	}
	if chk := c.Scenario.PreConfiguration; chk != nil {
		for _, idp := range chk.MockOAuthServers {
			if !t.hasIdP(idp.Name) {
				pre.MockOAuthServers = append(pre.MockOAuthServers, idp)
			}
		}
		pre.MCPServers = append(pre.MCPServers, chk.MCPServers...)
	}
	sc.PreConfiguration = pre
	return &sc
}

// gatewayIdP is the mock IdP every gateway check declares for the gateway's own clients:
// with --gateway-auth the gateway trusts it, and the runner logs the check's users in
// through it; without, it only mints tokens the gateway ignores.
const gatewayIdP = "gateway-idp"

// protectedBy is a copy of pre in which the mock IdP name protects the gateway itself.
func protectedBy(pre *scenario.PreConfiguration, name string) *scenario.PreConfiguration {
	out := *pre
	out.MockOAuthServers = slices.Clone(pre.MockOAuthServers)
	for i := range out.MockOAuthServers {
		if out.MockOAuthServers[i].Name == name {
			out.MockOAuthServers[i].UseAsMusterOAuthServer = true
		}
	}
	return &out
}

func (t *target) hasIdP(name string) bool {
	return t.config != nil && declaresIdP(t.config, name)
}

func declaresIdP(sc *scenario.Scenario, name string) bool {
	return sc.PreConfiguration != nil &&
		slices.ContainsFunc(sc.PreConfiguration.MockOAuthServers, func(m scenario.MockOAuthServer) bool { return m.Name == name })
}

// notApplicable says why a check cannot run against the target at all.
func (t *target) notApplicable(c *Check) string {
	switch {
	case t.protocol != "" && len(c.Revisions) > 0 && !slices.Contains(c.Revisions, t.protocol):
		return fmt.Sprintf("not a requirement of MCP %s (--protocol): %s", t.protocol, c.RevisionsWhy)
	case c.needs(NeedsGateway) && t.gateway == "":
		return "a gateway check (a muster-shaped SUT with its own mock upstreams): run with --gateway builtin or --gateway muster"
	case !c.needs(NeedsGateway) && t.gateway != "":
		return "a server check: run with --sut-url or --config"
	case !c.needs(NeedsIdP):
		return ""
	}
	switch {
	case t.config == nil:
		return "needs a token the server trusts: run with --config so the server trusts the mock IdP"
	case !t.hasIdP("idp"):
		return "needs a token the server trusts: the config declares no mock IdP named idp for the server to trust"
	case c.needs(NeedsMultiScopeTool) && t.hints.MultiScopeTool == nil:
		return "needs a tool that needs two or more scopes: name it in the config's conform.multi_scope_tool (no request finds one on an unknown server)"
	}
	return ""
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
