package child

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestChildLinksOnlyItsRoles keeps muster-test-child slim: a process runs the package init
// of everything linked into it, and the runner's own dependencies cost 30-40 ms of CPU per
// start (fosite pulls in govalidator, and through ory/x OpenTelemetry, gRPC and protobuf).
// The child may link the packages of its roles (the reference SUT, the stdio mock, the
// reference server without a mounted IdP) and what they need, but not the runner's side of
// this module (which brings those dependencies) nor the heavy ones themselves.
func TestChildLinksOnlyItsRoles(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/muster-test/muster-test/cmd/muster-test-child").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const module = "github.com/muster-test/muster-test/"
	runnerSide := []string{"internal/", "mocks/idp", "scenario", "cmd/muster-test/"}
	// Internal packages the roles share with the runner, which link nothing heavy.
	shared := []string{"internal/child", "internal/prefault", "internal/spare", "internal/relay", "internal/rpcpeek", "internal/loopcert"}
	heavy := []string{"github.com/ory/", "go.opentelemetry.io/", "google.golang.org/grpc", "google.golang.org/protobuf",
		"github.com/asaskevich/govalidator", "github.com/cucumber/"}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list printed %d packages: %q", len(deps), out)
	}
	for _, p := range deps {
		if rel, ok := strings.CutPrefix(p, module); ok && !slices.Contains(shared, rel) {
			for _, r := range runnerSide {
				if strings.HasPrefix(rel+"/", r) {
					t.Errorf("muster-test-child links %s", p)
				}
			}
		}
		for _, h := range heavy {
			if strings.HasPrefix(p, h) {
				t.Errorf("muster-test-child links %s", p)
			}
		}
	}
}
