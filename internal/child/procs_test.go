package child

import (
	"os"
	"testing"
)

// TestDropOwnProcs: a GOMAXPROCS the runner set for the child alone leaves the child's
// environment, so that the programs it starts do not inherit it; one without the mark
// (set for the runner, and so for everything it runs) stays.
func TestDropOwnProcs(t *testing.T) {
	t.Setenv("GOMAXPROCS", "1")
	t.Setenv(OwnProcsVar, "1")
	dropOwnProcs()
	for _, k := range []string{"GOMAXPROCS", OwnProcsVar} {
		if v, ok := os.LookupEnv(k); ok {
			t.Errorf("%s=%s is still set", k, v)
		}
	}
	t.Setenv("GOMAXPROCS", "3")
	dropOwnProcs()
	if v := os.Getenv("GOMAXPROCS"); v != "3" {
		t.Errorf("GOMAXPROCS without the mark became %q, want it kept (3)", v)
	}
}
