package scenario_test

import "testing"

// TestMockIdPModes: the mock IdP's mode keys take only their documented values; anything
// else is a load error at the value.
func TestMockIdPModes(t *testing.T) {
	const doc = `name: modes
pre_configuration:
  mock_oauth_servers:
    - {name: a, registration: open}
    - {name: b, registration: closed}
    - name: c
      registration: invite-only
steps:
  - {id: s, tool: test_get_oauth_server_info, args: {server: a}, expected: {success: true}}
`
	sc, diags := loader.Parse("modes.yaml", []byte(doc))
	checkDiags(t, "modes.yaml", diags, []want{
		{"7:21", `pre_configuration.mock_oauth_servers[2].registration: "invite-only": want open or closed`},
	})
	if sc != nil {
		t.Errorf("a file with errors loaded")
	}
}
