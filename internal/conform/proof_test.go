package conform

import (
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/testbin"
	"github.com/muster-test/muster-test/refserver"
	"github.com/muster-test/muster-test/refsut"
)

// referenceConfig starts the reference protected server for each check, trusting the
// check's mock IdP: the example users copy.
const referenceConfig = "../../conform/examples/reference-server.yaml"

// healthyShortfalls is what the healthy reference server does not meet: the mock IdP does
// not say it sends iss in authorization responses (RFC 9207), a SHOULD.
var healthyShortfalls = []string{"as-iss-parameter"}

// faultChecks names, for each fault of the reference server, the checks written to catch
// it: exactly these (besides healthyShortfalls) must fail or warn with it. The faults of
// the server's own tenant policy and audit log are no requirement of the spec: no check
// is meant for them, and none may trip over them.
var faultChecks = map[refserver.Fault][]string{
	refserver.FaultNoAudienceCheck:       {"token-wrong-audience-refused"},
	refserver.FaultExpiredTokenAccepted:  {"token-expired-refused"},
	refserver.FaultToolsListUnfiltered:   {},
	refserver.FaultToolsCallNotRechecked: {},
	refserver.FaultPRMResourceWrong:      {"prm-resource-matches"},
	// insufficient-scope-all-scopes reads its scopes from a 403's challenge: a 401 has none.
	refserver.Fault401ForInsufficientScope: {"insufficient-scope-403", "insufficient-scope-all-scopes"},
	refserver.FaultTokenInQueryAccepted:    {"token-in-query-refused"},
	refserver.FaultDenialsNotAudited:       {},
	refserver.FaultSessionNotBound:         {"session-bound-to-user"},
	// How long an introspection answer is reused is the server's choice, not the spec's:
	// the built-in scenario direct-context-cache catches these.
	refserver.FaultNoContextCache:  {},
	refserver.FaultCacheIgnoresTTL: {},
	// Upstream tokens are the server's own business: the built-in scenarios
	// direct-upstream-* catch these.
	refserver.FaultGlobalRefreshLock:    {},
	refserver.FaultNoRefreshDoubleCheck: {},
	refserver.FaultLockLeak:             {},
	refserver.FaultDeadlockOnRevoke:     {},
	// Who may read a user's notes is the server's policy (served with --store only): the
	// built-in scenario direct-note-sharing catches it.
	refserver.FaultSharingNotEnforced:    {},
	refserver.FaultLostAppend:            {},
	refserver.FaultPartialScopeChallenge: {"insufficient-scope-all-scopes"},
	// Without a challenge every check that reads one fails: the Bearer challenge is a
	// MUST of RFC 6750 §3, so each refusal without it is refused wrongly.
	refserver.FaultNoWWWAuthenticate: {"www-authenticate-bearer", "www-authenticate-resource-metadata", "challenge-scope",
		"unknown-token-refused", "malformed-authorization-header-invalid-request", "token-expired-refused", "token-not-yet-valid-refused",
		"token-wrong-audience-refused", "token-other-issuer-refused", "token-bad-signature-refused", "token-alg-none-refused",
		"invalid-token-challenge", "insufficient-scope-challenge", "insufficient-scope-all-scopes"},
}

// gatewayPredicted is what the reference SUT fails in its default mode: it copies a
// January 2026 muster design, where the gateway does not authenticate its clients and the
// session id travels inside the OAuth state. In protected mode (--gateway-auth) it fails
// none.
var gatewayPredicted = []string{"gateway-session-id-not-credential", "gateway-state-opaque", "gateway-login-csrf"}

// gatewayFaultChecks is faultChecks for the reference SUT's faults and the gateway checks,
// in its default mode. Refresh, single flight, _meta and logout are behaviours of muster's
// contract, not requirements of the spec: the built-in suite catches them.
var gatewayFaultChecks = map[refsut.Fault][]string{
	refsut.FaultSkipPKCE:              {"gateway-pkce-s256"},
	refsut.FaultSkipStateCheck:        {"gateway-callback-state-checked"},
	refsut.FaultSharedTokens:          {"gateway-login-per-session"},
	refsut.FaultNoRefresh:             {},
	refsut.FaultNoSingleFlight:        {},
	refsut.FaultNoMeta:                {},
	refsut.FaultIgnoreCallbackError:   {},
	refsut.FaultStaleToolsAfterLogout: {},
	// A lock held across proxied calls is a concurrency bug, not a spec requirement: the
	// built-in scenario concurrent-slow-call-isolation catches it.
	refsut.FaultGlobalCallLock: {},
	// Protected-mode faults: the default mode lacks these protections anyway
	// (gatewayPredicted); protectedFaultChecks holds what they break.
	refsut.FaultUnboundSessions:     {},
	refsut.FaultUnboundLogin:        {},
	refsut.FaultReadableState:       {},
	refsut.FaultNoResourceAuthorize: {"gateway-resource-parameter"},
	refsut.FaultNoResourceToken:     {"gateway-resource-parameter"},
}

// protectedFaultChecks is gatewayFaultChecks in protected mode, where the gateway
// authenticates its clients: each protection the default mode lacks has its fault, which
// fails exactly the check of that protection.
var protectedFaultChecks = func() map[refsut.Fault][]string {
	m := maps.Clone(gatewayFaultChecks)
	m[refsut.FaultUnboundSessions] = []string{"gateway-session-id-not-credential"}
	m[refsut.FaultUnboundLogin] = []string{"gateway-login-csrf"}
	m[refsut.FaultReadableState] = []string{"gateway-state-opaque"}
	return m
}()

// shortfalls lists the checks that failed or warned, sorted.
func shortfalls(res *Result) []string {
	var out []string
	for _, o := range res.Outcomes {
		if o.Verdict == Fail || o.Verdict == Warn {
			out = append(out, o.Check.ID)
		}
	}
	slices.Sort(out)
	return out
}

// assertShortfalls runs conform and holds what failed or warned to want (any order).
// Against a gateway, every gateway check must also have run to a verdict: N/A there would
// mean a check that could not set itself up, and so proved nothing.
func assertShortfalls(t *testing.T, opts Options, want []string) {
	t.Helper()
	res, code, out := conformRun(t, opts)
	if res == nil {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	want = slices.Sorted(slices.Values(want))
	if got := shortfalls(res); !slices.Equal(got, want) {
		t.Errorf("failed or warned %v\nwant %v\n%s", got, want, out)
	}
	for _, o := range res.Outcomes {
		if opts.Gateway != "" && o.Check.needs(NeedsGateway) && o.Verdict == NA {
			t.Errorf("%s: N/A: %s", o.Check.ID, o.Reason)
		}
	}
}

// TestReferenceServerProof: run as a user runs it, the whole catalogue passes every MUST
// of the healthy reference server (exit 0, the report says so); then, for every fault the
// server can be started with, exactly the checks meant for it fail or warn.
func TestReferenceServerProof(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the catalogue once per reference-server fault; skipped under -short")
	}
	bin := testbin.Build(t)
	t.Run("healthy", func(t *testing.T) {
		dir := t.TempDir()
		cmd := exec.Command(bin, "conform", "--config", referenceConfig, "--no-color", "--report", dir,
			"--junit", filepath.Join(dir, "junit.xml"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		reports, _ := filepath.Glob(filepath.Join(dir, "muster-test-conform-*.json"))
		if len(reports) != 1 {
			t.Fatalf("reports %v\n%s", reports, out)
		}
		raw, _ := os.ReadFile(reports[0])
		var doc struct {
			Checks []struct {
				ID      string  `json:"id"`
				Level   Level   `json:"level"`
				Verdict Verdict `json:"verdict"`
			} `json:"checks"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		var short []string
		for _, c := range doc.Checks {
			gateway := strings.HasPrefix(c.ID, "gateway-")
			if c.Level == Must && !gateway && c.Verdict != Pass || gateway && c.Verdict != NA {
				t.Errorf("%s %s: %s", c.Level, c.ID, c.Verdict)
			}
			if c.Verdict == Fail || c.Verdict == Warn {
				short = append(short, c.ID)
			}
		}
		if len(doc.Checks) != len(mustLoad(t).Checks) || !slices.Equal(short, healthyShortfalls) {
			t.Errorf("%d checks, not passed %v, want %v\n%s", len(doc.Checks), short, healthyShortfalls, out)
		}
		if !strings.Contains(string(out), "grade: PASS: all 25 applicable MUSTs met") {
			t.Errorf("summary:\n%s", out)
		}
	})
	for _, f := range refserver.AllFaults {
		t.Run(string(f), func(t *testing.T) {
			want, ok := faultChecks[f]
			if !ok {
				t.Fatalf("fault %s is not in faultChecks: name the checks meant to catch it (or none)", f)
			}
			assertShortfalls(t, Options{ConfigFile: referenceConfig, Self: bin, SUTArgs: []string{"--fault", string(f)},
				ReadyTimeout: 30 * time.Second}, append(slices.Clone(want), healthyShortfalls...))
		})
	}
}

// TestReferenceSUTGatewayProof: the gateway checks against the reference SUT in its
// muster-compatible default mode fail exactly as predicted (a session id is a credential
// there, the state carries it readably, a login completed by another user agent lands in
// the session), and in protected mode (--gateway-auth: the checks' users log in to the
// gateway first) all of them pass; in either mode each fault that breaks a requirement
// fails exactly the check written for it.
func TestReferenceSUTGatewayProof(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the gateway checks once per reference-SUT fault and mode; skipped under -short")
	}
	bin := testbin.Build(t)
	for _, mode := range []struct {
		name      string
		auth      bool
		predicted []string
		faults    map[refsut.Fault][]string
	}{
		{"default", false, gatewayPredicted, gatewayFaultChecks},
		{"protected", true, nil, protectedFaultChecks},
	} {
		t.Run(mode.name, func(t *testing.T) {
			opts := Options{Gateway: "builtin", GatewayAuth: mode.auth, Self: bin, ReadyTimeout: 30 * time.Second}
			t.Run("healthy", func(t *testing.T) { assertShortfalls(t, opts, mode.predicted) })
			for _, f := range refsut.AllFaults {
				t.Run(string(f), func(t *testing.T) {
					want, ok := mode.faults[f]
					if !ok {
						t.Fatalf("fault %s is not in the %s mode's table: name the checks meant to catch it (or none)", f, mode.name)
					}
					faulty := opts
					faulty.SUTArgs = []string{"--fault", string(f)}
					assertShortfalls(t, faulty, append(slices.Clone(want), mode.predicted...))
				})
			}
		})
	}
}
