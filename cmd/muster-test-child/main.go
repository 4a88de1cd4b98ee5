// Command muster-test-child is the slim binary muster-test starts for a scenario's child
// processes: the reference SUT, the stdio mock MCP servers, and the reference server of a
// direct-mode scenario when it trusts an IdP by URL. It takes the same command
// lines as muster-test does for these roles and links nothing else, so each start costs a
// fraction of muster-test's. muster-test uses it when it lies beside muster-test's own
// binary (`go install ./cmd/...`, `make build`) and was built with it; otherwise muster-test
// plays these roles itself.
package main

import (
	"fmt"
	"os"

	"github.com/muster-test/muster-test/internal/child"
)

const usage = `usage: muster-test-child reference-sut serve --config-path DIR [--debug] [--fault NAME]...
       muster-test-child [test] --mock-mcp-server --mock-config FILE [--debug]
       muster-test-child reference-server serve --issuer URL [flags] (not --with-as)
`

func main() {
	code, ok := child.Main(os.Args[1:])
	if !ok {
		fmt.Fprint(os.Stderr, usage)
		code = 2
	}
	os.Exit(code)
}
