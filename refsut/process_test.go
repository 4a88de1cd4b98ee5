package refsut

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/muster-test/muster-test/mocks/mcpserver"
)

func TestLoadConfig(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       Config
	}{
		{"defaults", "", Config{Host: "localhost", Port: 8090, Transport: "streamable-http", MusterPrefix: "x",
			OAuth: OAuthConfig{PublicURL: "http://localhost:8090", CallbackPath: "/oauth/proxy/callback", CIMDPath: "/.well-known/oauth-client.json", ClientID: "http://localhost:8090/.well-known/oauth-client.json"}}},
		{"old oauth keys, unknown keys ignored", `
aggregator:
  enabled: true
  host: localhost
  port: 18000
  musterPrefix: m
  oauth: {enabled: true, publicUrl: "http://localhost:18000/", callbackPath: /cb}
logging: {level: debug}
namespace: x
`, Config{Host: "localhost", Port: 18000, Transport: "streamable-http", MusterPrefix: "m",
			OAuth: OAuthConfig{Enabled: true, PublicURL: "http://localhost:18000", CallbackPath: "/cb", CIMDPath: "/.well-known/oauth-client.json", ClientID: "http://localhost:18000/.well-known/oauth-client.json"}}},
		{"new mcpClient keys override", `
aggregator:
  port: 18001
  oauth:
    publicUrl: http://old:1
    mcpClient: {enabled: true, publicUrl: "http://127.0.0.1:18001", clientId: "https://client.example/c.json"}
`, Config{Host: "localhost", Port: 18001, Transport: "streamable-http", MusterPrefix: "x",
			OAuth: OAuthConfig{Enabled: true, PublicURL: "http://127.0.0.1:18001", CallbackPath: "/oauth/proxy/callback", CIMDPath: "/.well-known/oauth-client.json", ClientID: "https://client.example/c.json"}}},
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, k := range cases {
		t.Run(k.name, func(t *testing.T) {
			dir := t.TempDir()
			if k.yaml != "" {
				if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(k.yaml), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := LoadConfig(dir, quiet)
			if err != nil {
				t.Fatal(err)
			}
			got.Servers = nil
			if fmt.Sprintf("%+v", *got) != fmt.Sprintf("%+v", k.want) {
				t.Errorf("got  %+v\nwant %+v", *got, k.want)
			}
		})
	}
}

func TestLoadServers(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a-good.yaml":  "apiVersion: muster.giantswarm.io/v1alpha1\nkind: MCPServer\nmetadata: {name: good}\nspec: {type: streamable-http, url: 'http://localhost:1/mcp', extra: ignored}\n",
		"b-stdio.yaml": "kind: MCPServer\nmetadata: {name: cmd}\nspec: {type: stdio, command: /bin/true, args: [a], env: {K: v}}\n",
		"c-bad.yaml":   "kind: MCPServer\nmetadata: {name: [\n",
		"d-nourl.yaml": "kind: MCPServer\nmetadata: {name: nourl}\nspec: {type: sse}\n",
		"notes.txt":    "ignored",
	}
	if err := os.MkdirAll(filepath.Join(dir, "mcpservers"), 0o755); err != nil {
		t.Fatal(err)
	}
	for n, body := range files {
		if err := os.WriteFile(filepath.Join(dir, "mcpservers", n), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var logs strings.Builder
	cfg, err := LoadConfig(dir, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range cfg.Servers {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "good,cmd" || cfg.Servers[1].Env["K"] != "v" {
		t.Errorf("servers %+v", cfg.Servers)
	}
	for _, f := range []string{"c-bad.yaml", "d-nourl.yaml"} {
		if !strings.Contains(logs.String(), `msg="Failed to load MCPServer `+f+`" subsystem=fs-client`) {
			t.Errorf("no error logged for %s:\n%s", f, logs.String())
		}
	}
}

func TestCheckLoopback(t *testing.T) {
	for _, k := range []struct {
		host string
		ok   bool
	}{
		{"localhost", true}, {"127.0.0.1", true}, {"::1", true},
		{"0.0.0.0", false}, {"::", false}, {"", false}, {"192.0.2.1", false},
		{"example.com", false}, {"localhost.example.com", false},
	} {
		err := checkLoopback(k.host)
		if (err == nil) != k.ok {
			t.Errorf("checkLoopback(%q) = %v, want ok=%v", k.host, err, k.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "refusing to listen on "+k.host+": the reference SUT only listens on loopback") {
			t.Errorf("checkLoopback(%q): message %q", k.host, err)
		}
	}
}

// TestProcessFailures: how the process refuses to start.
func TestProcessFailures(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	badConfig := t.TempDir()
	if err := os.WriteFile(filepath.Join(badConfig, "config.yaml"), []byte("aggregator:\n  port: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hostConfig := func(host string) string {
		return writeConfig(t, sutOptions{extra: map[string]any{"host": host}}, freePort(t))
	}
	cases := []struct {
		name   string
		dir    string
		faults []Fault
		args   []string
		code   int
		stderr string
	}{
		{"port in use", writeConfig(t, sutOptions{}, busy.Addr().(*net.TCPAddr).Port), nil, nil, 1, "address already in use"},
		{"unknown fault", t.TempDir(), []Fault{"no-such-fault"}, nil, 2, `unknown fault "no-such-fault"`},
		{"invalid config.yaml", badConfig, nil, nil, 1, "Error: failed to initialize application: failed to load muster configuration from path"},
		{"unknown flag", t.TempDir(), nil, []string{"--nope"}, 2, "flag provided but not defined"},
		{"non-loopback 192.0.2.1", hostConfig("192.0.2.1"), nil, nil, 1, "refusing to listen on 192.0.2.1: the reference SUT only listens on loopback"},
		{"non-loopback 0.0.0.0", hostConfig("0.0.0.0"), nil, nil, 1, "refusing to listen on 0.0.0.0: the reference SUT only listens on loopback"},
	}
	for _, k := range cases {
		t.Run(k.name, func(t *testing.T) {
			s := launch(t, k.dir, k.faults, k.args...)
			select {
			case <-s.exited:
			case <-time.After(10 * time.Second):
				t.Fatal("still running")
			}
			if s.code != k.code || !strings.Contains(s.log(), k.stderr) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and %q", s.code, s.log(), k.code, k.stderr)
			}
		})
	}
}

// TestShutdown: SIGTERM makes the process shut down on its own (exit 0, not killed by the
// signal), and its stdio upstream ends with it. How long that takes is not asserted: a
// wall-clock bound flakes on a loaded machine.
func TestShutdown(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	pub := newEnv(t).mcp(nil, "", textTool("do_pub", "x"))
	o := sutOptions{servers: map[string]map[string]any{
		"pub": httpSpec(pub.URL()),
		"sio": {"type": "stdio", "autoStart": true, "command": os.Args[0], "env": map[string]any{stdioEnv: pidFile}},
	}}
	s := startSUT(t, o)
	c := s.connect(t)
	if txt, _ := c.mustCall(t, "x_sio_stdio_op", nil); txt != "hi" {
		t.Errorf("stdio tool: %q", txt)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	child, _ := strconv.Atoi(string(b))
	select {
	case <-s.exited:
		t.Fatalf("the aggregator exited (%d) before it was signalled:\n%s", s.code, s.log())
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second): // a hang guard, not a speed requirement
		t.Fatal("still running 10s after SIGTERM")
	}
	// ExitCode is -1 for a process the signal killed: 0 means it caught SIGTERM and shut down.
	if s.code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0 (a handled shutdown)", s.code)
	}
	if !strings.Contains(s.log(), `msg="\n--- Shutting down services ---"`) {
		t.Errorf("no shutdown line:\n%s", s.log())
	}
	waitFor(t, "stdio child to end", 5*time.Second, func() bool {
		return errors.Is(syscall.Kill(child, 0), syscall.ESRCH)
	})
}

// TestSSEUpstream: an SSE upstream's tools are aggregated and callable.
func TestSSEUpstream(t *testing.T) {
	up, err := mcpserver.Start(t.Context(), mcpserver.Config{Type: mcpserver.TypeSSE, Tools: []mcpserver.ToolConfig{textTool("ping_it", "pong")}})
	if err != nil {
		t.Fatal(err)
	}
	s := startSUT(t, sutOptions{servers: map[string]map[string]any{"ss": {"type": "sse", "autoStart": true, "url": up.URL()}}})
	t.Cleanup(func() { _ = up.Close() }) // after the aggregator: closing SSE clients first keeps Close fast
	c := s.connect(t)
	if txt, _ := c.mustCall(t, "x_ss_ping_it", nil); txt != "pong" {
		t.Errorf("sse tool: %q", txt)
	}
}

// TestServerListings: core_mcpserver_* and core_service_* with per-session state.
func TestServerListings(t *testing.T) {
	e := newEnv(t)
	pub := e.mcp(nil, "", textTool("do_pub", "x"))
	dead := freePort(t)
	s := startSUT(t, sutOptions{servers: map[string]map[string]any{
		"pub": httpSpec(pub.URL()), "dead": httpSpec(fmt.Sprintf("http://localhost:%d/mcp", dead)),
	}})
	c := s.connect(t)
	txt, _ := c.mustCall(t, "core_mcpserver_list", nil)
	want := `{"mcpServers":[{"autoStart":true,"error":`
	if !strings.HasPrefix(txt, want) || !strings.Contains(txt, `"name":"pub","state":"connected","type":"streamable-http","url":"`+pub.URL()+`"}],"mode":"filesystem","total":2}`) {
		t.Errorf("core_mcpserver_list: %s", txt)
	}
	txt, _ = c.mustCall(t, "core_mcpserver_get", map[string]any{"name": "dead"})
	if !strings.Contains(txt, `"state":"disconnected"`) || !strings.Contains(txt, "connection refused") {
		t.Errorf("core_mcpserver_get dead: %s", txt)
	}
	txt, _ = c.mustCall(t, "core_service_status", map[string]any{"name": "pub"})
	if !strings.Contains(txt, `"state":"running"`) || !strings.Contains(txt, `"health":"healthy"`) {
		t.Errorf("core_service_status pub: %s", txt)
	}
	txt, _ = c.mustCall(t, "core_service_list", nil)
	if !strings.Contains(txt, `"name":"mcp-aggregator"`) || !strings.Contains(txt, `"state":"failed"`) || !strings.Contains(txt, `"total":3`) {
		t.Errorf("core_service_list: %s", txt)
	}
	if st := c.readStatus(t); st["dead"] != nil || st["pub"]["status"] != "connected" {
		t.Errorf("auth://status: %v", st)
	}
}

// TestSSETransport: with aggregator.transport sse the aggregator serves /sse and /message.
func TestSSETransport(t *testing.T) {
	pub := newEnv(t).mcp(nil, "", textTool("do_pub", "hello"))
	port := freePort(t)
	s := launch(t, writeConfig(t, sutOptions{servers: map[string]map[string]any{"pub": httpSpec(pub.URL())}, extra: map[string]any{"transport": "sse"}}, port), nil)
	s.base = fmt.Sprintf("http://localhost:%d", port)
	waitFor(t, "readiness line", 15*time.Second, func() bool {
		return strings.Contains(s.log(), fmt.Sprintf("Started aggregator manager on http://localhost:%d/sse", port))
	})
	c, err := client.NewSSEMCPClient(s.base + "/sse")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if err := c.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.ProtocolVersion20241105
	if _, err := c.Initialize(t.Context(), init); err != nil {
		t.Fatal(err)
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = "x_pub_do_pub"
	res, err := c.CallTool(t.Context(), req)
	if err != nil || resultText(res) != "hello" {
		t.Errorf("call over SSE: %v %v", res, err)
	}
	if resp, _ := get(t, s.base+"/mcp"); resp.StatusCode != 404 {
		t.Errorf("/mcp with transport sse: %d", resp.StatusCode)
	}
}
