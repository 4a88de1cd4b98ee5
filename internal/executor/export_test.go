package executor

import (
	"testing"

	"github.com/muster-test/muster-test/scenario"
)

// For the tests of package executor_test, which run the executor with the real test tools
// (they import testtools, which imports this package).
var Yes, No = yes, no

func RunWithFake(t *testing.T, sc *scenario.Scenario, tools Registry) Outcome {
	t.Helper()
	return run(t, newFake(), sc, tools)
}
