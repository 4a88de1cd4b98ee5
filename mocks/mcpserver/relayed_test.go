package mcpserver_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
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

// rawSession is a relayed session spoken to line by line, as the relay passes it on.
type rawSession struct {
	t     *testing.T
	conn  net.Conn
	lines *bufio.Reader
}

func dialRelayed(t *testing.T, r *mcpserver.Relayed) *rawSession {
	t.Helper()
	conn, err := net.Dial("tcp", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// A session that goes quiet fails the test instead of hanging it.
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawSession{t: t, conn: conn, lines: bufio.NewReader(conn)}
}

func (s *rawSession) send(msg string) {
	s.t.Helper()
	if _, err := fmt.Fprintln(s.conn, msg); err != nil {
		s.t.Fatal(err)
	}
}

func (s *rawSession) next() string {
	s.t.Helper()
	line, err := s.lines.ReadString('\n')
	if err != nil {
		s.t.Fatalf("read: %v (got %q)", err, line)
	}
	return line
}

// TestRelayedNotificationsStayInTheirSession: mcp-go's stdio server has one notification
// channel per process, from which any session served beside it could take a notification.
// The acknowledgement of a subscriptions/listen comes on that channel: it must reach the
// session that asked, every time, and no other.
func TestRelayedNotificationsStayInTheirSession(t *testing.T) {
	a := startRelayed(t, parseYAMLConfig(t, "type: stdio\n"+testTools))
	b := startRelayed(t, parseYAMLConfig(t, "type: stdio\n"+testTools))
	for round := range 20 {
		asker, other := dialRelayed(t, a), dialRelayed(t, b)
		if round%2 == 1 {
			asker, other = dialRelayed(t, b), dialRelayed(t, a)
		}
		asker.send(`{"jsonrpc":"2.0","id":1,"method":"subscriptions/listen","params":{"notifications":{"toolsListChanged":true},` +
			`"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`)
		if line := asker.next(); !strings.Contains(line, "notifications/subscriptions/acknowledged") {
			t.Fatalf("round %d: the listener got %q, want its acknowledgement", round, line)
		}
		other.send(`{"jsonrpc":"2.0","id":2,"method":"ping"}`)
		if line := other.next(); !strings.Contains(line, `"id":2`) {
			t.Fatalf("round %d: the other session got %q before its ping's answer", round, line)
		}
		asker.conn.Close()
		other.conn.Close()
	}
}

// TestRelayedSessionsStartFresh: one connection after another each get a fresh server, as
// each launch of the mock process did: what one session stored, the next does not see.
func TestRelayedSessionsStartFresh(t *testing.T) {
	r := startRelayed(t, parseYAMLConfig(t, "type: stdio\n"+storeConfig))
	first := dialRelayed(t, r)
	first.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_note","arguments":{"text":"kept?"}}}`)
	if line := first.next(); !strings.Contains(line, `"id":1,"result"`) || strings.Contains(line, `"isError":true`) {
		t.Fatalf("create_note: %q", line)
	}
	first.conn.Close()
	second := dialRelayed(t, r)
	second.send(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_notes","arguments":{}}}`)
	if line := second.next(); !strings.Contains(line, `{\"count\":0,\"keys\":[]}`) {
		t.Errorf("the next session's store: %q, want it empty", line)
	}
}

// TestRelayedCloseWaitsForItsSessions: Close returns only once every session's calls have
// ended, so nothing of a scenario's mock runs after the scenario.
func TestRelayedCloseWaitsForItsSessions(t *testing.T) {
	r := startRelayed(t, parseYAMLConfig(t, "type: stdio\n"+testTools))
	s := dialRelayed(t, r)
	s.send(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)
	s.next()
	before := runtime.NumGoroutine() // the listener's, the session's, ...
	s.send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"slow","arguments":{}}}`)
	// The goroutines' stacks, not their number, which others of this process change.
	const delay, session = "mcpserver.(*mockTool).wait(", "mcpserver.(*Server).serveSession("
	waitFor(t, "the slow call to start its delay", func() bool { return onStacks(delay) > 0 })
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// serveSession returns only after its calls have, and Close waits for it to return.
	if n := onStacks(session) + onStacks(delay); n > 0 {
		t.Errorf("%d goroutines still in the session or its call after Close: Close did not wait", n)
	}
	if n := runtime.NumGoroutine(); n >= before {
		t.Errorf("%d goroutines after Close, %d before the slow call: Close did not wait for the listener and the session", n, before)
	}
}

// onStacks counts the goroutines of this process that have fn on their stack.
func onStacks(fn string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), fn)
		}
		buf = make([]byte, 2*len(buf))
	}
}
