package conform

import (
	"testing"

	catalogue "github.com/muster-test/muster-test/conform"
)

func mustLoad(t *testing.T) *Catalogue {
	t.Helper()
	cat, err := Load(catalogue.FS)
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// TestCatalogueLoads: the embedded table and check files agree, and there are at least
// 30 checks with a MUST among them.
func TestCatalogueLoads(t *testing.T) {
	cat, err := Load(catalogue.FS)
	if err != nil {
		t.Fatal(err)
	}
	musts := 0
	for _, c := range cat.Checks {
		if c.Level == Must {
			musts++
		}
	}
	if len(cat.Checks) < 30 || musts == 0 {
		t.Fatalf("%d checks, %d MUST; want at least 30 checks", len(cat.Checks), musts)
	}
}
