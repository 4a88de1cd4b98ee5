package testtools

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/muster-test/muster-test/scenario"
)

func TestTableIsConsistent(t *testing.T) {
	reg := Registry() // panics on a duplicate or an implementation that does not match Later
	for _, tool := range Catalogue() {
		if !scenario.IsTestTool(tool.Name) {
			t.Errorf("%s lacks the test_ prefix", tool.Name)
		}
		if _, ok := reg[tool.Name]; ok == tool.Later {
			t.Errorf("%s: in the registry = %v, Later = %v", tool.Name, ok, tool.Later)
		}
		if !tool.Later && !slices.Contains(tool.Answer, "success") {
			t.Errorf("%s: every answer has success", tool.Name)
		}
	}
}

// TestGuideListsEveryTool holds the scenario-writing guide to the table: each implemented
// tool is documented with its exact signature, and the guide documents no other tool.
func TestGuideListsEveryTool(t *testing.T) {
	guide, err := os.ReadFile("../../scenarios/README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{}
	for _, m := range regexp.MustCompile("\\*\\*`(test_\\w+) \\{([^}]*)\\}`\\*\\*").FindAllStringSubmatch(string(guide), -1) {
		documented[m[1]] = m[1] + " {" + m[2] + "}"
	}
	for _, tool := range Catalogue() {
		sig, ok := documented[tool.Name]
		switch {
		case tool.Later && ok:
			t.Errorf("the guide documents %s, which is not supported yet", tool.Name)
		case tool.Later:
		case !ok:
			t.Errorf("the guide does not document %s (write **`%s`**)", tool.Name, tool.Signature())
		case sig != tool.Signature():
			t.Errorf("the guide writes %s, the table declares %s", sig, tool.Signature())
		}
		delete(documented, tool.Name)
	}
	for name := range documented {
		t.Errorf("the guide documents %s, which is not in the table", name)
	}
}

// TestSuiteAndFixturesLoad: every built-in scenario and every good fixture loads against
// the table, and no built-in scenario passes an argument the runner does not read.
func TestSuiteAndFixturesLoad(t *testing.T) {
	set := Loader().LoadPaths("../../scenarios", "../../testdata/scenarios/good", "../../testdata/scenarios/muster-format")
	for _, d := range set.Errors {
		t.Error(d)
	}
	for _, d := range set.Warnings {
		if strings.HasPrefix(d.Pos.File, "../../scenarios/") {
			t.Error(d)
		}
	}
	if len(set.Scenarios) < 30 {
		t.Errorf("loaded only %d scenarios", len(set.Scenarios))
	}
}
