package refsut

import (
	"fmt"
	"slices"
	"strings"
)

// Fault names one deliberate misbehaviour, for mutation testing of the scenario suite only.
// A correct gateway never shows any of them; each exists so a test can prove it is caught.
type Fault string

// The faults the aggregator knows.
const (
	FaultSkipPKCE              Fault = "skip-pkce"                // no code_challenge in the authorize URL
	FaultSkipStateCheck        Fault = "skip-state-check"         // callback accepts any state
	FaultSharedTokens          Fault = "shared-tokens"            // tokens visible to every session
	FaultNoRefresh             Fault = "no-refresh"               // never refresh a token
	FaultNoSingleFlight        Fault = "no-single-flight"         // each concurrent call refreshes on its own
	FaultNoMeta                Fault = "no-meta"                  // no _meta on tool results
	FaultIgnoreCallbackError   Fault = "ignore-callback-error"    // error= callback shows the success page
	FaultStaleToolsAfterLogout Fault = "stale-tools-after-logout" // logout leaves the tools listed and callable
	FaultGlobalCallLock        Fault = "global-call-lock"         // one lock held across every proxied call
	FaultUnboundSessions       Fault = "unbound-sessions"         // protected mode: any subject's token may use any session id
	FaultUnboundLogin          Fault = "unbound-login"            // protected mode: any browser may deliver a login's callback
	FaultReadableState         Fault = "readable-state"           // protected mode: state is muster's base64 JSON again
	FaultNoResourceAuthorize   Fault = "no-resource-authorize"    // no RFC 8707 resource in the authorization URL
	FaultNoResourceToken       Fault = "no-resource-token"        // no RFC 8707 resource in the token request that redeems the code
)

// AllFaults lists every fault, in documentation order.
var AllFaults = []Fault{
	FaultSkipPKCE, FaultSkipStateCheck, FaultSharedTokens, FaultNoRefresh,
	FaultNoSingleFlight, FaultNoMeta, FaultIgnoreCallbackError, FaultStaleToolsAfterLogout,
	FaultGlobalCallLock,
	FaultUnboundSessions, FaultUnboundLogin, FaultReadableState,
	FaultNoResourceAuthorize, FaultNoResourceToken,
}

// Faults is a set of active faults; the zero value has none.
type Faults map[Fault]bool

// ParseFault checks a fault name.
func ParseFault(name string) (Fault, error) {
	f := Fault(name)
	if !slices.Contains(AllFaults, f) {
		names := make([]string, len(AllFaults))
		for i, a := range AllFaults {
			names[i] = string(a)
		}
		return "", fmt.Errorf("unknown fault %q (known: %s)", name, strings.Join(names, ", "))
	}
	return f, nil
}

func (f Faults) has(x Fault) bool { return f[x] }

// serialize is FaultGlobalCallLock: one mutex held across each proxied call's round trip to
// its upstream, so that one slow call holds up every other user's. It returns the unlock.
func (a *Aggregator) serialize() func() {
	if !a.faults.has(FaultGlobalCallLock) {
		return func() {}
	}
	a.callMu.Lock()
	return a.callMu.Unlock
}
