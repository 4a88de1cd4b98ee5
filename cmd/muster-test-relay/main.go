// Command muster-test-relay is the process a SUT starts for a stdio mock MCP server that the
// runner serves itself: it joins its stdin and stdout to the runner's mock over loopback
// TCP. muster-test writes it into the SUT's configuration when it lies beside muster-test's
// own binary and was built with it (`go install ./cmd/...`, `make build`); otherwise the SUT
// starts the full stdio mock, `muster-test-child --mock-mcp-server`. See package relay.
package main

import (
	"os"

	"github.com/muster-test/muster-test/internal/relay"
)

func main() {
	os.Exit(relay.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
