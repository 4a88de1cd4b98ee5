package sut

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/muster-test/muster-test/scenario"
)

// callbackPath is muster's default OAuth callback path, written explicitly so the runner
// and the SUT agree on it.
const callbackPath = "/oauth/proxy/callback"

const apiVersion = "muster.giantswarm.io/v1alpha1"

// writeMusterConfig writes muster's config directory (docs/muster-contract.md §2): config.yaml,
// one MCPServer file per upstream, and the workflows, service classes and services of the
// scenario the way muster's own runner writes them. It returns the muster prefix the SUT
// will put in front of every upstream tool name.
func writeMusterConfig(dir string, port int, spec *Spec) (string, error) {
	for _, sub := range []string{"mcpservers", "workflows", "serviceclasses", "services"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return "", err
		}
	}
	cfg := mainConfig(port, spec)
	if err := writeYAML(filepath.Join(dir, "config.yaml"), cfg); err != nil {
		return "", err
	}
	for _, u := range spec.Upstreams {
		doc := resource("MCPServer", u.Name, u.Spec)
		if err := writeYAML(filepath.Join(dir, "mcpservers", u.Name+".yaml"), doc); err != nil {
			return "", err
		}
	}
	for _, w := range spec.Workflows {
		if err := writeYAML(filepath.Join(dir, "workflows", w.Name+".yaml"), resource("Workflow", w.Name, withoutName(w.Config))); err != nil {
			return "", err
		}
	}
	for _, sc := range spec.ServiceClasses {
		name := fmt.Sprint(sc["name"])
		if err := writeYAML(filepath.Join(dir, "serviceclasses", name+".yaml"), resource("ServiceClass", name, withoutName(sc))); err != nil {
			return "", err
		}
	}
	for _, s := range spec.Services {
		if err := writeYAML(filepath.Join(dir, "services", s.Name+".yaml"), s.Config); err != nil {
			return "", err
		}
	}
	prefix, _ := cfg["aggregator"].(map[string]any)["musterPrefix"].(string)
	if prefix == "" {
		prefix = scenario.DefaultMusterPrefix
	}
	return prefix, nil
}

// runnerOwned are the aggregator keys a scenario's main_config cannot change: the runner
// reserved the port, the SUT must listen on loopback only, and the runner speaks
// streamable HTTP to it.
var runnerOwned = []string{"host", "port", "transport"}

// mainConfig is config.yaml. A scenario's main_config replaces top-level keys, as in
// muster's runner, except `aggregator`: its keys are merged into the runner's aggregator
// block, because replacing the block would drop the reserved port and the loopback host
// (muster then listens on its default 8090, or wherever the scenario says).
func mainConfig(port int, spec *Spec) map[string]any {
	agg := map[string]any{
		"enabled":   true,
		"host":      "localhost",
		"port":      port,
		"transport": "streamable-http",
	}
	if spec.OAuth {
		client := map[string]any{"enabled": true, "publicUrl": fmt.Sprintf("http://localhost:%d", port), "callbackPath": callbackPath}
		// Both the January keys and the newer mcpClient block: muster ignores the keys it
		// does not know, so one file serves every version.
		oauth := maps.Clone(client)
		oauth["mcpClient"] = client
		if g := spec.Gateway; g != nil {
			// Newer muster's shape, as its own runner writes it for use_as_muster_oauth_server.
			dex := map[string]any{"issuerUrl": g.Issuer}
			if g.ClientID != "" {
				dex["clientId"] = g.ClientID
			}
			// baseUrl names the origin the runner's sessions use (Instance.Endpoint): the
			// gateway's resource is derived from it, and a client checks the two match.
			oauth["server"] = map[string]any{"enabled": true, "baseUrl": fmt.Sprintf("http://127.0.0.1:%d", port), "provider": "dex", "dex": dex}
		}
		agg["oauth"] = oauth
	}
	cfg := map[string]any{"aggregator": agg, "logging": map[string]any{"level": "debug"}}
	for k, v := range spec.MainConfig {
		if over, ok := v.(map[string]any); ok && k == "aggregator" {
			for ak, av := range over {
				if !slices.Contains(runnerOwned, ak) {
					agg[ak] = av
				}
			}
			continue
		}
		cfg[k] = v
	}
	return cfg
}

func resource(kind, name string, spec map[string]any) map[string]any {
	return map[string]any{
		"apiVersion": apiVersion,
		"kind":       kind,
		"metadata":   map[string]any{"name": name, "namespace": "default"},
		"spec":       spec,
	}
}

func withoutName(m map[string]any) map[string]any {
	out := maps.Clone(m)
	delete(out, "name")
	return out
}

func writeYAML(path string, v any) error {
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	return os.WriteFile(path, b, 0o644)
}

// namedConfigs is a shorthand for the scenario's workflow and service lists.
type namedConfigs = []scenario.NamedConfig
