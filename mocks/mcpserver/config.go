package mcpserver

import (
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Transport types a Config may name. Any other type (or none) means stdio to a scenario
// runner, as in muster; Start serves only the two HTTP ones.
const (
	TypeStreamableHTTP = "streamable-http"
	TypeSSE            = "sse"
	TypeStdio          = "stdio"
)

// Config describes one mock server. The first four fields come from a scenario's
// `mcp_servers[].config` map (see ParseConfig); the rest are set by whoever starts it.
type Config struct {
	// Type is the transport: TypeStreamableHTTP (the default for Start) or TypeSSE.
	Type string
	// ToolPrefix is read for the SUT's configuration; the mock itself ignores it.
	ToolPrefix string
	OAuth      OAuthConfig
	Tools      []ToolConfig

	// Name is the serverInfo name sent in initialize; default "mock-mcp-server".
	Name string
	// Host is the host name used in URL, BaseURL and the OAuth documents; default
	// "localhost", which muster-style configurations use. The server always listens on
	// 127.0.0.1.
	Host string
	// Authority validates bearer tokens; required when OAuth.Required.
	Authority Authority
	// Logger receives the mock's and mcp-go's logs; nil keeps the mock quiet.
	Logger *slog.Logger
	// LegacyOnly makes streamable HTTP refuse the stateless 2026-07-28 protocol, so a
	// client falls back to the session-based one.
	LegacyOnly bool
	// ErrorsAsJSONRPC answers configured `error:` responses with a JSON-RPC error instead of
	// an isError result. muster's own stdio mock does that, and muster's workflows count
	// only a JSON-RPC error as a failed step, so ServeStdio sets it.
	ErrorsAsJSONRPC bool
}

// OAuthConfig is the `oauth` map of a scenario server.
type OAuthConfig struct {
	Required bool
	// MockOAuthServerRef names the scenario's mock IdP; the runner resolves it to an
	// Authority.
	MockOAuthServerRef string
	// Scope is the required scope; several scopes are separated by spaces and all are
	// required.
	Scope string
	// Audience, when set, must be one of the token's audiences (RFC 8707 resource). When
	// neither it nor ExpectedAudience is set, the audience is not checked at all: muster's
	// OAuth client (January) sends no RFC 8707 resource parameter, so its tokens carry no
	// audience that a mock could demand.
	Audience string
	// ExpectedAudience is newer muster's spelling of Audience; used when Audience is empty.
	ExpectedAudience string
	// Passthrough holds the keys of newer muster versions that this package accepts but
	// does not interpret (trust_issuer_ref, forward_token, token_exchange).
	Passthrough map[string]any
}

// RequiredScopes returns the scopes a token must carry.
func (o OAuthConfig) RequiredScopes() []string { return strings.Fields(o.Scope) }

// RequiredAudience returns the audience a token must include, or "".
func (o OAuthConfig) RequiredAudience() string {
	if o.Audience != "" {
		return o.Audience
	}
	return o.ExpectedAudience
}

// ToolConfig is one entry of `tools`.
type ToolConfig struct {
	Name        string
	Description string
	// InputSchema is published as the tool's input schema (with "type": "object" added
	// when absent); properties.*.default values are applied to calls' arguments.
	InputSchema map[string]any
	// EchoToken wraps each response in a JSON object with the bearer token received and
	// its subject, scopes and audience.
	EchoToken bool
	Responses []ResponseConfig
}

// ResponseConfig is one entry of a tool's `responses`.
type ResponseConfig struct {
	// Condition selects this response when every key equals the argument of that name
	// (compared by value); an empty condition always matches.
	Condition map[string]any
	// Response is a string, map or list with {{ arg }} templates; nil gives empty text.
	Response any
	// Error, when not empty, makes the call a tool error (isError) with this templated text.
	Error string
	// Delay is waited before answering (cut short when the call is cancelled).
	Delay time.Duration
	// Echo is accepted for muster's files and ignored, as muster does.
	Echo any
}

var (
	// description and autoStart are muster MCPServer spec fields that scenario files may
	// put in a mock's config (they are passed on to the SUT); the mock has no use for them.
	configKeys   = []string{"type", "toolPrefix", "description", "autoStart", "oauth", "tools"}
	oauthKeys    = []string{"required", "mock_oauth_server_ref", "scope", "audience", "expected_audience", "trust_issuer_ref", "forward_token", "token_exchange"}
	toolKeys     = []string{"name", "description", "input_schema", "echo_token", "responses"}
	responseKeys = []string{"condition", "response", "error", "delay", "echo"}
)

// LoadConfigFile reads a YAML (or JSON) file holding a scenario server's whole `config`
// map, the file a SUT hands to `muster-test --mock-mcp-server --mock-config FILE`.
func LoadConfigFile(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	cfg, err := ParseConfig(m)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ParseConfig reads the `config` map of a scenario's mcp_servers entry. Unknown keys are
// errors (except inside input_schema, condition, response and echo, which are free-form).
func ParseConfig(m map[string]any) (Config, error) {
	var cfg Config
	m, err := asMap("config", m)
	if err != nil {
		return cfg, err
	}
	if err := checkKeys("config", m, configKeys); err != nil {
		return cfg, err
	}
	if cfg.Type, err = optString("config.type", m["type"]); err != nil {
		return cfg, err
	}
	if cfg.ToolPrefix, err = optString("config.toolPrefix", m["toolPrefix"]); err != nil {
		return cfg, err
	}
	// Ignored, but typed as muster types them, so a mistake fails here rather than in the SUT.
	if _, err = optString("config.description", m["description"]); err != nil {
		return cfg, err
	}
	if _, err = optBool("config.autoStart", m["autoStart"]); err != nil {
		return cfg, err
	}
	if v, ok := m["oauth"]; ok && v != nil {
		if cfg.OAuth, err = parseOAuth(v); err != nil {
			return cfg, err
		}
	}
	if v, ok := m["tools"]; ok && v != nil {
		list, ok := normalize(v).([]any)
		if !ok {
			return cfg, fmt.Errorf("config.tools: want a list, got %T", v)
		}
		seen := map[string]bool{}
		for i, item := range list {
			t, err := parseTool(fmt.Sprintf("config.tools[%d]", i), item)
			if err != nil {
				return cfg, err
			}
			if seen[t.Name] {
				return cfg, fmt.Errorf("config.tools[%d]: duplicate tool name %q", i, t.Name)
			}
			seen[t.Name] = true
			cfg.Tools = append(cfg.Tools, t)
		}
	}
	return cfg, nil
}

func parseOAuth(v any) (OAuthConfig, error) {
	var o OAuthConfig
	m, err := asMap("config.oauth", v)
	if err != nil {
		return o, err
	}
	if err := checkKeys("config.oauth", m, oauthKeys); err != nil {
		return o, err
	}
	if o.Required, err = optBool("config.oauth.required", m["required"]); err != nil {
		return o, err
	}
	for key, dst := range map[string]*string{
		"mock_oauth_server_ref": &o.MockOAuthServerRef,
		"scope":                 &o.Scope,
		"audience":              &o.Audience,
		"expected_audience":     &o.ExpectedAudience,
	} {
		if *dst, err = optString("config.oauth."+key, m[key]); err != nil {
			return o, err
		}
	}
	for _, key := range []string{"trust_issuer_ref", "forward_token", "token_exchange"} {
		if v, ok := m[key]; ok {
			if o.Passthrough == nil {
				o.Passthrough = map[string]any{}
			}
			o.Passthrough[key] = v
		}
	}
	return o, nil
}

func parseTool(path string, v any) (ToolConfig, error) {
	var t ToolConfig
	m, err := asMap(path, v)
	if err != nil {
		return t, err
	}
	if err := checkKeys(path, m, toolKeys); err != nil {
		return t, err
	}
	if t.Name, err = optString(path+".name", m["name"]); err != nil {
		return t, err
	}
	if t.Name == "" {
		return t, fmt.Errorf("%s.name: required", path)
	}
	if t.Description, err = optString(path+".description", m["description"]); err != nil {
		return t, err
	}
	if s, ok := m["input_schema"]; ok && s != nil {
		if t.InputSchema, err = asMap(path+".input_schema", s); err != nil {
			return t, err
		}
	}
	if t.EchoToken, err = optBool(path+".echo_token", m["echo_token"]); err != nil {
		return t, err
	}
	if r, ok := m["responses"]; ok && r != nil {
		list, ok := normalize(r).([]any)
		if !ok {
			return t, fmt.Errorf("%s.responses: want a list, got %T", path, r)
		}
		for i, item := range list {
			resp, err := parseResponse(fmt.Sprintf("%s.responses[%d]", path, i), item)
			if err != nil {
				return t, err
			}
			t.Responses = append(t.Responses, resp)
		}
	}
	return t, nil
}

func parseResponse(path string, v any) (ResponseConfig, error) {
	var r ResponseConfig
	m, err := asMap(path, v)
	if err != nil {
		return r, err
	}
	if err := checkKeys(path, m, responseKeys); err != nil {
		return r, err
	}
	if c, ok := m["condition"]; ok && c != nil {
		if r.Condition, err = asMap(path+".condition", c); err != nil {
			return r, err
		}
	}
	r.Response = normalize(m["response"])
	r.Echo = normalize(m["echo"])
	if e, ok := m["error"]; ok && e != nil {
		switch e.(type) {
		case map[string]any, []any:
			return r, fmt.Errorf("%s.error: want a message, got %T", path, e)
		}
		r.Error = formatScalar(e)
	}
	if d, ok := m["delay"]; ok && d != nil {
		s, isString := d.(string)
		if !isString {
			return r, fmt.Errorf("%s.delay: want a Go duration string such as \"250ms\", got %v", path, d)
		}
		if r.Delay, err = time.ParseDuration(s); err != nil {
			return r, fmt.Errorf("%s.delay: %w (write e.g. \"250ms\" or \"2s\")", path, err)
		}
		if r.Delay < 0 {
			return r, fmt.Errorf("%s.delay: negative duration %s", path, s)
		}
	}
	return r, nil
}

func asMap(path string, v any) (map[string]any, error) {
	m, ok := normalize(v).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: want a map, got %T", path, v)
	}
	return m, nil
}

func checkKeys(path string, m map[string]any, known []string) error {
	var unknown []string
	for k := range m {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	msg := fmt.Sprintf("%s: unknown key %q", path, unknown[0])
	if near := nearest(unknown[0], known); near != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", near)
	}
	return fmt.Errorf("%s", msg)
}

func optString(path string, v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	default:
		return "", fmt.Errorf("%s: want a string, got %T", path, v)
	}
}

func optBool(path string, v any) (bool, error) {
	switch x := v.(type) {
	case nil:
		return false, nil
	case bool:
		return x, nil
	default:
		return false, fmt.Errorf("%s: want true or false, got %v", path, v)
	}
}

// normalize turns the map[any]any and []map[string]any shapes some decoders produce into
// the map[string]any / []any shapes that JSON and the rest of the package expect.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case []map[string]any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	default:
		return v
	}
}

// nearest returns the known key closest to k by edit distance, if it is close enough to
// be a plausible typo.
func nearest(k string, known []string) string {
	best, bestD := "", len(k)/2+2
	for _, c := range known {
		if d := editDistance(strings.ToLower(k), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
