package scenarios_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/muster-test/muster-test/internal/testbin"
	"github.com/muster-test/muster-test/internal/testtools"
	"github.com/muster-test/muster-test/refserver"
)

// directCatchers names, for each fault of the reference protected server, the built-in
// scenario and step written to catch it. A fault that only some unrelated step trips over
// (a login that happens to break) is not caught in the sense that matters: a user reading
// the report must see the check that names the bug.
var directCatchers = map[refserver.Fault]struct{ scenario, step string }{
	refserver.FaultNoAudienceCheck:         {"direct-token-audience", "wrong-audience-refused"},
	refserver.FaultExpiredTokenAccepted:    {"direct-token-expired", "expired-refused"},
	refserver.FaultToolsListUnfiltered:     {"direct-seed004-walk", "carol-sees-export"},
	refserver.FaultToolsCallNotRechecked:   {"direct-seed004-walk", "alice-cannot-export"},
	refserver.FaultPRMResourceWrong:        {"direct-discovery", "discover"},
	refserver.FaultNoWWWAuthenticate:       {"direct-discovery", "challenge"},
	refserver.Fault401ForInsufficientScope: {"direct-insufficient-scope", "no-tools-scope-refused"},
	refserver.FaultTokenInQueryAccepted:    {"direct-token-in-query", "query-token-refused"},
	refserver.FaultDenialsNotAudited:       {"direct-seed004-walk", "denial-audited"},
	refserver.FaultSessionNotBound:         {"direct-session-binding", "bob-on-alice-session-refused"},
	refserver.FaultNoContextCache:          {"direct-context-cache", "one-lookup"},
	refserver.FaultCacheIgnoresTTL:         {"direct-context-cache", "revoked-refused-after-ttl"},
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
			want, ok := directCatchers[f]
			if !ok {
				t.Fatalf("fault %s has no catcher in directCatchers: write the scenario step that catches it", f)
			}
			results := runSuite(t, bin, append(base, "--sut-args", "--fault "+string(f))...)
			found := false
			for _, r := range results {
				if r.Result != "PASSED" {
					t.Logf("%s %s: %s", r.Scenario.Name, r.Result, r.why())
				}
				if r.Scenario.Name != want.scenario {
					continue
				}
				found = true
				step, result, _ := r.firstFailure()
				if r.Result != "FAILED" || step != want.step || result != "FAILED" {
					t.Errorf("fault %s: %s is %s, first failing step %q (%s); want FAILED at step %q",
						f, want.scenario, r.Result, step, result, want.step)
				}
			}
			if !found {
				t.Errorf("fault %s: scenario %s was not run", f, want.scenario)
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
