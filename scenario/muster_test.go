package scenario_test

import (
	"os"
	"testing"
)

// TestMusterScenariosLoad loads every scenario file of muster at af5d3ca1: the format's
// compatibility promise is that all 147 validate. The files are not part of this
// repository; MUSTER_SCENARIOS names a directory holding muster's
// internal/testing/scenarios at that commit.
func TestMusterScenariosLoad(t *testing.T) {
	musterScenarios := os.Getenv("MUSTER_SCENARIOS")
	if musterScenarios == "" {
		t.Skip("MUSTER_SCENARIOS is not set (a checkout of muster's internal/testing/scenarios at af5d3ca1)")
	}
	set := loader.LoadPaths(musterScenarios)
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
