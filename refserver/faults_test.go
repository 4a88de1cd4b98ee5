package refserver_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/refserver"
	"github.com/muster-test/muster-test/refserver/mountidp"
)

var initParams = map[string]any{"protocolVersion": "2025-06-18", "capabilities": map[string]any{},
	"clientInfo": map[string]any{"name": "probe", "version": "1"}}

// faultProbes each send the request a healthy server refuses or handles correctly and
// report whether the answer shows the fault's bug.
var faultProbes = map[refserver.Fault]func(t *testing.T, e env) bool{
	refserver.FaultNoAudienceCheck: func(t *testing.T, e env) bool {
		tok := e.token(t, grant{sub: "alice", aud: []string{"http://127.0.0.1:1/mcp"}})
		return e.rpc(t, "/mcp", tok, "", "initialize", initParams).status == http.StatusOK
	},
	refserver.FaultExpiredTokenAccepted: func(t *testing.T, e env) bool {
		tok := e.token(t, grant{sub: "alice", lifetime: time.Minute})
		mountidp.IdP(e.s).Clock().Advance(2 * time.Minute)
		return e.rpc(t, "/mcp", tok, "", "initialize", initParams).status == http.StatusOK
	},
	refserver.FaultToolsListUnfiltered: func(t *testing.T, e env) bool {
		for _, name := range toolNames(t, e.connect(t, e.alice(t))) {
			if name == refserver.ToolExportReport {
				return true
			}
		}
		return false
	},
	refserver.FaultToolsCallNotRechecked: func(t *testing.T, e env) bool {
		_, isErr, err := call(e.connect(t, e.alice(t)), refserver.ToolExportReport, map[string]any{"reportId": "r1"})
		return err == nil && !isErr
	},
	refserver.FaultPRMResourceWrong: func(t *testing.T, e env) bool {
		req, _ := http.NewRequest(http.MethodGet, e.s.PRMURL(), nil)
		return do(t, req).body["resource"] != e.s.URL()
	},
	refserver.FaultNoWWWAuthenticate: func(t *testing.T, e env) bool {
		a := e.rpc(t, "/mcp", "", "", "initialize", initParams)
		return a.status == http.StatusUnauthorized && a.challenge() == ""
	},
	refserver.Fault401ForInsufficientScope: func(t *testing.T, e env) bool {
		bob := e.token(t, grant{sub: "bob"})
		a := e.rpc(t, "/mcp", bob, e.initialize(t, bob), "tools/call", toolCall(refserver.ToolAdminPurge, map[string]any{"confirm": true}))
		return a.status == http.StatusUnauthorized
	},
	refserver.FaultTokenInQueryAccepted: func(t *testing.T, e env) bool {
		return e.rpc(t, "/mcp?access_token="+e.alice(t), "", "", "initialize", initParams).status == http.StatusOK
	},
	refserver.FaultDenialsNotAudited: func(t *testing.T, e env) bool {
		_, _, _ = call(e.connect(t, e.alice(t)), refserver.ToolExportReport, map[string]any{"reportId": "r1"})
		for _, r := range e.auditRecords(t) {
			if r.Decision == refserver.DecisionDeny && r.Tool == refserver.ToolExportReport {
				return false
			}
		}
		return true
	},
	refserver.FaultPartialScopeChallenge: func(t *testing.T, e env) bool {
		tok := e.token(t, grant{sub: "alice", scopes: []string{"openid"}})
		a := e.rpc(t, "/mcp", tok, "", "tools/call", toolCall(refserver.ToolAdminPurge, map[string]any{}))
		return a.status == http.StatusForbidden && !strings.Contains(a.challenge(), `scope="tools:call admin"`)
	},
	refserver.FaultSessionNotBound: func(t *testing.T, e env) bool {
		session := e.initialize(t, e.alice(t))
		return e.rpc(t, "/mcp", e.token(t, grant{sub: "bob"}), session, "tools/list", nil).status == http.StatusOK
	},
}

// TestFaults proves each fault observable: its probe sees the bug with the fault on and
// not with it off, so a scenario that sends the same request can catch it.
func TestFaults(t *testing.T) {
	for _, f := range refserver.AllFaults {
		probe, onCache, onUpstream, onStore := faultProbes[f], cacheFaultProbes[f], upstreamFaultProbes[f], storeFaultProbes[f]
		if probe == nil && onCache == nil && onUpstream == nil && onStore == nil {
			t.Errorf("fault %s has no probe", f)
			continue
		}
		t.Run(string(f), func(t *testing.T) {
			shows := func(faults ...refserver.Fault) bool {
				switch {
				case onCache != nil:
					e, i := cached(t, faults...)
					return onCache(t, e, i)
				case onUpstream != nil:
					return onUpstream(t, faults...)
				case onStore != nil:
					return onStore(t, faults...)
				}
				return probe(t, start(t, faults...))
			}
			if shows() {
				t.Error("a healthy server shows the bug")
			}
			if !shows(f) {
				t.Error("the fault does not show")
			}
		})
	}
	if n := len(faultProbes) + len(cacheFaultProbes) + len(upstreamFaultProbes) + len(storeFaultProbes); n != len(refserver.AllFaults) {
		t.Errorf("%d probes for %d faults", n, len(refserver.AllFaults))
	}
}

func TestParseFault(t *testing.T) {
	for _, f := range refserver.AllFaults {
		if got, err := refserver.ParseFault(string(f)); err != nil || got != f {
			t.Errorf("ParseFault(%s) = %v, %v", f, got, err)
		}
	}
	if _, err := refserver.ParseFault("no-such-fault"); err == nil {
		t.Error("unknown fault accepted")
	}
}
