package sut

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestWriteMusterConfig checks config.yaml as muster reads it: the runner keeps the port,
// loopback host and transport whatever a scenario's main_config says, other keys merge in,
// and the returned muster prefix follows aggregator.musterPrefix.
func TestWriteMusterConfig(t *testing.T) {
	const port = 41234
	tests := []struct {
		name       string
		spec       Spec
		wantAgg    map[string]any
		wantTop    map[string]any // other top-level keys that must be present
		wantPrefix string
	}{
		{
			name:       "defaults",
			wantAgg:    map[string]any{"enabled": true, "host": "localhost", "port": port, "transport": "streamable-http"},
			wantTop:    map[string]any{"logging": map[string]any{"level": "debug"}},
			wantPrefix: "x",
		},
		{
			name: "oauth writes the January keys and the mcpClient block",
			spec: Spec{OAuth: true},
			wantAgg: map[string]any{"enabled": true, "host": "localhost", "port": port, "transport": "streamable-http",
				"oauth": map[string]any{
					"enabled": true, "publicUrl": "http://localhost:41234", "callbackPath": "/oauth/proxy/callback",
					"mcpClient": map[string]any{"enabled": true, "publicUrl": "http://localhost:41234", "callbackPath": "/oauth/proxy/callback"},
				}},
			wantPrefix: "x",
		},
		{
			name: "a gateway IdP writes newer muster's oauth.server block",
			spec: Spec{OAuth: true, Gateway: &GatewayAuth{Issuer: "http://localhost:9", ClientID: "cli"}},
			wantAgg: map[string]any{"enabled": true, "host": "localhost", "port": port, "transport": "streamable-http",
				"oauth": map[string]any{
					"enabled": true, "publicUrl": "http://localhost:41234", "callbackPath": "/oauth/proxy/callback",
					"mcpClient": map[string]any{"enabled": true, "publicUrl": "http://localhost:41234", "callbackPath": "/oauth/proxy/callback"},
					"server": map[string]any{"enabled": true, "baseUrl": "http://127.0.0.1:41234", "provider": "dex",
						"dex": map[string]any{"issuerUrl": "http://localhost:9", "clientId": "cli"}},
				}},
			wantPrefix: "x",
		},
		{
			name: "main_config aggregator merges but cannot move the listener",
			spec: Spec{MainConfig: map[string]any{
				"aggregator": map[string]any{"port": 0, "host": "0.0.0.0", "transport": "sse", "musterPrefix": "y"},
				"logging":    map[string]any{"level": "info"},
				"namespace":  "team",
			}},
			wantAgg: map[string]any{"enabled": true, "host": "localhost", "port": port, "transport": "streamable-http",
				"musterPrefix": "y"},
			wantTop:    map[string]any{"logging": map[string]any{"level": "info"}, "namespace": "team"},
			wantPrefix: "y",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			prefix, err := writeMusterConfig(dir, port, &tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			if prefix != tt.wantPrefix {
				t.Errorf("prefix %q, want %q", prefix, tt.wantPrefix)
			}
			b, err := os.ReadFile(filepath.Join(dir, "config.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := yaml.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got["aggregator"], tt.wantAgg) {
				t.Errorf("aggregator:\n got %v\nwant %v", got["aggregator"], tt.wantAgg)
			}
			for k, want := range tt.wantTop {
				if !reflect.DeepEqual(got[k], want) {
					t.Errorf("%s: got %v, want %v", k, got[k], want)
				}
			}
			for _, sub := range []string{"mcpservers", "workflows", "serviceclasses", "services"} {
				if st, err := os.Stat(filepath.Join(dir, sub)); err != nil || !st.IsDir() {
					t.Errorf("directory %s missing: %v", sub, err)
				}
			}
		})
	}
}

// TestExpectedTools checks the names readiness waits for against muster's naming, including
// the login tool of a protected server with a toolPrefix (x_<toolPrefix>_authenticate).
func TestExpectedTools(t *testing.T) {
	tests := []struct {
		name         string
		musterPrefix string
		upstreams    []Upstream
		want         []string
	}{
		{
			name:         "public tools, with the dedupe rule",
			musterPrefix: "x",
			upstreams:    []Upstream{{Name: "pub", Spec: map[string]any{}, Tools: []string{"op", "pub_status"}}},
			want:         []string{"x_pub_op", "x_pub_status"},
		},
		{
			name:         "toolPrefix replaces the server name",
			musterPrefix: "x",
			upstreams:    []Upstream{{Name: "github-server", Spec: map[string]any{"toolPrefix": "gh"}, Tools: []string{"list_repos"}}},
			want:         []string{"x_gh_list_repos"},
		},
		{
			name:         "protected: only the login tool",
			musterPrefix: "x",
			upstreams:    []Upstream{{Name: "vault", Spec: map[string]any{}, Tools: []string{"get_secret"}, Protected: true}},
			want:         []string{"x_vault_authenticate"},
		},
		{
			name:         "protected with toolPrefix and another muster prefix",
			musterPrefix: "y",
			upstreams:    []Upstream{{Name: "vault", Spec: map[string]any{"toolPrefix": "vt"}, Tools: []string{"get_secret"}, Protected: true}},
			want:         []string{"y_vt_authenticate"},
		},
		{
			name:         "a real server definition is not waited for",
			musterPrefix: "x",
			upstreams:    []Upstream{{Name: "real", Spec: map[string]any{"type": "stdio", "command": "true"}}},
			want:         nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := &Instance{spec: &Spec{Upstreams: tt.upstreams}, musterPrefix: tt.musterPrefix}
			if got := i.expectedTools(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
