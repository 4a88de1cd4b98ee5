// Package refserver is the reference protected server of muster-test: an MCP server
// (streamable HTTP, mcp-go) that is an OAuth resource server, so that direct-mode
// scenarios, which test any protected MCP server, have a correct one to run against and,
// with faults, incorrect ones that they must catch.
//
// It trusts one mock IdP: an issuer given by URL (its JWKS, or RFC 7662 introspection),
// or a mocks/idp server mounted on its own origin (WithAS, with refserver/mountidp), so
// that one process is both the authorization server and the resource server. This package
// does not import the mock IdP: muster-test-child serves --issuer without linking fosite.
// Behaviour:
//
//   - every request to /mcp needs `Authorization: Bearer` with a token from that issuer,
//     for the audience http://127.0.0.1:PORT/mcp, unexpired, with the base scope
//     (tools:call). No token: 401 with resource_metadata and scope and no error code; a
//     bad token: 401 invalid_token; a missing scope: 403 insufficient_scope naming every
//     scope the request needs; a token in the query string or a malformed Authorization
//     header: 400 invalid_request;
//   - the RFC 9728 metadata at /.well-known/oauth-protected-resource[/mcp];
//   - tools filtered per tenant claim in tools/list and re-checked on tools/call (another
//     tenant's tool is answered as unknown); admin_purge also needs the admin scope;
//   - with introspection, each token's active answer (the user's context) is reused for
//     ContextTTL on the clock of token lifetimes, and concurrent first calls with one token
//     share one introspection; a revoked token is served until its answer expires; with
//     the context from userinfo, the same per user. The clock of token lifetimes is the
//     server's, the mounted IdP's, or with ClockIssuer the issuer's as the Date header of
//     its answers tells it, so that advancing a mock IdP's clock expires tokens and cache
//     entries here too (see issuerClock);
//   - with an upstream IdP, the upstream tools hold a token per user there, obtained by
//     token exchange under a lock of that user's (see upstreams);
//   - with Store, notes and files that each user keeps and shares with other users by
//     subject (a mocks/kvstore per kind, versioned writes; see collection);
//   - a legacy MCP session is bound to the subject that opened it;
//   - a request naming a host that is not loopback is refused (mocks/hostguard);
//   - every tools/call, allowed or refused, is appended to a JSONL audit log before the
//     call is answered.
//
// Faults (see Fault) each break one of these on purpose, for mutation tests only.
package refserver
