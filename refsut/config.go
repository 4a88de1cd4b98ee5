package refsut

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Config is what the aggregator takes from muster's configuration directory.
type Config struct {
	Host         string
	Port         int
	Transport    string // streamable-http (default) or sse
	MusterPrefix string
	OAuth        OAuthConfig
	Server       ServerAuthConfig
	Servers      []ServerSpec // in file-name order
}

// ServerAuthConfig is protected mode (aggregator.oauth.server, newer muster's keys): the
// gateway is itself an OAuth resource server that trusts one IdP (refsut/protect.go).
type ServerAuthConfig struct {
	Enabled bool
	BaseURL string // the gateway's public base URL
	Issuer  string // dex.issuerUrl: the IdP whose JWT access tokens the gateway accepts
	// Resource is the gateway's RFC 8707 identifier (resourceIdentifier): published in its
	// protected resource metadata and required in a token's aud.
	Resource string
	// Audiences are further aud values accepted (trustedAudiences, plus dex.clientId).
	Audiences []string
}

// OAuthConfig is the OAuth client (proxy) part of the configuration.
type OAuthConfig struct {
	Enabled      bool
	PublicURL    string
	CallbackPath string
	ClientID     string
	CIMDPath     string
}

// ServerSpec is the spec of one MCPServer file.
type ServerSpec struct {
	Name        string            `yaml:"-"`
	File        string            `yaml:"-"`
	Type        string            `yaml:"type"`
	AutoStart   *bool             `yaml:"autoStart"`
	URL         string            `yaml:"url"`
	Command     string            `yaml:"command"`
	Args        []string          `yaml:"args"`
	Env         map[string]string `yaml:"env"`
	Headers     map[string]string `yaml:"headers"`
	Timeout     int               `yaml:"timeout"`
	ToolPrefix  string            `yaml:"toolPrefix"`
	Description string            `yaml:"description"`
}

// prefix is the server part of exposed tool names.
func (s ServerSpec) prefix() string {
	if s.ToolPrefix != "" {
		return s.ToolPrefix
	}
	return s.Name
}

func (s ServerSpec) autoStart() bool { return s.AutoStart == nil || *s.AutoStart }

// isHTTP reports whether the upstream is reached over HTTP (and may thus be OAuth-protected).
func (s ServerSpec) isHTTP() bool { return s.Type == "streamable-http" || s.Type == "sse" }

// oauthKeys mirrors both places muster has kept its OAuth client settings in.
type oauthKeys struct {
	Enabled      *bool  `yaml:"enabled"`
	PublicURL    string `yaml:"publicUrl"`
	CallbackPath string `yaml:"callbackPath"`
	ClientID     string `yaml:"clientId"`
	CIMDPath     string `yaml:"cimdPath"`
}

// serverKeys are the keys of newer muster's aggregator.oauth.server that the reference SUT
// reads; the rest (storage, registration, encryption, ...) belong to muster's own
// authorization server, which the reference SUT does not have: it trusts the IdP directly.
type serverKeys struct {
	Enabled  *bool  `yaml:"enabled"`
	BaseURL  string `yaml:"baseUrl"`
	Provider string `yaml:"provider"`
	Dex      struct {
		IssuerURL string `yaml:"issuerUrl"`
		ClientID  string `yaml:"clientId"`
	} `yaml:"dex"`
	ResourceIdentifier string   `yaml:"resourceIdentifier"`
	TrustedAudiences   []string `yaml:"trustedAudiences"`
}

type configFile struct {
	Aggregator struct {
		Host         string `yaml:"host"`
		Port         int    `yaml:"port"`
		Transport    string `yaml:"transport"`
		MusterPrefix string `yaml:"musterPrefix"`
		OAuth        struct {
			oauthKeys `yaml:",inline"`
			MCPClient oauthKeys  `yaml:"mcpClient"`
			Server    serverKeys `yaml:"server"`
		} `yaml:"oauth"`
	} `yaml:"aggregator"`
}

type serverFile struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec ServerSpec `yaml:"spec"`
}

// LoadConfig reads dir/config.yaml (defaults when absent, as muster does; a missing dir is
// created) and dir/mcpservers/*.yaml. Unknown keys are ignored. A broken MCPServer file is
// logged and skipped; a broken config.yaml is an error.
func LoadConfig(dir string, log *slog.Logger) (*Config, error) {
	if err := os.MkdirAll(filepath.Join(dir, "mcpservers"), 0o755); err != nil {
		return nil, fmt.Errorf("failed to create config directory %s: %w", dir, err)
	}
	var cf configFile
	path := filepath.Join(dir, "config.yaml")
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		log.Info(fmt.Sprintf("No config.yaml found at %s, using defaults", path))
	case err != nil:
		return nil, err
	default:
		if err := yaml.Unmarshal(data, &cf); err != nil {
			return nil, fmt.Errorf("failed to load muster configuration from path %s: error loading config from %s: %w", dir, path, err)
		}
	}
	a := cf.Aggregator
	cfg := &Config{Host: a.Host, Port: a.Port, Transport: a.Transport, MusterPrefix: a.MusterPrefix}
	if cfg.Host == "" {
		cfg.Host = "localhost"
	}
	if cfg.Port == 0 {
		cfg.Port = 8090
	}
	if cfg.Transport == "" {
		cfg.Transport = "streamable-http"
	}
	if cfg.MusterPrefix == "" {
		cfg.MusterPrefix = "x"
	}
	cfg.OAuth = mergeOAuth(a.OAuth.oauthKeys, a.OAuth.MCPClient, cfg.Host, cfg.Port)
	if cfg.Server, err = serverAuth(a.OAuth.Server, cfg.OAuth.PublicURL); err != nil {
		return nil, fmt.Errorf("failed to load muster configuration from path %s: aggregator.oauth.server: %w", dir, err)
	}
	cfg.Servers, err = loadServers(filepath.Join(dir, "mcpservers"), log)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// mergeOAuth lets the newer mcpClient block override the older keys field by field.
func mergeOAuth(old, newer oauthKeys, host string, port int) OAuthConfig {
	pick := func(a, b string) string {
		if b != "" {
			return b
		}
		return a
	}
	o := OAuthConfig{
		PublicURL:    pick(old.PublicURL, newer.PublicURL),
		CallbackPath: pick(old.CallbackPath, newer.CallbackPath),
		ClientID:     pick(old.ClientID, newer.ClientID),
		CIMDPath:     pick(old.CIMDPath, newer.CIMDPath),
	}
	o.Enabled = (old.Enabled != nil && *old.Enabled) || (newer.Enabled != nil && *newer.Enabled)
	if o.PublicURL == "" {
		o.PublicURL = fmt.Sprintf("http://%s:%d", host, port)
	}
	o.PublicURL = strings.TrimSuffix(o.PublicURL, "/")
	if o.CallbackPath == "" {
		o.CallbackPath = "/oauth/proxy/callback"
	}
	if o.CIMDPath == "" {
		o.CIMDPath = "/.well-known/oauth-client.json"
	}
	if o.ClientID == "" {
		o.ClientID = o.PublicURL + o.CIMDPath
	}
	return o
}

// serverAuth checks protected mode's keys and fills in its defaults.
func serverAuth(k serverKeys, publicURL string) (ServerAuthConfig, error) {
	if k.Enabled == nil || !*k.Enabled {
		return ServerAuthConfig{}, nil
	}
	if k.Provider != "" && k.Provider != "dex" {
		return ServerAuthConfig{}, fmt.Errorf("provider %q is not supported by the reference SUT (use dex: any OIDC issuer with JWT access tokens)", k.Provider)
	}
	if k.Dex.IssuerURL == "" {
		return ServerAuthConfig{}, errors.New("enabled without dex.issuerUrl: the gateway must know the IdP it trusts")
	}
	c := ServerAuthConfig{
		Enabled:   true,
		BaseURL:   strings.TrimSuffix(k.BaseURL, "/"),
		Issuer:    strings.TrimSuffix(k.Dex.IssuerURL, "/"),
		Resource:  k.ResourceIdentifier,
		Audiences: slices.DeleteFunc(append(slices.Clone(k.TrustedAudiences), k.Dex.ClientID), func(s string) bool { return s == "" }),
	}
	if c.BaseURL == "" {
		c.BaseURL = publicURL
	}
	if c.Resource == "" {
		// The MCP endpoint's URL is the canonical resource of an MCP server (MCP
		// authorization, RFC 8707); muster defaults to baseUrl instead.
		c.Resource = c.BaseURL + "/mcp"
	}
	return c, nil
}

func loadServers(dir string, log *slog.Logger) ([]ServerSpec, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if !e.IsDir() && (strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	var out []ServerSpec
	seen := map[string]bool{}
	for _, n := range names {
		spec, err := loadServer(filepath.Join(dir, n))
		if err != nil {
			log.Error("Failed to load MCPServer "+n, "subsystem", "fs-client", "error", err)
			continue
		}
		if seen[spec.Name] {
			log.Error("Failed to load MCPServer "+n, "subsystem", "fs-client", "error", "duplicate name "+spec.Name)
			continue
		}
		seen[spec.Name] = true
		out = append(out, spec)
	}
	return out, nil
}

func loadServer(path string) (ServerSpec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return ServerSpec{}, err
	}
	var f serverFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return ServerSpec{}, err
	}
	s := f.Spec
	s.Name, s.File = f.Metadata.Name, path
	switch {
	case f.Kind != "" && f.Kind != "MCPServer":
		return s, fmt.Errorf("kind %q is not MCPServer", f.Kind)
	case s.Name == "":
		return s, errors.New("metadata.name is empty")
	case s.Type == "stdio" && s.Command == "":
		return s, errors.New("stdio server without command")
	case s.isHTTP() && s.URL == "":
		return s, fmt.Errorf("%s server without url", s.Type)
	case s.Type != "stdio" && !s.isHTTP():
		return s, fmt.Errorf("unknown type %q", s.Type)
	}
	return s, nil
}

// checkLoopback refuses any aggregator.host but a loopback name. Real muster would listen
// wherever it is told; the reference SUT runs inside tests, with OAuth tokens in flight, and
// must never be reachable from another machine.
func checkLoopback(host string) error {
	switch host {
	case "localhost", "127.0.0.1", "::1":
		return nil
	}
	return fmt.Errorf("refusing to listen on %s: the reference SUT only listens on loopback", host)
}
