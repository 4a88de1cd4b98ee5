package scenarios_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestGuideExamplesAreBuiltIn: a YAML block of the guide that names a file of the suite
// (an HTML comment with its path just above the block) is that file, byte for byte, so an
// example a reader copies is one that `make test` runs.
func TestGuideExamplesAreBuiltIn(t *testing.T) {
	guide := readGuide(t)
	blocks := regexp.MustCompile("(?s)<!-- scenarios/([^ ]+\\.yaml) -->\n```yaml\n(.*?)```\n").FindAllSubmatch(guide, -1)
	if len(blocks) < 2 {
		t.Fatalf("the guide names %d built-in example files, want the two quick-start examples", len(blocks))
	}
	for _, b := range blocks {
		file, shown := string(b[1]), string(b[2])
		want, err := os.ReadFile(file)
		if err != nil {
			t.Errorf("the guide shows %s, which is not in the suite: %v", file, err)
			continue
		}
		if shown != string(want) {
			t.Errorf("the guide's copy of %s differs from the file; first difference at byte %d", file, firstDiff(shown, string(want)))
		}
	}
}

func firstDiff(a, b string) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	if strings.HasPrefix(a, b) || strings.HasPrefix(b, a) {
		return n
	}
	return 0
}
