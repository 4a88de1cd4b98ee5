package refserver

import (
	"fmt"
	"slices"
	"strings"
)

// Fault names one deliberate bug of the reference server. It exists only so that a test
// can prove a scenario catches a resource server that has it; a correct server has none.
type Fault string

// The faults the reference server knows.
const (
	FaultNoAudienceCheck         Fault = "no-audience-check"          // tokens for any audience accepted
	FaultExpiredTokenAccepted    Fault = "expired-token-accepted"     // a JWT's exp is not checked
	FaultToolsListUnfiltered     Fault = "tools-list-unfiltered"      // tools/list shows every tenant's tools
	FaultToolsCallNotRechecked   Fault = "tools-call-not-rechecked"   // tools/call runs another tenant's tool
	FaultPRMResourceWrong        Fault = "prm-resource-wrong"         // PRM resource is the origin, not the MCP URL
	FaultNoWWWAuthenticate       Fault = "no-www-authenticate"        // 401 and 403 without WWW-Authenticate
	Fault401ForInsufficientScope Fault = "401-for-insufficient-scope" // a missing scope answers 401, not 403
	FaultTokenInQueryAccepted    Fault = "token-in-query-accepted"    // ?access_token= is taken as the token
	FaultDenialsNotAudited       Fault = "denials-not-audited"        // refused calls leave no audit record
	FaultSessionNotBound         Fault = "session-not-bound"          // another user's token may use a session
	FaultNoContextCache          Fault = "no-context-cache"           // introspection and userinfo asked on every request
	FaultCacheIgnoresTTL         Fault = "cache-ignores-ttl"          // a cached introspection or userinfo answer never expires
	FaultGlobalRefreshLock       Fault = "global-refresh-lock"        // one lock for every user's upstream exchange, held across it
	FaultNoRefreshDoubleCheck    Fault = "no-refresh-double-check"    // every waiter for a user's lock exchanges again
	FaultLockLeak                Fault = "lock-leak"                  // users' locks are never removed
	FaultDeadlockOnRevoke        Fault = "deadlock-on-revoke"         // upstream_revoke takes the two locks in refresh's opposite order
	FaultSharingNotEnforced      Fault = "sharing-not-enforced"       // any user reads, edits, shares and deletes any user's notes and files
	FaultPartialScopeChallenge   Fault = "partial-scope-challenge"    // an insufficient_scope challenge names one missing scope, not all needed
	FaultLostAppend              Fault = "lost-append"                // append_note reads, waits for another append, writes what it read: appends made at once are lost
)

// AllFaults lists every fault, in documentation order.
var AllFaults = []Fault{
	FaultNoAudienceCheck, FaultExpiredTokenAccepted, FaultToolsListUnfiltered, FaultToolsCallNotRechecked,
	FaultPRMResourceWrong, FaultNoWWWAuthenticate, Fault401ForInsufficientScope, FaultTokenInQueryAccepted,
	FaultDenialsNotAudited, FaultSessionNotBound, FaultNoContextCache, FaultCacheIgnoresTTL,
	FaultGlobalRefreshLock, FaultNoRefreshDoubleCheck, FaultLockLeak, FaultDeadlockOnRevoke, FaultSharingNotEnforced,
	FaultPartialScopeChallenge, FaultLostAppend,
}

// Faults is a set of active faults; the zero value has none.
type Faults map[Fault]bool

// ParseFault checks a fault name.
func ParseFault(name string) (Fault, error) {
	if f := Fault(name); slices.Contains(AllFaults, f) {
		return f, nil
	}
	return "", fmt.Errorf("unknown fault %q (known: %s)", name, faultList())
}

func faultList() string {
	names := make([]string, len(AllFaults))
	for i, f := range AllFaults {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}
