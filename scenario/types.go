// Package scenario holds the in-memory form of a scenario file and its strict loader.
//
// The types mirror muster's scenario format (scenarios/README.md) so that muster users' files load
// unchanged. The `yaml` tags are the only source of truth for which keys are known: the
// loader walks yaml.v3 nodes against them, so an unknown key is reported with file:line:col
// instead of being dropped silently. The mocks' settings are the mock packages' own config
// types (idp.Config, mcpserver.Config), decoded the same way through their tags.
//
// Parse loads one document; LoadPaths and LoadFS load files and directories into a Set with
// every error and warning of every file (Diagnostic, "file:line:col: message"). TestTools is
// the catalogue of runner tools (`test_*`) the format knows.
package scenario

import (
	"fmt"
	"time"

	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// Pos is where a value stood in its file. The loader fills it; errors and reports carry it.
type Pos struct {
	File string
	Line int
	Col  int
}

func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0: // YAML syntax errors carry a line only
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Duration is a Go duration string in YAML ("30s", "2m"). A bare number is rejected by the
// loader because muster's runner silently reads it as nanoseconds.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// Scenario is one scenario file.
type Scenario struct {
	Name             string            `yaml:"name"`
	Category         string            `yaml:"category"`
	Concept          string            `yaml:"concept"`
	Description      string            `yaml:"description"`
	Prerequisites    []string          `yaml:"prerequisites"`
	Tags             []string          `yaml:"tags"`
	Timeout          Duration          `yaml:"timeout"`
	Skip             bool              `yaml:"skip"`
	PreConfiguration *PreConfiguration `yaml:"pre_configuration"`
	SUT              *SUT              `yaml:"sut"`
	Steps            []Step            `yaml:"steps"`
	Cleanup          []Step            `yaml:"cleanup"`

	Pos Pos `yaml:"-"` // position of the document (File is the scenario file's path)
	// Source is the file's text, for the excerpt a run-time failure shows.
	Source []byte `yaml:"-"`
}

// PreConfiguration declares the mocks a scenario needs and the SUT configuration it adds.
type PreConfiguration struct {
	MockOAuthServers []MockOAuthServer `yaml:"mock_oauth_servers"`
	MCPServers       []MCPServer       `yaml:"mcp_servers"`
	// The following are muster's own configuration objects, passed to the SUT as written.
	Workflows      []NamedConfig    `yaml:"workflows"`
	Services       []NamedConfig    `yaml:"services"`
	ServiceClasses []map[string]any `yaml:"service_classes"`
	MainConfig     *MainConfig      `yaml:"main_config"`
	MusterBroker   map[string]any   `yaml:"muster_broker"`
}

// NamedConfig is a muster workflow or service: a name and an opaque configuration map.
type NamedConfig struct {
	Name   string         `yaml:"name"`
	Config map[string]any `yaml:"config"`
	Pos    Pos            `yaml:"-"`
}

// MainConfig is merged (shallowly, top-level keys) into the SUT's main config file.
type MainConfig struct {
	Config map[string]any `yaml:"config"`
}

// MockOAuthServer declares one mock identity provider: the mock's own Config, whose yaml
// tags are the entry's keys, and what only a scenario can say about it.
type MockOAuthServer struct {
	idp.Config `yaml:",inline"`
	// TrustedIssuers name other entries of the scenario, which the runner resolves to
	// running IdPs; they stand in for idp.Config's TrustedIssuers (set from them at start).
	TrustedIssuers         []TrustedIssuer `yaml:"trusted_issuers"`
	UseAsMusterOAuthServer bool            `yaml:"use_as_muster_oauth_server"`

	Pos Pos `yaml:"-"`
}

// TrustedIssuer links an IdP to another one whose tokens it accepts in token exchange.
type TrustedIssuer struct {
	ConnectorID    string `yaml:"connector_id"`
	OAuthServerRef string `yaml:"oauth_server_ref"`
	Pos            Pos    `yaml:"-"`
}

// MCPServer is one upstream server of the SUT. Config is kept as a plain map because its
// third kind (no `tools`) is a real server definition passed verbatim to the SUT; the loader
// still checks the mock kinds key by key (see Mock).
type MCPServer struct {
	Name   string         `yaml:"name"`
	Config map[string]any `yaml:"config"`

	// Mock is the decoded config when the entry is a mock (it has `tools`), nil otherwise.
	Mock *mcpserver.Config `yaml:"-"`
	Pos  Pos               `yaml:"-"`
}

// HTTPMock reports whether the entry is a mock served in process over HTTP; a mock of any
// other type (none included, as in muster) is a stdio mock that the SUT launches.
func (s *MCPServer) HTTPMock() bool {
	return s.Mock != nil && (s.Mock.Type == mcpserver.TypeStreamableHTTP || s.Mock.Type == mcpserver.TypeSSE)
}

// Step is one tool call with its expectations.
type Step struct {
	ID                string         `yaml:"id"`
	Description       string         `yaml:"description"`
	Tool              string         `yaml:"tool"`
	Args              map[string]any `yaml:"args"`
	AsUser            string         `yaml:"as_user"`
	AsRole            string         `yaml:"as_role"` // a workload's steps only
	Timeout           Duration       `yaml:"timeout"`
	Retry             *Retry         `yaml:"retry"`
	ContinueOnFailure bool           `yaml:"continue_on_failure"`
	Parallel          int            `yaml:"parallel"`
	Cleanup           []Step         `yaml:"cleanup"`
	Expected          *Expectation   `yaml:"expected"`
	// Concurrently makes the step a group: its steps start together, each with its own
	// user, expectations and copies, and the group passes when all of them do. A group has
	// no tool, arguments or expectations of its own.
	Concurrently []Step `yaml:"concurrently"`

	Pos Pos `yaml:"-"`
}

// IsGroup reports whether the step is a `concurrently` group.
func (s *Step) IsGroup() bool { return s.Concurrently != nil }

// Retry repeats a step until its expectations hold.
type Retry struct {
	Count             int      `yaml:"count"`
	Delay             Duration `yaml:"delay"`
	BackoffMultiplier float64  `yaml:"backoff_multiplier"`
}

// Expectation is what a step's result must satisfy. Success and StatusCode are pointers so
// that a written false or 0 is a value to check, not "absent": success is required on steps
// and scenario cleanup steps, and `status_code: 0` must fail an answer whose code is 200.
type Expectation struct {
	Success       *bool          `yaml:"success"`
	Contains      []string       `yaml:"contains"`
	NotContains   []string       `yaml:"not_contains"`
	ErrorContains []string       `yaml:"error_contains"`
	JSONPath      map[string]any `yaml:"json_path"`
	WaitForState  Duration       `yaml:"wait_for_state"`
	StatusCode    *int           `yaml:"status_code"`
	// MaxDuration bounds each call of the step (each copy with `parallel`), measured by the
	// runner from the request to the answer.
	MaxDuration Duration `yaml:"max_duration"`
	// P95Duration bounds the 95th percentile of the copies of a step with `parallel: N`.
	P95Duration Duration `yaml:"p95_duration"`

	Pos Pos `yaml:"-"`
	// Keys is where each expectation stands (see At), filled by the loader.
	Keys map[string]Pos `yaml:"-"`
}

// WantSuccess is the expected success flag (true when the expectation is absent, which only
// step-level cleanup items may do).
func (e *Expectation) WantSuccess() bool {
	return e == nil || e.Success == nil || *e.Success
}
