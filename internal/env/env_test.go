package env

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/mcpclient"
	"github.com/muster-test/muster-test/internal/sut"
	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/mocks/mcpserver"
	"github.com/muster-test/muster-test/scenario"
)

// TestStdioMockFilesServeWhatTheLoaderRead: a stdio mock reads the file Start writes from
// the scenario's config map with mcpserver.LoadConfigFile, not through the loader; for
// every mock config of the fixtures, that gives the config the loader decoded.
func TestStdioMockFilesServeWhatTheLoaderRead(t *testing.T) {
	// The mock configs are what matter here, not the test tools: the format-only loader.
	set := scenario.Loader{}.LoadPaths("../../scenarios", "../../testdata/scenarios/good", "../../testdata/scenarios/muster-format")
	if len(set.Errors) > 0 {
		t.Fatalf("fixtures do not load: %v", set.Errors)
	}
	dir := t.TempDir()
	n := 0
	for _, sc := range set.Scenarios {
		if sc.PreConfiguration == nil {
			continue
		}
		for _, s := range sc.PreConfiguration.MCPServers {
			if s.Mock == nil {
				continue
			}
			n++
			file := filepath.Join(dir, fmt.Sprintf("%d.yaml", n))
			if err := writeYAMLFile(file, s.Config); err != nil {
				t.Fatal(err)
			}
			got, err := mcpserver.LoadConfigFile(file)
			if err != nil {
				t.Errorf("%s: server %s: the mock refuses the file: %v", sc.Pos.File, s.Name, err)
			} else if !reflect.DeepEqual(got, *s.Mock) {
				t.Errorf("%s: server %s: the file gives\n%#v\nthe loader read\n%#v", sc.Pos.File, s.Name, got, *s.Mock)
			}
		}
	}
	if n < 30 {
		t.Fatalf("only %d mock configs checked", n)
	}
}

const envScenario = `
name: env
category: behavioral
concept: runner
pre_configuration:
  mock_oauth_servers:
    - name: idp
      scopes: [openid, "mcp:read"]
      use_tls: true
    - name: exchanger
      trusted_issuers: [{connector_id: up, oauth_server_ref: idp}]
  mcp_servers:
    - name: secure
      config:
        type: streamable-http
        toolPrefix: sec
        oauth: {required: true, mock_oauth_server_ref: idp, scope: "mcp:read"}
        tools: [{name: op, responses: [{response: ok}]}]
    - name: local
      config:
        type: stdio
        tools: [{name: hello, responses: [{response: hi}]}]
    - name: real
      config: {type: streamable-http, url: "http://localhost:1/mcp"}
steps:
  - id: s
    tool: x_sec_op
    expected: {success: true}
`

// TestMocksOutliveTheStartContext: the mocks run until Close, whatever happens to the
// context they were started with. The runner starts them with the scenario's deadline:
// cleanup steps run past it, and the SUT is stopped before the mocks, so that it does not
// log its upstreams' disappearance as errors into the log a failure shows.
func TestMocksOutliveTheStartContext(t *testing.T) {
	sc, diags := scenario.Loader{}.Parse("env.yaml", []byte(envScenario))
	if sc == nil {
		t.Fatal(diags)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e, err := Start(ctx, sc, t.TempDir(), Binaries{Self: "/path/to/muster-test", Child: "/path/to/muster-test-child"})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	srv, ok := e.Server("secure")
	if !ok {
		t.Fatal("no mock server secure")
	}
	resp, err := http.Get(srv.HTTP.URL())
	if err != nil {
		t.Fatalf("the mock stopped with its start context: %v", err)
	}
	resp.Body.Close()
	e.Close()
	if resp, err := http.Get(srv.HTTP.URL()); err == nil {
		resp.Body.Close()
		t.Fatalf("the mock still answers after Close: %d", resp.StatusCode)
	}
}

// TestStartBuildsTheWorldAndTheSUTSpec starts a scenario's mocks and checks what the SUT is
// told: URLs of running mocks, the stdio command, the verbatim server, the CA; and that
// Close stops the mocks.
func TestStartBuildsTheWorldAndTheSUTSpec(t *testing.T) {
	sc, diags := scenario.Loader{}.Parse("env.yaml", []byte(envScenario))
	if sc == nil {
		t.Fatal(diags)
	}
	dir := t.TempDir()
	e, err := Start(context.Background(), sc, dir, Binaries{Self: "/path/to/muster-test", Child: "/path/to/muster-test-child"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	spec := e.SUTSpec()
	if !spec.OAuth || spec.CAFile == "" {
		t.Fatalf("OAuth %v, CA file %q", spec.OAuth, spec.CAFile)
	}
	if pem, err := os.ReadFile(spec.CAFile); err != nil || len(pem) == 0 {
		t.Fatalf("CA file: %v", err)
	}
	byName := map[string]int{}
	for i, u := range spec.Upstreams {
		byName[u.Name] = i
	}
	secure := spec.Upstreams[byName["secure"]]
	if !secure.Protected || secure.Spec["toolPrefix"] != "sec" || secure.Spec["type"] != "streamable-http" {
		t.Errorf("secure: %+v", secure)
	}
	resp, err := http.Get(secure.Spec["url"].(string))
	if err != nil {
		t.Fatalf("the protected mock is not running: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("an unauthenticated request to the protected mock got %d, want 401", resp.StatusCode)
	}
	local := spec.Upstreams[byName["local"]]
	args, _ := local.Spec["args"].([]string)
	if local.Spec["type"] != "stdio" || local.Spec["command"] != "/path/to/muster-test-child" || len(args) != 3 ||
		args[0] != "--mock-mcp-server" || filepath.Dir(args[2]) != filepath.Join(dir, "mocks") {
		t.Errorf("local: %+v", local.Spec)
	}
	if cfg, err := mcpserver.LoadConfigFile(args[2]); err != nil {
		t.Errorf("the stdio mock's file does not load: %v", err)
	} else if decl, _ := e.Server("local"); !reflect.DeepEqual(cfg, *decl.Decl.Mock) {
		t.Errorf("the stdio mock's file gives %#v, the scenario says %#v", cfg, *decl.Decl.Mock)
	}
	if self := e.World()["self"]; self != "/path/to/muster-test" {
		t.Errorf("{{ .self }} = %v, want the muster-test binary, not the one for stdio mocks", self)
	}
	real := spec.Upstreams[byName["real"]]
	if real.Spec["url"] != "http://localhost:1/mcp" || real.Tools != nil {
		t.Errorf("real server must pass verbatim: %+v", real)
	}
	if _, ok := e.IdP("exchanger"); !ok {
		t.Error("the IdP with a trusted issuer did not start")
	}
	url := secure.Spec["url"].(string)
	e.Close()
	if _, err := http.Get(url); err == nil {
		t.Error("the protected mock still answers after Close")
	}
}

// TestIdPKeysReachTheIdP: keys of a mock IdP that change what the IdP does, read by the
// loader, change what the started IdP does.
func TestIdPKeysReachTheIdP(t *testing.T) {
	e := startWorld(t, `
name: keys
pre_configuration:
  mock_oauth_servers:
    - {name: closed, registration: closed, consent_csrf: true}
    - {name: open}
steps:
  - {id: s, tool: x_any, expected: {success: true}}
`)
	for name, want := range map[string]int{"closed": http.StatusUnauthorized, "open": http.StatusCreated} {
		s, _ := e.IdP(name)
		resp, err := http.Post(s.URL()+"/register", "application/json", strings.NewReader(`{"redirect_uris":["http://127.0.0.1/cb"]}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("IdP %s: POST /register answered %d, want %d", name, resp.StatusCode, want)
		}
		resp, err = http.Get(s.URL() + "/authorize?response_type=code&client_id=test-client&state=state-12345678&redirect_uri=http://127.0.0.1/cb")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if hasToken := strings.Contains(string(page), `name="`+idp.FieldCSRF+`"`); hasToken != (name == "closed") {
			t.Errorf("IdP %s: consent page (status %d) has a CSRF token: %v", name, resp.StatusCode, hasToken)
		}
	}
}

// TestNewerMusterAuthKeys: a mock's forward_token and token_exchange reach the SUT's
// MCPServer spec as newer muster's own test framework writes them (auth.forwardToken,
// auth.tokenExchange with the referenced IdP's token endpoint), and trust_issuer_ref
// makes the mock accept that IdP's tokens instead of its own IdP's.
func TestNewerMusterAuthKeys(t *testing.T) {
	e := startWorld(t, `
name: newer-muster
category: behavioral
concept: runner
pre_configuration:
  mock_oauth_servers:
    - {name: idp, scopes: [openid], sign_tokens: true}
    - {name: dex, scopes: [openid], sign_tokens: true}
  mcp_servers:
    - name: fwd
      config:
        type: streamable-http
        oauth: {required: true, mock_oauth_server_ref: idp, trust_issuer_ref: dex, forward_token: true}
        tools: [{name: op, responses: [{response: ok}]}]
    - name: exch
      config:
        type: streamable-http
        oauth:
          required: true
          mock_oauth_server_ref: idp
          token_exchange: {oauth_server_ref: dex, connector_id: cluster-a, scopes: "openid groups", expected_issuer: "https://dex.example"}
        tools: [{name: op, responses: [{response: ok}]}]
    - name: plain
      config:
        type: streamable-http
        oauth: {required: true, mock_oauth_server_ref: idp}
        tools: [{name: op, responses: [{response: ok}]}]
steps:
  - {id: s, tool: x_fwd_op, expected: {success: true}}
`)
	dex, _ := e.IdP("dex")
	idpSrv, _ := e.IdP("idp")
	spec := map[string]map[string]any{}
	for _, u := range e.SUTSpec().Upstreams {
		spec[u.Name] = u.Spec
	}
	if got, want := spec["fwd"]["auth"], map[string]any{"forwardToken": true}; !reflect.DeepEqual(got, want) {
		t.Errorf("fwd auth = %#v, want %#v", got, want)
	}
	wantExchange := map[string]any{"tokenExchange": map[string]any{"enabled": true, "dexTokenEndpoint": dex.Issuer() + "/token",
		"connectorId": "cluster-a", "scopes": "openid groups", "expectedIssuer": "https://dex.example"}}
	if got := spec["exch"]["auth"]; !reflect.DeepEqual(got, wantExchange) {
		t.Errorf("exch auth = %#v, want %#v", got, wantExchange)
	}
	if _, ok := spec["plain"]["auth"]; ok {
		t.Errorf("plain has an auth block: %#v", spec["plain"])
	}
	// The forwarding mock takes dex's tokens and refuses its own IdP's: the status of the
	// session's first request, from the mock's request log.
	call := func(server string, s *idp.Server) int {
		tok, err := s.IssueToken(context.Background(), idp.IssueOptions{Subject: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		srv, _ := e.Server(server)
		sess, err := mcpclient.Connect(context.Background(), srv.HTTP.URL(),
			mcpclient.Options{Headers: map[string]string{"Authorization": "Bearer " + tok.AccessToken}})
		if err == nil {
			sess.Close()
		}
		for _, r := range srv.HTTP.Requests() {
			if r.Bearer == tok.AccessToken {
				return r.Status
			}
		}
		t.Fatalf("%s logged no request with the token (connect: %v)", server, err)
		return 0
	}
	if got := call("fwd", dex); got != http.StatusOK {
		t.Errorf("the forwarding mock refused a token of its trusted issuer (%d)", got)
	}
	if got := call("fwd", idpSrv); got != http.StatusUnauthorized {
		t.Errorf("the forwarding mock took a token of its own IdP (%d), want 401", got)
	}
	if got := call("plain", idpSrv); got != http.StatusOK {
		t.Errorf("a plain mock refused its IdP's token (%d)", got)
	}
}

// startWorld starts the mocks of the scenario doc, closed when the test ends.
func startWorld(t *testing.T, doc string) *Env {
	t.Helper()
	sc, diags := scenario.Loader{}.Parse("env.yaml", []byte(doc))
	if sc == nil {
		t.Fatal(diags)
	}
	e, err := Start(context.Background(), sc, t.TempDir(), Binaries{Self: "/path/to/muster-test", Child: "/path/to/muster-test-child"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// TestStdioMockRelayed: with a relay, the SUT is told to start the relay joined to a mock
// served here (no file); that mock answers an MCP session with the scenario's tools, and
// Close stops it.
func TestStdioMockRelayed(t *testing.T) {
	sc, diags := scenario.Loader{}.Parse("env.yaml", []byte(envScenario))
	if sc == nil {
		t.Fatal(diags)
	}
	dir := t.TempDir()
	e, err := Start(context.Background(), sc, dir, Binaries{Self: "/path/to/muster-test",
		Child: "/path/to/muster-test-child", Relay: "/path/to/muster-test-relay"})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	var local sut.Upstream
	for _, u := range e.SUTSpec().Upstreams {
		if u.Name == "local" {
			local = u
		}
	}
	args, _ := local.Spec["args"].([]string)
	if local.Spec["type"] != "stdio" || local.Spec["command"] != "/path/to/muster-test-relay" || len(args) != 2 || args[0] != "--connect" {
		t.Fatalf("local: %+v", local.Spec)
	}
	if _, err := os.Stat(filepath.Join(dir, "mocks")); !os.IsNotExist(err) {
		t.Errorf("a relayed mock needs no file, yet %s exists (%v)", filepath.Join(dir, "mocks"), err)
	}
	conn, err := net.Dial("tcp", args[1])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintln(conn, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`)
	if line, err := bufio.NewReader(conn).ReadString('\n'); err != nil || !strings.Contains(line, `"name":"hello"`) {
		t.Fatalf("tools/list: %q, %v; want the scenario's tool hello", line, err)
	}
	e.Close()
	if conn, err := net.Dial("tcp", args[1]); err == nil {
		conn.Close()
		t.Error("the relayed mock still listens after Close")
	}
}
