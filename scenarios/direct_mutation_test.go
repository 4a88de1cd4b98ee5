package scenarios_test

import (
	"cmp"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/muster-test/muster-test/internal/testbin"
	"github.com/muster-test/muster-test/internal/testtools"
	"github.com/muster-test/muster-test/refserver"
)

// catcher is the step of a built-in scenario written to catch a fault: the first step of
// the scenario that does not pass, FAILED unless result says otherwise. stacks are
// functions the SUT's output after the on_timeout signal must name.
type catcher struct {
	scenario, step string
	result         string
	stacks         []string
}

// directCatchers names, for each fault of the reference protected server, the built-in
// scenarios and steps written to catch it (one per mode of the server the fault acts in).
// A fault that only some unrelated step trips over (a login that happens to break) is not
// caught in the sense that matters: a user reading the report must see the check that
// names the bug.
var directCatchers = map[refserver.Fault][]catcher{
	refserver.FaultNoAudienceCheck:         {{scenario: "direct-token-audience", step: "wrong-audience-refused"}},
	refserver.FaultExpiredTokenAccepted:    {{scenario: "direct-token-expired", step: "expired-refused"}},
	refserver.FaultToolsListUnfiltered:     {{scenario: "direct-seed004-walk", step: "carol-sees-export"}},
	refserver.FaultToolsCallNotRechecked:   {{scenario: "direct-seed004-walk", step: "alice-cannot-export"}},
	refserver.FaultPRMResourceWrong:        {{scenario: "direct-discovery", step: "discover"}},
	refserver.FaultNoWWWAuthenticate:       {{scenario: "direct-discovery", step: "challenge"}},
	refserver.Fault401ForInsufficientScope: {{scenario: "direct-insufficient-scope", step: "no-tools-scope-refused"}},
	refserver.FaultTokenInQueryAccepted:    {{scenario: "direct-token-in-query", step: "query-token-refused"}},
	refserver.FaultDenialsNotAudited:       {{scenario: "direct-seed004-walk", step: "denial-audited"}},
	refserver.FaultSessionNotBound:         {{scenario: "direct-session-binding", step: "bob-on-alice-session-refused"}},
	refserver.FaultNoContextCache: {{scenario: "direct-context-cache", step: "one-lookup"},
		{scenario: "direct-userinfo-context", step: "one-lookup-per-user"},
		{scenario: "direct-userinfo-mock-clock", step: "one-lookup"}},
	refserver.FaultCacheIgnoresTTL: {{scenario: "direct-context-cache", step: "revoked-refused-after-ttl"},
		{scenario: "direct-userinfo-context", step: "revoked-refused-after-ttl"},
		{scenario: "direct-userinfo-mock-clock", step: "one-more-lookup"}},
	refserver.FaultGlobalRefreshLock:    {{scenario: "direct-upstream-isolation", step: "bob-unaffected"}},
	refserver.FaultNoRefreshDoubleCheck: {{scenario: "direct-upstream-single-flight", step: "one-exchange"}},
	refserver.FaultLockLeak:             {{scenario: "direct-upstream-single-flight", step: "locks-released"}},
	refserver.FaultSharingNotEnforced:   {{scenario: "direct-note-sharing", step: "carol-cannot-read"}},
	// Two appends at once: the note must hold both lines.
	refserver.FaultLostAppend: {{scenario: "direct-note-sharing", step: "both-appends-kept"}},
	// The challenge must name every scope admin_purge needs, tools:call as well as admin.
	refserver.FaultPartialScopeChallenge: {{scenario: "direct-scope-step-up", step: "purge-needs-admin"}},
	// A deadlock never answers: the step times out (ERROR), and the goroutines that hold
	// the two locks are in the stacks the server printed on SIGQUIT.
	refserver.FaultDeadlockOnRevoke: {{scenario: "direct-upstream-revoke", step: "revoke-during-exchange", result: "ERROR",
		stacks: []string{"refserver.(*upstreams).forget(", "refserver.(*upstreams).refresh("}}},
}

// TestDirectSuiteCatchesEveryFault is the mutation check of the direct-mode scenarios: they
// pass against the reference protected server, and for every fault the server can be
// started with (--sut-args appends it to each scenario's sut command) the step meant to
// catch it is the first step of its scenario that fails. The faults come from the server
// itself, so a new one without a catcher fails here.
func TestDirectSuiteCatchesEveryFault(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the direct-mode scenarios once per fault; skipped under -short")
	}
	bin := testbin.Build(t)
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "direct-*.yaml"))
	if err != nil || len(files) < 12 {
		t.Fatalf("want at least 12 direct-mode scenarios in %s, found %d (%v)", dir, len(files), err)
	}
	base := []string{"--sut", "builtin", "--config", dir, "--tag", "direct"}

	t.Run("no-fault", func(t *testing.T) { allPass(t, runSuite(t, bin, base...), len(files)) })
	for _, f := range refserver.AllFaults {
		t.Run(string(f), func(t *testing.T) {
			wants := directCatchers[f]
			if len(wants) == 0 {
				t.Fatalf("fault %s has no catcher in directCatchers: write the scenario step that catches it", f)
			}
			results := runSuite(t, bin, append(base, "--sut-args", "--fault "+string(f))...)
			for _, r := range results {
				if r.Result != "PASSED" {
					t.Logf("%s %s: %s", r.Scenario.Name, r.Result, r.why())
				}
			}
			for _, want := range wants {
				i := slices.IndexFunc(results, func(r scenarioResult) bool { return r.Scenario.Name == want.scenario })
				if i < 0 {
					t.Errorf("fault %s: scenario %s was not run", f, want.scenario)
					continue
				}
				r := results[i]
				step, result, _ := r.firstFailure()
				wantResult := cmp.Or(want.result, "FAILED")
				if r.Result != wantResult || step != want.step || result != wantResult {
					t.Errorf("fault %s: %s is %s, first failing step %q (%s); want %s at step %q",
						f, want.scenario, r.Result, step, result, wantResult, want.step)
				}
				for _, fn := range want.stacks {
					if !strings.Contains(r.AfterSignal, fn) {
						t.Errorf("fault %s: the SUT's output after the on_timeout signal does not name %s:\n%s", f, fn, tail([]byte(r.AfterSignal)))
					}
				}
			}
		})
	}
}

// TestDirectScenariosAreTagged: the mutation check selects the direct-mode scenarios by
// tag and the other one leaves them out by file name; both must name the same files.
func TestDirectScenariosAreTagged(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		set := testtools.Loader().LoadPaths(f)
		if len(set.Errors) > 0 || len(set.Scenarios) != 1 {
			t.Fatalf("%s: %d scenarios, errors %v", f, len(set.Scenarios), set.Errors)
		}
		sc := set.Scenarios[0]
		tagged := slices.Contains(sc.Tags, "direct")
		if tagged != isDirect(f) || (sc.SUT != nil) != isDirect(f) {
			t.Errorf("%s: tag direct %v, sut block %v; a direct-mode scenario is named direct-*.yaml, tagged direct and has a sut block",
				f, tagged, sc.SUT != nil)
		}
	}
}
