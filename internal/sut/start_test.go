package sut

import (
	"cmp"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"gopkg.in/yaml.v3"

	"github.com/muster-test/muster-test/internal/spare"
)

// fakeSUTEnv makes this test binary act as a SUT (see TestMain) that speaks just enough MCP
// to be driven and settles, or not, as the mode says.
const fakeSUTEnv = "MUSTER_TEST_SUT_FAKE"

func TestMain(m *testing.M) {
	if spare.IsSpare(os.Args[1:]) {
		os.Exit(spare.Await(func(args []string) (int, bool) {
			if mode := os.Getenv(fakeSUTEnv); mode != "" {
				return fakeSUT(mode, args), true
			}
			return 0, false
		}))
	}
	if mode := os.Getenv(fakeSUTEnv); mode != "" {
		os.Exit(fakeSUT(mode, os.Args[1:]))
	}
	os.Exit(m.Run())
}

// fakeSUT serves `serve --config-path DIR` on the configured port, counts its starts in
// DIR/../starts and writes its working directory, SSL_CERT_FILE and GOMAXPROCS to
// DIR/../seen. Modes: "lose-first" (the first start never lists x_srv_op, later ones
// do, like muster's start-up race), "never-settles" (never lists it), "exit" (fails).
func fakeSUT(mode string, args []string) int {
	var cfgDir string
	for i, a := range args {
		if a == "--config-path" && i+1 < len(args) {
			cfgDir = args[i+1]
		}
	}
	startsFile := filepath.Join(filepath.Dir(cfgDir), "starts")
	prev, _ := os.ReadFile(startsFile)
	if err := os.WriteFile(startsFile, append(prev, 's'), 0o644); err != nil {
		return 1
	}
	wd, _ := os.Getwd()
	if err := os.WriteFile(filepath.Join(filepath.Dir(cfgDir), "seen"), []byte(fmt.Sprintf("%s\n%s\n%d", wd, os.Getenv("SSL_CERT_FILE"), runtime.GOMAXPROCS(0))), 0o644); err != nil {
		return 1
	}
	if mode == "exit" {
		fmt.Fprintln(os.Stderr, "Error: simulated bad config")
		return 1
	}
	b, err := os.ReadFile(filepath.Join(cfgDir, "config.yaml"))
	if err != nil {
		return 1
	}
	var cfg struct {
		Aggregator struct{ Port int } `yaml:"aggregator"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		return 1
	}
	s := server.NewMCPServer("fake-sut", "1")
	ok := func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultText("ok"), nil
	}
	s.AddTool(mcp.NewTool("core_other"), ok)
	if mode == "lose-first" && len(prev) > 0 {
		s.AddTool(mcp.NewTool("x_srv_op"), ok)
	}
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(cfg.Aggregator.Port))
	if err != nil {
		return 1
	}
	// The session-based protocol only, as muster speaks.
	var h http.Handler = server.NewStreamableHTTPServer(s, server.WithStreamableHTTPProtocolVersions(mcp.LegacyProtocolVersions()...))
	if mode == "protected" {
		mcpHandler := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer good" {
				w.Header().Set("WWW-Authenticate", `Bearer resource_metadata="http://127.0.0.1/prm"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			mcpHandler.ServeHTTP(w, r)
		})
	}
	_ = http.Serve(l, h)
	return 0
}

// bearerRT adds a fixed token, as a logged-in transport does.
type bearerRT struct{}

func (bearerRT) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer good")
	return http.DefaultTransport.RoundTrip(r)
}

// TestReadinessLogsInToAProtectedSUT: a SUT that protects itself (a Gateway) is logged in
// to once it answers 401, and readiness then goes on with the token; a login that fails
// ends the start at once, with the login's error, instead of waiting out the timeout.
func TestReadinessLogsInToAProtectedSUT(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeSUTEnv, "protected")
	for _, fail := range []bool{false, true} {
		var logins, released int
		// A ready timeout far above any start: a failing login must end the start long
		// before it (half of it is the bound), however loaded the machine.
		spec := &Spec{Dir: t.TempDir(), ReadyTimeout: time.Minute, Gateway: &GatewayAuth{
			Login: func(_ context.Context, endpoint, subject string) (http.RoundTripper, func(), error) {
				logins++
				if fail {
					return nil, nil, fmt.Errorf("no such user")
				}
				return bearerRT{}, func() { released++ }, nil
			}}}
		begin := time.Now()
		inst, err := (&ServeDriver{Label: "fake", Command: []string{self}}).Start(context.Background(), spec)
		if inst != nil {
			inst.Stop()
		}
		switch {
		case fail && (err == nil || !strings.Contains(err.Error(), "no such user") || time.Since(begin) > spec.ReadyTimeout/2):
			t.Errorf("failing login: %v after %s, want its error at once", err, time.Since(begin))
		case !fail && err != nil:
			t.Errorf("Start: %v", err)
		case !fail && (logins != 1 || released != 1):
			t.Errorf("%d logins, %d released; want one of each", logins, released)
		}
	}
}

// TestStartRetriesAStalledSUT checks the restart of a SUT that answers but does not
// settle: once is recovered and noted in the log, a SUT that never settles fails within
// the ready timeout after every attempt, and one that exits is not started again.
func TestStartRetriesAStalledSUT(t *testing.T) {
	defer func(w time.Duration) { settleWindow = w }(settleWindow)
	settleWindow = 300 * time.Millisecond
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		mode       string
		wantErr    string // "" for a successful start
		wantStarts int
		wantLog    string
		// readyTimeout, when set, replaces the default 6 s.
		readyTimeout time.Duration
	}{
		{mode: "lose-first", wantStarts: 2, wantLog: "start 1 of the SUT failed, starting it again: the SUT answered but did not settle"},
		// Where the deadline strikes (between polls, or inside a slow tools/list) decides the
		// detail after the message, so only the message is required.
		// Three starts of a race-built child under a loaded machine took more than 6 s.
		{mode: "never-settles", wantErr: "SUT not ready after 15s", wantStarts: startAttempts, readyTimeout: 15 * time.Second,
			wantLog: fmt.Sprintf("start %d of the SUT failed", startAttempts-1)},
		{mode: "exit", wantErr: "SUT exited with code 1 before it was ready", wantStarts: 1, wantLog: "simulated bad config"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			t.Setenv(fakeSUTEnv, tt.mode)
			// The ready timeout leaves room for three starts of a race-built child on a busy
			// machine; the settle window alone decides when a start is given up.
			spec := &Spec{Dir: t.TempDir(), ReadyTimeout: cmp.Or(tt.readyTimeout, 6*time.Second),
				Upstreams: []Upstream{{Name: "srv", Spec: map[string]any{}, Tools: []string{"op"}}}}
			m := &ServeDriver{Label: "fake", Command: []string{self}, RestartStalled: true}
			begin := time.Now()
			inst, err := m.Start(context.Background(), spec)
			if took := time.Since(begin); took > spec.ReadyTimeout+time.Second {
				t.Errorf("Start took %s, more than the ready timeout %s", took, spec.ReadyTimeout)
			}
			if inst != nil {
				t.Cleanup(inst.Stop)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Start: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Start error %v, want one containing %q", err, tt.wantErr)
			}
			starts, _ := os.ReadFile(filepath.Join(spec.Dir, "starts"))
			if len(starts) != tt.wantStarts {
				t.Errorf("%d starts, want %d", len(starts), tt.wantStarts)
			}
			log, _ := os.ReadFile(filepath.Join(spec.Dir, "sut.log"))
			if !strings.Contains(string(log), tt.wantLog) {
				t.Errorf("sut.log lacks %q:\n%s", tt.wantLog, log)
			}
			if inst != nil && !strings.Contains(inst.Log(), tt.wantLog) {
				t.Errorf("the instance's log lacks %q:\n%s", tt.wantLog, inst.Log())
			}
			if inst != nil && (len(inst.Notes()) != tt.wantStarts-1 || !strings.Contains(strings.Join(inst.Notes(), "\n"), "SUT start 1 failed and was retried")) {
				t.Errorf("a retried start must be noted in the result, got notes %q", inst.Notes())
			}
		})
	}
}

// TestStalledReferenceSUTIsNotRestarted: without RestartStalled (the reference SUT), a start
// that never settles fails once, so a start-up bug of the SUT is reported, not retried away.
func TestStalledReferenceSUTIsNotRestarted(t *testing.T) {
	defer func(w time.Duration) { settleWindow = w }(settleWindow)
	settleWindow = 300 * time.Millisecond
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(fakeSUTEnv, "lose-first")
	// Room for a race-built child to start on a busy machine, as above.
	spec := &Spec{Dir: t.TempDir(), ReadyTimeout: 6 * time.Second,
		Upstreams: []Upstream{{Name: "srv", Spec: map[string]any{}, Tools: []string{"op"}}}}
	inst, err := (&ServeDriver{Label: "fake", Command: []string{self}}).Start(context.Background(), spec)
	if inst != nil {
		inst.Stop()
	}
	if err == nil || !strings.Contains(err.Error(), "SUT not ready after 6s") {
		t.Fatalf("Start error %v, want the first start's stall", err)
	}
	if starts, _ := os.ReadFile(filepath.Join(spec.Dir, "starts")); len(starts) != 1 {
		t.Errorf("%d starts, want 1: the reference SUT is never restarted", len(starts))
	}
}
