package runner

import (
	"context"
	"fmt"
	"time"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/reaper"
	"github.com/muster-test/muster-test/internal/schedule"
	"github.com/muster-test/muster-test/internal/sut"
	"github.com/muster-test/muster-test/internal/testtools"
	"github.com/muster-test/muster-test/scenario"
)

// Stage is a scenario's world set up without running its steps: temp dir, mocks, SUT and
// the World that joins them. Load mode (internal/load) sets one up for the whole run and
// drives it with many users; Close tears it down as a scenario's teardown does.
type Stage struct {
	World *testtools.World
	// Values are the world templates' values, for the executor's runs.
	Values map[string]any
	r      *scenarioRun
}

// SetUpStage starts sc's world with the driver the options choose.
func SetUpStage(ctx context.Context, opts *Options, sc *scenario.Scenario) (*Stage, error) {
	driver, err := ChooseDriver(opts.SUT)
	if err != nil {
		return nil, err
	}
	r := &scenarioRun{w: stageRunner(opts, driver), sc: sc, res: schedule.Skeleton(sc),
		// A load run's requests are far too many to keep, and recording them would cost
		// the generator CPU it measures with.
		unrecorded: true}
	if _, err := r.setUp(ctx); err != nil {
		r.teardown()
		return nil, err
	}
	return &Stage{World: r.world, Values: r.values, r: r}, nil
}

// stageRunner is the scenario runner of a stage: no spares (one SUT start), and the SUT
// keeps its GOMAXPROCS, as it serves many users at once (see sutEnv).
func stageRunner(opts *Options, driver sut.Driver) *scenarioRunner {
	return &scenarioRunner{opts: opts, driver: driver, tools: testtools.Registry()}
}

// Close tears the world down within TeardownBudget and returns the notes of what it had
// to cut short (and the SUT's log when failed is set).
func (s *Stage) Close(failed bool) []string {
	if failed {
		s.r.res.Status = event.Failed
	}
	s.r.teardown()
	notes := s.r.res.Notes
	if failed && s.r.res.SUTLog != "" {
		notes = append(notes, "SUT log:\n"+s.r.res.SUTLog)
	}
	return notes
}

// WithReaper runs f as MainWith runs a suite: this process adopts the orphans of the SUT
// and kills what is left of them at the end, also when f panics.
func WithReaper(opts *Options, f func() int) int {
	if err := reaper.Enable(); err != nil {
		fmt.Fprintln(opts.Stderr, "muster-test: warning: cannot become a child subreaper; orphans of a SUT go to init:", err)
	}
	defer func() { reaper.KillAdopted(time.Now().Add(TeardownBudget)) }()
	return f()
}
