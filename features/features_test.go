// Package features holds muster-test's Gherkin specification. Every step drives the real
// muster-test binary as a user would: files in a fresh directory, a command line, and what
// comes back (exit code, output, report files, and what is left on the machine).
package features

import (
	"os"
	"testing"

	"github.com/cucumber/godog"

	"github.com/muster-test/muster-test/internal/testbin"
)

// binary is the muster-test binary built once for all features.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "muster-test-features-bin-")
	if err != nil {
		panic(err)
	}
	// Both commands, as `make build` and `go install ./cmd/...` install them: the runner
	// starts its children from muster-test-child.
	if binary, err = testbin.BuildInto(dir); err != nil {
		os.RemoveAll(dir)
		panic("build muster-test: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestFeatures(t *testing.T) {
	suite := godog.TestSuite{
		Name:                "muster-test",
		ScenarioInitializer: initScenario,
		Options: &godog.Options{
			Format:      "pretty",
			Paths:       []string{"."},
			TestingT:    t,
			Strict:      true,
			Concurrency: 1,
		},
	}
	if suite.Run() != 0 {
		t.Fatal("feature run failed")
	}
}
