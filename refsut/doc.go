// Package refsut is the reference system under test of muster-test: an MCP aggregator
// that speaks muster's `serve` contract (docs/muster-contract.md, §9: where it differs), so the
// built-in scenario suite runs on a machine where muster is not installed.
//
// It reads muster's configuration directory (config.yaml and mcpservers/*.yaml), connects to
// the configured upstream MCP servers (streamable HTTP, SSE, stdio), and exposes their tools
// as x_<prefix>_<tool> on one streamable HTTP endpoint. Upstreams that answer 401 are reached
// through an OAuth proxy: PKCE login per MCP session, tokens keyed by (session, issuer) so that
// one login covers every server of an issuer within a session, refresh on expiry or 401.
//
// Protected mode (aggregator.oauth.server.enabled, off by default; docs/muster-contract.md
// §10) goes beyond the January muster it copies: the gateway is itself an OAuth resource
// server of one IdP, each MCP session belongs to the token subject that opened it, `state`
// is an opaque nonce, and a login completes only in the browser that started it.
//
// Faults (see Fault) make it misbehave in one named way each; they exist only so that the
// scenario suite can prove it catches such a gateway, and are off unless asked for.
package refsut
