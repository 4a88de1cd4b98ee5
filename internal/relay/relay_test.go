package relay

import (
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv marks this test binary re-executed as the relay; its value is the address.
const childEnv = "RELAY_TEST_CONNECT"

func TestMain(m *testing.M) {
	if addr := os.Getenv(childEnv); addr != "" {
		os.Exit(Main([]string{"--connect", addr}, os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// mainWithin runs Main and fails the test if it has not returned within 20 seconds.
func mainWithin(t *testing.T, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	t.Helper()
	code := make(chan int, 1)
	go func() { code <- Main(args, stdin, stdout, stderr) }()
	select {
	case c := <-code:
		return c
	case <-time.After(20 * time.Second):
		t.Fatal("Main did not return")
		return -1
	}
}

func TestArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // the address, or a part of the error
	}{
		{[]string{"--connect", "127.0.0.1:4000"}, "127.0.0.1:4000"},
		{[]string{"--connect=[::1]:4000"}, "[::1]:4000"},
		{nil, "--connect ADDR is required"},
		{[]string{"--connect"}, `unexpected argument "--connect"`},
		{[]string{"--connect", "10.0.0.1:4000"}, "not a loopback address"},
		{[]string{"--connect", "localhost:4000"}, "not a loopback address"},
		{[]string{"--connect", "127.0.0.1"}, "missing port"},
		{[]string{"--connect", "127.0.0.1:1", "x"}, `unexpected argument "x"`},
	} {
		addr, err := parseArgs(tc.args)
		got := addr
		if err != nil {
			got = err.Error()
		}
		if ok := strings.HasPrefix(tc.want, "127.") || strings.HasPrefix(tc.want, "["); (err == nil) != ok || !strings.Contains(got, tc.want) {
			t.Errorf("parseArgs(%q) = %q, %v; want %q", tc.args, addr, err, tc.want)
		}
	}
}

// TestMainRelays: what the SUT writes reaches the mock, the end of stdin reaches it as the
// end of the stream, and the relay ends with 0 once the mock has answered and closed.
func TestMainRelays(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(20 * time.Second)) // a relay that never half-closes fails, not hangs
		in, _ := io.ReadAll(conn)                          // until the relay's half-close
		conn.Write([]byte("answer to " + string(in)))
		got <- string(in)
	}()
	var out, errOut bytes.Buffer
	code := mainWithin(t, []string{"--connect", ln.Addr().String()}, strings.NewReader("request\n"), &out, &errOut)
	if code != 0 || out.String() != "answer to request\n" || errOut.Len() != 0 {
		t.Errorf("Main = %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
	if in := <-got; in != "request\n" {
		t.Errorf("the mock read %q", in)
	}
}

func TestMainErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := ln.Addr().String()
	ln.Close()
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--connect", gone}, 1, "connect to the runner's stdio mock"},
		{[]string{"--connect", "192.0.2.1:80"}, 2, "usage: muster-test-relay --connect 127.0.0.1:PORT"},
	} {
		var errOut bytes.Buffer
		if code := mainWithin(t, tc.args, strings.NewReader(""), io.Discard, &errOut); code != tc.code || !strings.Contains(errOut.String(), tc.msg) {
			t.Errorf("Main(%q) = %d, stderr %q; want %d and %q", tc.args, code, errOut.String(), tc.code, tc.msg)
		}
	}
}

// TestRelayLinksOnlyTheStandardLibrary keeps the relay's start cheap: the point of the relay
// is a child without the mock's package init (mcp-go, its JSON Schema compiler, YAML).
func TestRelayLinksOnlyTheStandardLibrary(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}",
		"github.com/muster-test/muster-test/cmd/muster-test-relay").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	want := []string{"github.com/muster-test/muster-test/internal/relay", "github.com/muster-test/muster-test/cmd/muster-test-relay"}
	if len(deps) != len(want) || deps[0] != want[0] || deps[1] != want[1] {
		t.Errorf("muster-test-relay links %q, want only %q and the standard library", deps, want)
	}
}

// TestSignalEndsTheRelayWithZero: the SUT stopping its stdio server with SIGTERM or SIGINT
// sees it exit 0, as the mock process did.
func TestSignalEndsTheRelayWithZero(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), childEnv+"="+ln.Addr().String())
		stdin, err := cmd.StdinPipe() // open: the relay would run on without the signal
		if err != nil {
			t.Fatal(err)
		}
		defer stdin.Close()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		conn, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// The connection is up, so Main is past its dial and has its signal handler.
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("%v: relay ended with %v, want exit 0", sig, err)
			}
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%v: the relay did not end", sig)
		}
	}
}
