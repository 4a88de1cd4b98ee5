package mcpserver

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Transport types a Config may name. Start serves the two HTTP ones (an empty Type means
// TypeStreamableHTTP there), ServeStdio any.
const (
	TypeStreamableHTTP = "streamable-http"
	TypeSSE            = "sse"
	TypeStdio          = "stdio"
)

// Config describes one mock server.
//
// The yaml tags name the keys of the same settings in a scenario file's
// `mcp_servers[].config` map and in the files ConfigFromYAML and LoadConfigFile read;
// fields tagged "-" are set by whoever starts the server.
type Config struct {
	// Type is the transport: TypeStreamableHTTP (the default for Start) or TypeSSE.
	Type string `yaml:"type"`
	// ToolPrefix, Description and AutoStart belong to the configuration of the aggregator
	// (the SUT) that has this server as an upstream, where they are kept beside the server
	// they describe; the mock itself ignores them.
	ToolPrefix  string `yaml:"toolPrefix"`
	Description string `yaml:"description"`
	AutoStart   *bool  `yaml:"autoStart"`
	// OAuth protects the server; the zero value leaves it public.
	OAuth OAuthConfig  `yaml:"oauth"`
	Tools []ToolConfig `yaml:"tools"`

	// Name is the serverInfo name sent in initialize; default "mock-mcp-server".
	Name string `yaml:"-"`
	// Host is the host name used in URL, BaseURL and the OAuth documents; default
	// "localhost", which muster-style configurations use. The server always listens on
	// 127.0.0.1.
	Host string `yaml:"-"`
	// Authority validates bearer tokens; required when OAuth.Required.
	Authority Authority `yaml:"-"`
	// Logger receives the mock's and mcp-go's logs; nil keeps the mock quiet.
	Logger *slog.Logger `yaml:"-"`
	// LegacyOnly makes streamable HTTP refuse the stateless 2026-07-28 protocol, so a
	// client falls back to the session-based one.
	LegacyOnly bool `yaml:"-"`
	// ErrorsAsJSONRPC answers configured `error:` responses with a JSON-RPC error instead of
	// an isError result. muster's own stdio mock does that, and muster's workflows count
	// only a JSON-RPC error as a failed step, so ServeStdio sets it.
	ErrorsAsJSONRPC bool `yaml:"-"`
}

// OAuthConfig says whether and how the server is protected.
type OAuthConfig struct {
	// Required makes every request need a bearer token that Config.Authority accepts.
	Required bool `yaml:"required"`
	// MockOAuthServerRef names the mock IdP that protects the server, for a runner that
	// starts several (it sets Config.Authority to that IdP); the mock does not read it.
	MockOAuthServerRef string `yaml:"mock_oauth_server_ref"`
	// Scope is the required scope; several scopes are separated by spaces and all are
	// required.
	Scope string `yaml:"scope"`
	// Audience, when set, must be one of the token's audiences (RFC 8707 resource). When
	// neither it nor ExpectedAudience is set, the audience is not checked at all: muster's
	// OAuth client (January) sends no RFC 8707 resource parameter, so its tokens carry no
	// audience that a mock could demand.
	Audience string `yaml:"audience"`
	// ExpectedAudience is newer muster's spelling of Audience; used when Audience is empty.
	ExpectedAudience string `yaml:"expected_audience"`
	// TrustIssuerRef, ForwardToken and TokenExchange are newer muster versions' settings
	// of a scenario; the mock does not read them. A runner gives the mock TrustIssuerRef's
	// IdP as its Authority and writes the other two into the gateway's server config.
	TrustIssuerRef string         `yaml:"trust_issuer_ref"`
	ForwardToken   bool           `yaml:"forward_token"`
	TokenExchange  map[string]any `yaml:"token_exchange"`
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

// ToolConfig is one tool of the server.
type ToolConfig struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// InputSchema is published as the tool's input schema (with "type": "object" added
	// when absent); properties.*.default values are applied to calls' arguments.
	InputSchema map[string]any `yaml:"input_schema"`
	// EchoToken wraps each response in a JSON object with the bearer token received and
	// its subject, scopes and audience.
	EchoToken bool             `yaml:"echo_token"`
	Responses []ResponseConfig `yaml:"responses"`
	// Store, when set, makes every call an operation on the server's key-value store
	// (after the chosen response's delay; a response's error skips it).
	Store *StoreConfig `yaml:"store"`
}

// ResponseConfig is one possible answer of a tool.
type ResponseConfig struct {
	// Condition selects this response when every key equals the argument of that name
	// (compared by value); an empty condition always matches.
	Condition map[string]any `yaml:"condition"`
	// Response is a string, map or list with {{ arg }} templates; nil gives empty text.
	Response any `yaml:"response"`
	// Error, when not empty, makes the call a tool error (isError) with this templated text.
	Error string `yaml:"error"`
	// Delay is waited before answering (cut short when the call is cancelled).
	Delay time.Duration `yaml:"delay"`
	// Echo is accepted for muster's files and ignored, as muster does.
	Echo any `yaml:"echo"`
}

// check reports what no transport can serve: a tool without a name, two tools of one
// name, a negative delay.
func (c Config) check() error {
	seen := map[string]bool{}
	for i, t := range c.Tools {
		switch {
		case t.Name == "":
			return fmt.Errorf("tools[%d]: tool without a name", i)
		case seen[t.Name]:
			return fmt.Errorf("tools[%d]: duplicate tool name %q", i, t.Name)
		}
		seen[t.Name] = true
		if t.Store != nil {
			if p := t.Store.Problems(); len(p) > 0 {
				at := fmt.Sprintf("tools[%d].store", i)
				if p[0].Key != "" {
					at += "." + p[0].Key
				}
				return fmt.Errorf("%s: %s", at, p[0].Msg)
			}
		}
		for j, r := range t.Responses {
			if r.Delay < 0 {
				return fmt.Errorf("tools[%d].responses[%d].delay: negative duration %s", i, j, r.Delay)
			}
		}
	}
	return nil
}

// LoadConfigFile reads a Config from a YAML (or JSON) file, as ConfigFromYAML does: the
// file a SUT hands to `muster-test --mock-mcp-server --mock-config FILE`.
func LoadConfigFile(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	cfg, err := ConfigFromYAML(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// ConfigFromYAML reads a Config from YAML written with its fields' yaml tags (a scenario
// file's `mcp_servers[].config` map). Unknown keys are errors, except inside input_schema,
// condition, response and echo, which are free-form; delays are Go duration strings
// ("250ms").
func ConfigFromYAML(data []byte) (Config, error) {
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("mock config: %w", err)
	}
	for i := range cfg.Tools {
		t := &cfg.Tools[i]
		t.InputSchema = normalizeMap(t.InputSchema)
		for j := range t.Responses {
			r := &t.Responses[j]
			r.Condition = normalizeMap(r.Condition)
			r.Response, r.Echo = normalize(r.Response), normalize(r.Echo)
		}
		if st := t.Store; st != nil {
			st.Value, st.IfVersion = normalize(st.Value), normalize(st.IfVersion)
		}
	}
	if err := cfg.check(); err != nil {
		return Config{}, fmt.Errorf("mock config: %w", err)
	}
	return cfg, nil
}

func normalizeMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	return normalize(m).(map[string]any)
}

// normalize turns the map[any]any (a YAML mapping with a key that is not a string) and
// []map[string]any shapes that decoders and Go literals produce into the map[string]any /
// []any shapes that JSON and the rest of the package expect. It copies rather than
// rewrites: a Config's maps belong to its caller.
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
