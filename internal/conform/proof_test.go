package conform

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/testbin"
	"github.com/muster-test/muster-test/refserver"
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
	refserver.FaultNoAudienceCheck:         {"token-wrong-audience-refused"},
	refserver.FaultExpiredTokenAccepted:    {"token-expired-refused"},
	refserver.FaultToolsListUnfiltered:     {},
	refserver.FaultToolsCallNotRechecked:   {},
	refserver.FaultPRMResourceWrong:        {"prm-resource-matches"},
	refserver.Fault401ForInsufficientScope: {"insufficient-scope-403"},
	refserver.FaultTokenInQueryAccepted:    {"token-in-query-refused"},
	refserver.FaultDenialsNotAudited:       {},
	refserver.FaultSessionNotBound:         {"session-bound-to-user"},
	// Without a challenge every check that reads one fails: the Bearer challenge is a
	// MUST of RFC 6750 §3, so each refusal without it is refused wrongly.
	refserver.FaultNoWWWAuthenticate: {"www-authenticate-bearer", "www-authenticate-resource-metadata", "challenge-scope",
		"unknown-token-refused", "malformed-authorization-header", "token-expired-refused", "token-not-yet-valid-refused",
		"token-wrong-audience-refused", "token-other-issuer-refused", "token-bad-signature-refused", "token-alg-none-refused",
		"invalid-token-challenge", "insufficient-scope-challenge"},
}

// shortfalls lists the checks that did not pass, in catalogue order.
func shortfalls(res *Result) []string {
	var out []string
	for _, o := range res.Outcomes {
		if o.Verdict != Pass {
			out = append(out, o.Check.ID)
		}
	}
	return out
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
			if c.Level == Must && c.Verdict != Pass {
				t.Errorf("MUST %s: %s", c.ID, c.Verdict)
			}
			if c.Verdict != Pass {
				short = append(short, c.ID)
			}
		}
		if len(doc.Checks) != len(mustLoad(t).Checks) || !slices.Equal(short, healthyShortfalls) {
			t.Errorf("%d checks, not passed %v, want %v\n%s", len(doc.Checks), short, healthyShortfalls, out)
		}
		if !strings.Contains(string(out), "grade: PASS: all 26 applicable MUSTs met") {
			t.Errorf("summary:\n%s", out)
		}
	})
	for _, f := range refserver.AllFaults {
		t.Run(string(f), func(t *testing.T) {
			want, ok := faultChecks[f]
			if !ok {
				t.Fatalf("fault %s is not in faultChecks: name the checks meant to catch it (or none)", f)
			}
			want = append(slices.Clone(want), healthyShortfalls...)
			res, code, out := conformRun(t, Options{ConfigFile: referenceConfig, Self: bin,
				SUTArgs: []string{"--fault", string(f)}, ReadyTimeout: 30 * time.Second})
			if res == nil {
				t.Fatalf("exit %d:\n%s", code, out)
			}
			got := shortfalls(res)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("fault %s: not passed %v\nwant %v\n%s", f, got, want, out)
			}
			if wantCode := map[bool]int{true: 1, false: 0}[len(want) > len(healthyShortfalls)]; code != wantCode {
				t.Errorf("exit %d, want %d", code, wantCode)
			}
		})
	}
}
