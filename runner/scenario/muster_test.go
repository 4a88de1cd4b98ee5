package scenario

import (
	"os"
	"testing"
)

// musterScenarios is where muster's scenario files (commit af5d3ca1) are extracted on a
// developer machine; they are not part of this repository.
const musterScenarios = "/tmp/muster-scen/internal/testing/scenarios"

// TestMusterScenariosLoad loads every scenario file of muster at af5d3ca1: the format's
// compatibility promise is that all 147 validate.
func TestMusterScenariosLoad(t *testing.T) {
	if _, err := os.Stat(musterScenarios); err != nil {
		t.Skipf("muster scenarios not extracted at %s", musterScenarios)
	}
	set := LoadPaths(musterScenarios)
	for _, e := range set.Errors {
		t.Errorf("%s", e)
	}
	for _, w := range set.Warnings {
		t.Logf("%s", w)
	}
	if got := len(set.Scenarios); got != 147 {
		t.Errorf("loaded %d scenarios, want 147", got)
	}
	mocks := 0
	for _, s := range set.Scenarios {
		if s.PreConfiguration == nil {
			continue
		}
		for _, m := range s.PreConfiguration.MCPServers {
			if m.Mock == nil || len(m.Mock.Tools) == 0 {
				t.Errorf("%s: mcp server %q: mock config not decoded", s.Pos, m.Name)
			}
			mocks++
		}
	}
	t.Logf("%d scenarios, %d mock MCP servers, %d warnings", len(set.Scenarios), mocks, len(set.Warnings))
}
