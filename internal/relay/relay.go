// Package relay is the stdio relay: the process a SUT starts for a stdio mock MCP server
// when the runner serves that mock itself (mcpserver.StartRelayed). It copies its stdin to
// a loopback TCP connection to the runner, and the connection to its stdout. The SUT still
// starts a real child and talks to it over real pipes, but the child links only the
// standard library, where the full mock's package init alone (mcp-go and the JSON Schema
// compiler it links) costs tens of milliseconds of CPU per start; a test
// (TestRelayLinksOnlyTheStandardLibrary) keeps it so.
package relay

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Name is the relay's binary, installed beside muster-test by `go install ./cmd/...` and
// `make build`.
const Name = "muster-test-relay"

// dialTimeout bounds the connect to the runner, which listens before it writes the SUT's
// configuration: a connect that takes long means the runner is gone or stuck.
const dialTimeout = 10 * time.Second

// Main runs the relay's command line (the arguments after the binary) and returns the
// process exit code:
//
//	--connect 127.0.0.1:PORT
//
// It ends with 0 when the mock ends the session (after the SUT closed the relay's stdin, or
// when the runner closes the mock) and on SIGTERM or SIGINT, 2 for a usage error and 1
// when the runner cannot be reached or the connection fails.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	addr, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\nusage: %s --connect 127.0.0.1:PORT\n", Name, err, Name)
		return 2
	}
	// SIGTERM or SIGINT from the SUT ends the relay with 0, as it ended the mock process;
	// also one that comes while the relay connects.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	conn, err := net.DialTimeout("tcp", addr, dialTimeout)
	if err != nil {
		fmt.Fprintf(stderr, "%s: connect to the runner's stdio mock: %v\n", Name, err)
		return 1
	}
	defer conn.Close()
	done := make(chan struct{})
	defer close(done)
	var signalled atomic.Bool
	go func() {
		select {
		case <-signals:
			signalled.Store(true)
			conn.Close()
		case <-done:
		}
	}()
	go func() {
		// The SUT closing stdin is how a stdio server is told to stop: pass that on as the
		// end of the stream, and keep reading the mock's last answers until it closes.
		io.Copy(conn, stdin)
		conn.(*net.TCPConn).CloseWrite()
	}()
	if _, err := io.Copy(stdout, conn); err != nil && !signalled.Load() {
		fmt.Fprintf(stderr, "%s: %v\n", Name, err)
		return 1
	}
	return 0
}

// parseArgs accepts only a loopback address: the relay is the runner's, on this machine.
func parseArgs(args []string) (string, error) {
	var addr string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--connect" && i+1 < len(args):
			i++
			addr = args[i]
		case strings.HasPrefix(a, "--connect="):
			addr = strings.TrimPrefix(a, "--connect=")
		default:
			return "", fmt.Errorf("unexpected argument %q", a)
		}
	}
	if addr == "" {
		return "", fmt.Errorf("--connect ADDR is required")
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--connect %s: %v", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("--connect %s: not a loopback address", addr)
	}
	return addr, nil
}
