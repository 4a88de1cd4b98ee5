package mcpserver_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/muster-test/muster-test/internal/relay"
	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// childEnv marks the test binary re-executed as a stdio mock; its value is the argument
// list (JSON) the child passes to RunCommand, as the SUT would to muster-test.
const childEnv = "MCPSERVER_TEST_STDIO_ARGS"

// relayEnv marks the test binary re-executed as the stdio relay; its value is the address
// of the Relayed mock to join.
const relayEnv = "MCPSERVER_TEST_RELAY_ADDR"

func TestMain(m *testing.M) {
	if addr := os.Getenv(relayEnv); addr != "" {
		os.Exit(relay.Main([]string{"--connect", addr}, os.Stdin, os.Stdout, os.Stderr))
	}
	if raw := os.Getenv(childEnv); raw != "" {
		var args []string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			os.Exit(3)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := mcpserver.RunCommand(ctx, args, os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// startStdioChild runs this test binary as `[test] --mock-mcp-server --mock-config FILE`
// and connects a session-based client to it. The child ends with the test: Close shuts its
// stdin and the context given to Start kills it.
func startStdioChild(t *testing.T, configYAML string) *client.Client {
	t.Helper()
	file := filepath.Join(t.TempDir(), "mock.yaml")
	if err := os.WriteFile(file, []byte(configYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	args, _ := json.Marshal([]string{"test", "--mock-mcp-server", "--mock-config", file})
	return startChild(t, childEnv+"="+string(args))
}

// startRelayChild runs this test binary as the relay to r, as a SUT runs muster-test-relay,
// and connects a session-based client to it.
func startRelayChild(t *testing.T, r *mcpserver.Relayed) *client.Client {
	t.Helper()
	return startChild(t, relayEnv+"="+r.Addr())
}

// startChild runs this test binary with env and initializes a client on its stdio.
func startChild(t *testing.T, env string) *client.Client {
	t.Helper()
	tr := transport.NewStdioWithOptions(os.Args[0], []string{env}, nil, transport.WithCommandLogger(quiet))
	c := client.NewClient(tr, client.WithProtocolVersion(mcp.ProtocolVersion20250618))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	initCtx, initCancel := context.WithTimeout(ctx, 20*time.Second)
	defer initCancel()
	if _, err := c.Initialize(initCtx, mcp.InitializeRequest{Params: mcp.InitializeParams{
		ClientInfo: mcp.Implementation{Name: "mcpserver-test", Version: "1"},
	}}); err != nil {
		t.Fatalf("initialize stdio child: %v", err)
	}
	return c
}

// TestTransports drives every transport end to end with an mcp-go client: the published
// tool list and schema, a templated call with a default, a condition, a tool error, and
// the call log.
func TestTransports(t *testing.T) {
	cases := []struct {
		name        string
		serverType  string
		legacyOnly  bool
		kind        clientKind
		stdio       bool
		relayed     bool // stdio through the relay to a Relayed mock
		wantSession bool // a session-based protocol was negotiated
	}{
		{name: "streamable legacy client", serverType: mcpserver.TypeStreamableHTTP, kind: legacyHTTP, wantSession: true},
		{name: "streamable stateless client", serverType: mcpserver.TypeStreamableHTTP, kind: modernHTTP, wantSession: false},
		{name: "streamable legacy-only server, default client falls back", serverType: mcpserver.TypeStreamableHTTP, legacyOnly: true, kind: modernHTTP, wantSession: true},
		{name: "sse", serverType: mcpserver.TypeSSE, kind: sseClient, wantSession: true},
		{name: "stdio child process", stdio: true},
		{name: "stdio relayed to this process", stdio: true, relayed: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c *client.Client
			var s *mcpserver.Server
			switch {
			case tc.relayed:
				c = startRelayChild(t, startRelayed(t, parseYAMLConfig(t, "type: stdio\n"+testTools)))
			case tc.stdio:
				c = startStdioChild(t, "type: stdio\n"+testTools)
			default:
				cfg := parseYAMLConfig(t, "type: "+tc.serverType+"\n"+testTools)
				cfg.LegacyOnly = tc.legacyOnly
				s = startServer(t, cfg)
				c = mustConnect(t, tc.kind, s.URL(), nil)
				if got := c.GetSessionId() != ""; got != tc.wantSession && tc.serverType == mcpserver.TypeStreamableHTTP {
					t.Errorf("session id %q: session-based = %v, want %v", c.GetSessionId(), got, tc.wantSession)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			list, err := c.ListTools(ctx, mcp.ListToolsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, tool := range list.Tools {
				names = append(names, tool.Name)
				if tool.Name != "greet" {
					continue
				}
				if tool.Description != "Greets someone" {
					t.Errorf("description %q", tool.Description)
				}
				schema := tool.InputSchema
				props, _ := json.Marshal(schema.Properties)
				if schema.Type != "object" || len(schema.Required) != 0 {
					t.Errorf("schema %+v", schema)
				}
				jsonEqual(t, string(props), map[string]any{
					"name":  map[string]any{"type": "string", "default": "world"},
					"count": map[string]any{"type": "integer"},
				})
			}
			slices.Sort(names)
			if !slices.Equal(names, []string{"fail", "greet", "slow", "whoami"}) {
				t.Fatalf("tools %v", names)
			}

			if text, isErr := mustCall(t, c, "greet", nil); isErr || text != "hello world" {
				t.Errorf("greet {} = %q (isError %v), want hello world", text, isErr)
			}
			text, isErr := mustCall(t, c, "greet", map[string]any{"count": 42, "name": "ann"})
			if isErr {
				t.Fatalf("greet count=42 isError: %s", text)
			}
			jsonEqual(t, text, map[string]any{"answer": 42, "who": "ann"})
			if tc.stdio {
				// Over stdio a configured error is a JSON-RPC error, as muster's stdio mock answers.
				_, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "fail", Arguments: map[string]any{"name": "x"}}})
				if err == nil || !strings.Contains(err.Error(), "boom for x") {
					t.Errorf("stdio fail: %v, want a JSON-RPC error with boom for x", err)
				}
			} else if text, isErr := mustCall(t, c, "fail", map[string]any{"name": "x"}); !isErr || text != "boom for x" {
				t.Errorf("fail = %q (isError %v), want isError boom for x", text, isErr)
			}
			if s != nil {
				calls := s.CallsTo("greet")
				if len(calls) != 2 || calls[1].Arguments["name"] != "ann" {
					t.Errorf("call log for greet: %+v", calls)
				}
				if all := s.Calls(); len(all) != 3 || all[2].Tool != "fail" {
					t.Errorf("call log: %+v", all)
				}
				if tc.wantSession && calls[0].SessionID == "" {
					t.Errorf("call log lacks the session id")
				}
			}
		})
	}
}

// TestListChanged checks that a connected client hears about tools added and removed at
// run time, on a protected server too (the notification stream carries the token).
func TestListChanged(t *testing.T) {
	cases := []struct {
		name      string
		typ       string
		kind      clientKind
		protected bool
	}{
		{"streamable legacy", mcpserver.TypeStreamableHTTP, legacyHTTP, false},
		{"streamable legacy protected", mcpserver.TypeStreamableHTTP, legacyHTTP, true},
		{"sse", mcpserver.TypeSSE, sseClient, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := parseYAMLConfig(t, testTools)
			cfg.Type = tc.typ
			tok := &bearer{}
			if tc.protected {
				a := newAuthority(t)
				cfg.Authority = a
				cfg.OAuth = mcpserver.OAuthConfig{Required: true, Scope: "mcp:read"}
				jwt, err := a.MintJWT(authtestGrant("alice", "mcp:read"))
				if err != nil {
					t.Fatal(err)
				}
				tok.set(jwt)
			}
			s := startServer(t, cfg)
			c := mustConnect(t, tc.kind, s.URL(), tok)
			changes := make(chan struct{}, 16)
			c.OnNotification(func(n mcp.JSONRPCNotification) {
				if n.Method == string(mcp.MethodNotificationToolsListChanged) {
					changes <- struct{}{}
				}
			})
			listed := func() []string {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				res, err := c.ListTools(ctx, mcp.ListToolsRequest{})
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, tool := range res.Tools {
					names = append(names, tool.Name)
				}
				return names
			}
			// Pinging while waiting flushes notifications the server queued for a POST
			// response before the client's listening stream was up.
			awaitChange := func(what string) {
				waitFor(t, what, func() bool {
					select {
					case <-changes:
						return true
					default:
						_ = c.Ping(context.Background())
						return false
					}
				})
			}

			if err := s.AddTool(mcpserver.ToolConfig{Name: "added", Responses: []mcpserver.ResponseConfig{{Response: "new"}}}); err != nil {
				t.Fatal(err)
			}
			awaitChange("list_changed after AddTool")
			if !slices.Contains(listed(), "added") {
				t.Fatal("added tool not listed")
			}
			if text, _ := mustCall(t, c, "added", nil); text != "new" {
				t.Errorf("added tool answered %q", text)
			}
			if !s.RemoveTool("greet") {
				t.Fatal("RemoveTool(greet) = false")
			}
			awaitChange("list_changed after RemoveTool")
			if slices.Contains(listed(), "greet") {
				t.Fatal("removed tool still listed")
			}
			if s.RemoveTool("greet") {
				t.Error("second RemoveTool(greet) = true")
			}
			if !slices.Equal(s.Tools(), []string{"added", "fail", "slow", "whoami"}) {
				t.Errorf("Tools() = %v", s.Tools())
			}
		})
	}
}

// TestStartContextAndHost: the server stops when Start's context ends, and serves the
// host name it was configured with even when that is not a loopback name.
func TestStartContextAndHost(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cfg := parseYAMLConfig(t, testTools)
	cfg.Host = "127.0.0.1"
	s, err := mcpserver.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") || !strings.HasSuffix(s.URL(), "/mcp") {
		t.Errorf("URL %q", s.URL())
	}
	mustConnect(t, legacyHTTP, s.URL(), nil)
	cancel()
	waitFor(t, "the server to stop", func() bool {
		resp, err := http.Get(s.BaseURL() + "/mcp")
		if err == nil {
			resp.Body.Close()
		}
		return err != nil
	})

	cfg.Host = "mock.internal"
	other := startServer(t, cfg)
	if !strings.HasPrefix(other.BaseURL(), "http://mock.internal:") {
		t.Fatalf("BaseURL %q", other.BaseURL())
	}
	// Reach it on 127.0.0.1 while sending the configured Host, as a SUT resolving that
	// name to this machine would.
	addr := strings.TrimPrefix(other.BaseURL(), "http://mock.internal")
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1"+addr+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}`))
	req.Host = "mock.internal" + addr
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("initialize with Host mock.internal: status %d", resp.StatusCode)
	}
}
