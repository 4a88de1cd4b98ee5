package mcpserver_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// TestRelayedSessionsStayApart: mcp-go keeps one stdio session per process, and a Relayed
// mock serves many in one. Sessions of two mocks and two sessions of one mock, called side
// by side, each see their own tools and answers.
func TestRelayedSessionsStayApart(t *testing.T) {
	mock := func(name string) *mcpserver.Relayed {
		return startRelayed(t, parseYAMLConfig(t, fmt.Sprintf(
			"type: stdio\ntools:\n  - name: %s\n    responses:\n      - response: \"%s says {{ n }}\"\n", name, name)))
	}
	one, two := mock("one"), mock("two")
	sessions := []struct {
		tool string
		r    *mcpserver.Relayed
	}{{"one", one}, {"two", two}, {"one", one}}
	var wg sync.WaitGroup
	for i, s := range sessions {
		c := startRelayChild(t, s.r)
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			list, err := c.ListTools(ctx, mcp.ListToolsRequest{})
			if err != nil || len(list.Tools) != 1 || list.Tools[0].Name != s.tool {
				t.Errorf("session %d: tools %+v, %v; want only %s", i, list, err, s.tool)
				return
			}
			for n := range 20 {
				text, isErr := mustCall(t, c, s.tool, map[string]any{"n": fmt.Sprint(i*100 + n)})
				if want := fmt.Sprintf("%s says %d", s.tool, i*100+n); isErr || text != want {
					t.Errorf("session %d: %q (isError %v), want %q", i, text, isErr, want)
				}
			}
		}()
	}
	wg.Wait()
}

// TestRelayedEnds: the relay ends with 0 when the SUT closes its stdin (the session ends)
// and when the mock is closed under an open session; Close waits for its sessions.
func TestRelayedEnds(t *testing.T) {
	r := startRelayed(t, parseYAMLConfig(t, "type: stdio\n"+testTools))
	start := func() (*exec.Cmd, *bufio.Reader, func()) {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), relayEnv+"="+r.Addr())
		in, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		// A ping answered proves the session is up before the test ends it.
		fmt.Fprintln(in, `{"jsonrpc":"2.0","id":7,"method":"ping"}`)
		lines := bufio.NewReader(out)
		if line, err := lines.ReadString('\n'); err != nil || !strings.Contains(line, `"id":7`) {
			t.Fatalf("ping: %q, %v", line, err)
		}
		return cmd, lines, func() { in.Close() }
	}
	exited := func(cmd *exec.Cmd, lines *bufio.Reader, how string) {
		t.Helper()
		rest, _ := lines.ReadString(0) // to EOF: the relay closed its stdout
		if err := cmd.Wait(); err != nil || rest != "" {
			t.Errorf("relay after %s: %v, left output %q; want exit 0", how, err, rest)
		}
	}

	cmd, lines, closeStdin := start()
	closeStdin()
	exited(cmd, lines, "its stdin closed")

	cmd, lines, _ = start()
	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	exited(cmd, lines, "Close")
}

// TestStartRelayedChecksTheConfig: a config ServeStdio refuses is refused at start, before a
// SUT is configured with the address.
func TestStartRelayedChecksTheConfig(t *testing.T) {
	cfg := parseYAMLConfig(t, "type: stdio\n"+testTools)
	cfg.OAuth.Required = true
	if r, err := mcpserver.StartRelayed(context.Background(), cfg); err == nil {
		r.Close()
		t.Fatal("StartRelayed accepted oauth.required")
	}
}
