package scenario

import "strings"

// ServerArg says what the `server` argument of a test tool names (TEST-TOOLS.md). The loader
// checks a literal `server` against it; a templated one is checked when the step runs.
type ServerArg int

const (
	// NoServer: the tool takes no `server` argument.
	NoServer ServerArg = iota
	// IdPServer: a mock identity provider, pre_configuration.mock_oauth_servers[].name.
	IdPServer
	// MockMCPServer: a mock MCP server, an mcp_servers[] entry whose config has `tools`.
	MockMCPServer
	// AnyMCPServer: any pre_configuration.mcp_servers[].name, mock or real.
	AnyMCPServer
)

// TestTool describes one runner tool (`test_*`): it is part of the scenario format.
type TestTool struct {
	Name   string
	Server ServerArg
	// Later marks tools of newer muster versions that muster-test does not implement yet:
	// a scenario using one fails to load with "not supported yet".
	Later bool
}

// testTools is the catalogue of TEST-TOOLS.md. The executor's registry must implement
// exactly the entries that are not Later.
var testTools = []TestTool{
	{Name: "test_simulate_oauth_callback", Server: MockMCPServer},
	{Name: "test_inject_token", Server: MockMCPServer},
	{Name: "test_call_mock_tool", Server: MockMCPServer},
	{Name: "test_get_oauth_server_info", Server: IdPServer},
	{Name: "test_advance_oauth_clock", Server: IdPServer},
	{Name: "test_revoke_token", Server: IdPServer},
	{Name: "test_read_auth_status", Server: AnyMCPServer},
	{Name: "test_create_user"},
	{Name: "test_switch_user"},
	{Name: "test_get_current_user"},
	{Name: "test_list_tools_for_user"},
	{Name: "test_add_mock_tool", Server: MockMCPServer},
	{Name: "test_remove_mock_tool", Server: MockMCPServer},
	{Name: "test_get_mock_calls", Server: MockMCPServer},

	{Name: "test_muster_auth_login", Later: true},
	{Name: "test_simulate_muster_reauth", Later: true},
	{Name: "test_mint_token", Later: true},
	{Name: "test_broker_token_exchange", Later: true},
	{Name: "test_call_protected_mcp", Later: true},
	{Name: "test_reconnect_with_token", Later: true},
	{Name: "test_call_meta_tool", Later: true},
}

// TestTools returns the catalogue of runner tools, supported and Later ones.
func TestTools() []TestTool {
	return append([]TestTool(nil), testTools...)
}

// LookupTestTool finds a runner tool by name.
func LookupTestTool(name string) (TestTool, bool) {
	for _, t := range testTools {
		if t.Name == name {
			return t, true
		}
	}
	return TestTool{}, false
}

// IsTestTool reports whether a step's tool is executed by the runner itself (never sent to
// the SUT): every name with the `test_` prefix is reserved for runner tools.
func IsTestTool(name string) bool { return strings.HasPrefix(name, "test_") }

func testToolNames() []string {
	names := make([]string, len(testTools))
	for i, t := range testTools {
		names[i] = t.Name
	}
	return names
}
