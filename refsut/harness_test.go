package refsut

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"gopkg.in/yaml.v3"

	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/mocks/idpauth"
	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// childEnv marks the test binary re-executed as the aggregator process: the SUT must be a
// real subprocess, and re-executing this binary avoids depending on cmd/ building.
const childEnv = "AGGREGATOR_TEST_CHILD"

// stdioEnv makes the test binary a stdio upstream that writes its pid to the named file.
const stdioEnv = "AGGREGATOR_TEST_STDIO_PIDFILE"

func TestMain(m *testing.M) {
	if pidFile := os.Getenv(stdioEnv); pidFile != "" {
		os.Exit(serveStdioChild(pidFile))
	}
	if os.Getenv(childEnv) == "1" {
		os.Exit(Main(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func serveStdioChild(pidFile string) int {
	if err := os.WriteFile(pidFile, []byte(fmt.Sprint(os.Getpid())), 0o644); err != nil {
		return 1
	}
	cfg := mcpserver.Config{Tools: []mcpserver.ToolConfig{textTool("stdio_op", "hi")}}
	if err := mcpserver.ServeStdio(context.Background(), cfg, os.Stdin, os.Stdout); err != nil {
		return 1
	}
	return 0
}

// sut is one aggregator subprocess.
type sut struct {
	t      testing.TB
	dir    string
	base   string // http://localhost:<port>
	cmd    *exec.Cmd
	mu     sync.Mutex
	stderr strings.Builder
	exited chan struct{}
	code   int
}

type sutOptions struct {
	oauth   bool
	faults  []Fault
	servers map[string]map[string]any // name -> spec
	extra   map[string]any            // merged into config.yaml's aggregator block
	// protectWith turns protected mode on (aggregator.oauth.server), trusting this IdP.
	protectWith *idp.Server
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func writeYAML(t testing.TB, path string, v any) {
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeConfig lays out a muster config dir as muster's runner does (docs/muster-contract.md §2).
func writeConfig(t testing.TB, o sutOptions, port int) string {
	dir := t.TempDir()
	agg := map[string]any{"host": "localhost", "port": port, "transport": "streamable-http", "enabled": true}
	if o.oauth {
		agg["oauth"] = map[string]any{
			"enabled": true, "publicUrl": fmt.Sprintf("http://localhost:%d", port), "callbackPath": "/oauth/proxy/callback",
		}
	}
	if o.protectWith != nil {
		oauth, _ := agg["oauth"].(map[string]any)
		if oauth == nil {
			oauth = map[string]any{}
			agg["oauth"] = oauth
		}
		oauth["server"] = map[string]any{"enabled": true, "baseUrl": fmt.Sprintf("http://localhost:%d", port),
			"provider": "dex", "dex": map[string]any{"issuerUrl": o.protectWith.Issuer()}}
	}
	for k, v := range o.extra {
		agg[k] = v
	}
	writeYAML(t, filepath.Join(dir, "config.yaml"), map[string]any{"aggregator": agg, "logging": map[string]any{"level": "debug"}})
	if err := os.MkdirAll(filepath.Join(dir, "mcpservers"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, spec := range o.servers {
		writeYAML(t, filepath.Join(dir, "mcpservers", name+".yaml"), map[string]any{
			"apiVersion": "muster.giantswarm.io/v1alpha1", "kind": "MCPServer",
			"metadata": map[string]any{"name": name, "namespace": "default"}, "spec": spec,
		})
	}
	return dir
}

func httpSpec(u string) map[string]any {
	return map[string]any{"autoStart": true, "type": "streamable-http", "url": u}
}

// startSUT launches the aggregator and waits for its readiness line.
func startSUT(t testing.TB, o sutOptions) *sut {
	t.Helper()
	port := freePort(t)
	s := launch(t, writeConfig(t, o, port), o.faults)
	s.base = fmt.Sprintf("http://localhost:%d", port)
	s.waitReady()
	return s
}

func launch(t testing.TB, dir string, faults []Fault, extraArgs ...string) *sut {
	args := []string{"serve", "--config-path", dir, "--debug"}
	for _, f := range faults {
		args = append(args, "--fault", string(f))
	}
	args = append(args, extraArgs...)
	cmd := exec.Command(os.Args[0], args...)
	// The race runtime sleeps 1 s at exit by default, which would slow every stop.
	cmd.Env = append(os.Environ(), childEnv+"=1", "GORACE=atexit_sleep_ms=0")
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &sut{t: t, dir: dir, cmd: cmd, exited: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			s.mu.Lock()
			s.stderr.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
		}
		_ = cmd.Wait()
		s.code = cmd.ProcessState.ExitCode()
		close(s.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			t.Logf("aggregator stderr:\n%s", s.log())
		}
	})
	return s
}

func (s *sut) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

func (s *sut) waitReady() {
	s.t.Helper()
	waitFor(s.t, "readiness line", 15*time.Second, func() bool {
		select {
		case <-s.exited:
			s.t.Fatalf("aggregator exited (%d) before ready:\n%s", s.code, s.log())
		default:
		}
		return strings.Contains(s.log(), "Started aggregator manager on http://localhost:")
	})
}

// testHTTPClient keeps idle connections for many concurrent sessions (the benchmark's 16).
var testHTTPClient = func() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: t}
}()

// mcpClient is one MCP session with the aggregator.
type mcpClient struct {
	*client.Client
	mu      sync.Mutex
	changes int // tools/list_changed notifications seen
}

func (s *sut) connect(t testing.TB) *mcpClient { return s.connectWith(t, "") }

// connectWith opens a session that sends the bearer token with every request (none: "").
func (s *sut) connectWith(t testing.TB, bearer string) *mcpClient {
	t.Helper()
	opts := []transport.StreamableHTTPCOption{transport.WithContinuousListening(), transport.WithHTTPBasicClient(testHTTPClient)}
	if bearer != "" {
		opts = append(opts, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + bearer}))
	}
	tr, err := transport.NewStreamableHTTP(s.base+"/mcp", opts...)
	if err != nil {
		t.Fatal(err)
	}
	c := &mcpClient{Client: client.NewClient(tr, client.WithProtocolVersion(mcp.ProtocolVersion20250618))}
	c.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == mcp.MethodNotificationToolsListChanged {
			c.mu.Lock()
			c.changes++
			c.mu.Unlock()
		}
	})
	// Start's context is the listening stream's lifetime: Close ends it, not a timeout.
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.ProtocolVersion20250618
	init.Params.ClientInfo = mcp.Implementation{Name: "aggregator-test", Version: "0"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func (c *mcpClient) listChanges() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changes
}

func (c *mcpClient) toolNames(t testing.TB) map[string]bool {
	t.Helper()
	res, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, tool := range res.Tools {
		out[tool.Name] = true
	}
	return out
}

func (c *mcpClient) call(t testing.TB, name string, args map[string]any) (*mcp.CallToolResult, error) {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return c.CallTool(ctx, req)
}

// mustCall calls a tool that must succeed at the JSON-RPC level, and returns its text.
func (c *mcpClient) mustCall(t testing.TB, name string, args map[string]any) (string, *mcp.CallToolResult) {
	t.Helper()
	res, err := c.call(t, name, args)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return resultText(res), res
}

func resultText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// rawCall sends tools/call through the transport and returns the raw JSON-RPC error, which
// the client would map to sentinel errors and lose the code of.
func (c *mcpClient) rawCall(t testing.TB, name string) (*mcp.JSONRPCErrorDetails, json.RawMessage) {
	t.Helper()
	resp, err := c.GetTransport().SendRequest(context.Background(), transport.JSONRPCRequest{
		JSONRPC: mcp.JSONRPC_VERSION,
		ID:      mcp.NewRequestId(int64(time.Now().UnixNano())),
		Method:  string(mcp.MethodToolsCall),
		Params:  map[string]any{"name": name, "arguments": map[string]any{}},
	})
	if err != nil {
		t.Fatalf("raw call %s: %v", name, err)
	}
	return resp.Error, resp.Result
}

// authURL extracts the authorization URL from a challenge text.
func authURL(t testing.TB, text string) string {
	t.Helper()
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "http://") || strings.HasPrefix(line, "https://") {
			return strings.TrimSpace(line)
		}
	}
	t.Fatalf("no URL in challenge:\n%s", text)
	return ""
}

// browse plays the user's browser: the IdP approves at once and redirects to the callback.
func browse(t testing.TB, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// env is a scenario's worth of mocks: IdPs and upstream MCP servers.
type env struct {
	t    testing.TB
	idps map[string]*idp.Server
}

func newEnv(t testing.TB) *env { return &env{t: t, idps: map[string]*idp.Server{}} }

func (e *env) idp(name string, cfg idp.Config) *idp.Server {
	e.t.Helper()
	cfg.Name = name
	cfg.AutoApprove = true
	cfg.PKCERequired = true
	if cfg.Scopes == nil {
		cfg.Scopes = []string{"openid", "profile", "mcp:read"}
	}
	s, err := idp.Start(context.Background(), cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = s.Close() })
	e.idps[name] = s
	return s
}

// mcp starts a mock upstream; protected when issuer is not nil.
func (e *env) mcp(issuer *idp.Server, scope string, tools ...mcpserver.ToolConfig) *mcpserver.Server {
	e.t.Helper()
	cfg := mcpserver.Config{Tools: tools}
	if issuer != nil {
		cfg.OAuth = mcpserver.OAuthConfig{Required: true, Scope: scope}
		cfg.Authority = idpauth.New(issuer)
	}
	s, err := mcpserver.Start(context.Background(), cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = s.Close() })
	return s
}

func textTool(name, text string) mcpserver.ToolConfig {
	return mcpserver.ToolConfig{Name: name, Responses: []mcpserver.ResponseConfig{{Response: text}}}
}

func idpConfigDefault() idp.Config { return idp.Config{} }

// login runs the whole flow for one server in one session: challenge, browser, connect.
func (c *mcpClient) login(t testing.TB, tool string, args map[string]any, server string) {
	t.Helper()
	txt, _ := c.mustCall(t, tool, args)
	if code, body := browse(t, authURL(t, txt)); code != http.StatusOK || !strings.Contains(body, "Authentication Successful") {
		t.Fatalf("callback: %d\n%s", code, body)
	}
	txt, _ = c.mustCall(t, tool, args)
	if !strings.HasPrefix(txt, "Successfully connected to "+server+"!") {
		t.Fatalf("second %s: %q", tool, txt)
	}
}

// authMeta returns the _meta auth_required list of a result as JSON, "" when absent.
func authMeta(res *mcp.CallToolResult) string {
	if res.Meta == nil {
		return ""
	}
	v, ok := res.Meta.AdditionalFields[metaAuthRequired]
	if !ok {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// readStatus reads auth://status as this session sees it: server name -> entry.
func (c *mcpClient) readStatus(t testing.TB) map[string]map[string]any {
	t.Helper()
	req := mcp.ReadResourceRequest{}
	req.Params.URI = "auth://status"
	res, err := c.ReadResource(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Servers []map[string]any `json:"servers"`
	}
	if err := json.Unmarshal([]byte(res.Contents[0].(mcp.TextResourceContents).Text), &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, s := range doc.Servers {
		out[s["name"].(string)] = s
	}
	return out
}

func mcpListTools() mcp.ListToolsRequest { return mcp.ListToolsRequest{} }
