package event

import "time"

// Parties of an Exchange besides the scenario's mocks, which are named "idp:NAME" and
// "mcp:NAME" after their pre_configuration entries.
const (
	PartyRunner  = "runner"  // the runner's MCP sessions and OAuth client
	PartyBrowser = "browser" // the runner acting as a user's browser (authorize, callback)
	PartySUT     = "SUT"
)

// Exchange is one HTTP request of a scenario and its answer, seen either by the runner as
// it sent it or by a mock as it answered it (never both: a mock leaves out what the runner
// already recorded). Secrets in it are already shortened.
type Exchange struct {
	Time     time.Time     `json:"time"`
	Duration time.Duration `json:"duration"`
	From     string        `json:"from"` // a Party* constant or a mock's party name
	To       string        `json:"to"`
	Method   string        `json:"method"`
	Path     string        `json:"path"`
	// Detail is what the request was for, in a few words: the JSON-RPC method and tool
	// ("tools/call x_search_find"), the grant type ("grant=refresh_token").
	Detail string `json:"detail,omitempty"`
	// Bearer is the request's bearer token, shortened ("ory_at_Zx…"); "" without one.
	Bearer string `json:"bearer,omitempty"`
	Status int    `json:"status,omitempty"` // 0 when no answer came (Error says why)
	Error  string `json:"error,omitempty"`
	// Step is the Key of the step that was running when the request started, or the id of
	// the concurrently group when several of its steps were; "" before the first step and
	// after the last (start-up and teardown).
	Step string `json:"step,omitempty"`
}
