package mcpserver

import "context"

// TB is the part of *testing.T (and *testing.B) that New uses, so this package does not
// import testing.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// New starts a mock for a test and closes it when the test ends, as httptest servers are
// used: `s := mcpserver.New(t, mcpserver.Config{Tools: ...})`. A start that fails fails the
// test.
func New(t TB, cfg Config) *Server {
	t.Helper()
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start mock MCP server: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
