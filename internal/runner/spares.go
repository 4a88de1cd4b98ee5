package runner

import (
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"

	"github.com/muster-test/muster-test/internal/child"
	"github.com/muster-test/muster-test/internal/sut"
	"github.com/muster-test/muster-test/internal/testtools"
	"github.com/muster-test/muster-test/scenario"
)

func newScenarioRunner(opts *Options, driver sut.Driver) *scenarioRunner {
	w := &scenarioRunner{opts: opts, driver: driver, tools: testtools.Registry(), oneProc: os.Getenv("GOMAXPROCS") == ""}
	if opts.SUT.URL == "" && len(opts.SUT.Command) == 0 && opts.SUT.childBinary() != "" {
		// One idle spare of a binary per scenario that runs at once, but no more than the
		// CPUs that can run their init while the scenarios run.
		keep := runtime.NumCPU()
		if opts.Parallel > 0 {
			keep = min(keep, opts.Parallel)
		}
		w.spares = sut.NewSpares(keep, w.ownEnv())
	}
	return w
}

// expectEarly starts a spare for the first scenario before the files are read, when the
// driver starts one binary for every scenario: most runs start their SUT at once, and the
// spare's init then overlaps the loading. It returns the binary ("" for none).
func (w *scenarioRunner) expectEarly() string {
	b := w.driverBinary()
	if b != "" {
		w.spares.Expect(b, 1)
	}
	return b
}

// expect tells the spares which binaries scs will start, and how often, less the start
// of early already expected.
func (w *scenarioRunner) expect(scs []*scenario.Scenario, early string) {
	if w.spares == nil {
		return
	}
	n := map[string]int{}
	if early != "" {
		n[early] = -1
	}
	for _, sc := range scs {
		if b := w.plannedBinary(sc); b != "" {
			n[b]++
		}
	}
	for b, k := range n {
		w.spares.Expect(b, k)
	}
}

// driverBinary is the binary the driver starts for a scenario without a sut block, when
// it is the child binary and spares are kept ("" otherwise: real muster is no spare).
func (w *scenarioRunner) driverBinary() string {
	if w.spares == nil {
		return ""
	}
	return w.ownDriverBinary()
}

// ownDriverBinary is the binary the driver starts for a scenario without a sut block,
// when it is the child binary ("" otherwise). A driver that wraps another says so with
// Unwrap.
func (w *scenarioRunner) ownDriverBinary() string {
	d := w.driver
	for {
		u, ok := d.(interface{ Unwrap() sut.Driver })
		if !ok {
			break
		}
		d = u.Unwrap()
	}
	serve, ok := d.(*sut.ServeDriver)
	if !ok || len(serve.Command) == 0 || serve.Command[0] != w.opts.SUT.childBinary() {
		return ""
	}
	return serve.Command[0]
}

var selfRef = regexp.MustCompile(`^\{\{-?\s*\.self\s*-?\}\}$`)

// plannedBinary guesses, before the scenario's world exists to resolve its templates,
// which binary its SUT start runs: the driver's without a sut block; for a sut command
// `{{ .self }} ...`, muster-test when it mounts an IdP (--with-as), else the child binary
// (directSpec decides for real, after the templates). A wrong guess costs a spare that
// goes unused or a start that is fresh, never a result.
func (w *scenarioRunner) plannedBinary(sc *scenario.Scenario) string {
	if sc.SUT == nil {
		return w.driverBinary()
	}
	cmd := sc.SUT.Command
	if len(cmd) == 0 || !selfRef.MatchString(strings.TrimSpace(cmd[0])) {
		return ""
	}
	if slices.ContainsFunc(cmd[1:], func(a string) bool {
		a = strings.TrimLeft(a, "-")
		return a == "with-as" || strings.HasPrefix(a, "with-as=")
	}) {
		return w.opts.SUT.Self
	}
	return w.opts.SUT.childBinary()
}

// sutEnv is what a scenario run adds to the environment of a SUT process of muster-test's
// own binaries (the reference SUT; a sut block's `{{ .self }}` command): GOMAXPROCS=1, for
// that process alone (child.OwnProcsVar: the programs it starts do not inherit it), unless
// the runner's environment sets GOMAXPROCS itself (oneProc false), which the SUT then
// inherits.
//
// Such a SUT serves the few sessions of one scenario, while the run keeps every CPU busy
// with the runner, the mocks, the spares' init and the other scenarios' SUTs. With a P per
// CPU, each SUT's idle Ps spin looking for work on CPUs the others need, and a server,
// which blocks and wakes all the time, pays for it at every wake-up (BENCHMARKS.md, "One P
// per SUT"). Its goroutines still run concurrently, one at a time. Load mode, whose SUT
// serves many users at once, keeps the default (see stageRunner); other programs (muster,
// a sut block's command) are never told how to run.
func (w *scenarioRunner) sutEnv(spec *sut.Spec) []string {
	own := w.ownDriverBinary() != ""
	if d := spec.Direct; d != nil {
		own = len(d.Command) > 0 && d.Command[0] != "" &&
			(d.Command[0] == w.opts.SUT.childBinary() || d.Command[0] == w.opts.SUT.Self)
	}
	if !own {
		return nil
	}
	return w.ownEnv()
}

// ownEnv is what sutEnv adds for a SUT of muster-test's own binaries, which the spares,
// all of those binaries, start with too.
func (w *scenarioRunner) ownEnv() []string {
	if !w.oneProc {
		return nil
	}
	return []string{"GOMAXPROCS=1", child.OwnProcsVar + "=1"}
}
