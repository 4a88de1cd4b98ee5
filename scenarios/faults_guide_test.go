package scenarios_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/muster-test/muster-test/refsut"
)

// TestGuideListsEveryFault holds the guide's table of the reference SUT's --fault names to
// the faults the SUT knows, in its order: a fault the guide does not list cannot help a
// user, one it lists that the SUT does not know makes the SUT exit 2.
func TestGuideListsEveryFault(t *testing.T) {
	_, section, ok := strings.Cut(string(readGuide(t)), "\n## Prove a scenario catches a bug\n")
	if !ok {
		t.Fatal("the guide has no section \"Prove a scenario catches a bug\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var listed []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z-]+)` \\|").FindAllStringSubmatch(section, -1) {
		listed = append(listed, m[1])
	}
	var known []string
	for _, f := range refsut.AllFaults {
		known = append(known, string(f))
	}
	if strings.Join(listed, " ") != strings.Join(known, " ") {
		t.Errorf("the guide lists the faults\n  %s\nthe reference SUT knows\n  %s", strings.Join(listed, " "), strings.Join(known, " "))
	}
}

// readGuide is the scenario-writing guide, which the tests of this package hold to the code.
func readGuide(t *testing.T) []byte {
	t.Helper()
	guide, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	return guide
}
