// Package mcpserver runs mock upstream MCP servers, the servers a gateway under test
// aggregates, in the style of net/http/httptest: Start one on a loopback port, hand its
// URL to the system under test, inspect its call log, Close it.
//
// A mock serves the tools of a Config (a Go literal, or YAML read with ConfigFromYAML or
// LoadConfigFile) over one of three transports, all provided by github.com/mark3labs/mcp-go:
//
//   - streamable HTTP at /mcp, both protocol eras mcp-go serves: the legacy session-based
//     one (initialize, Mcp-Session-Id; what muster speaks) and the stateless 2026-07-28 one;
//   - SSE at /sse with messages posted to /message;
//   - stdio (ServeStdio), for `muster-test --mock-mcp-server --mock-config FILE`; or
//     served in this process to the stdio relay a SUT starts, `muster-test-relay --connect
//     ADDR`, one fresh server per connection (StartRelayed).
//
// With OAuth.Required every HTTP request but the Protected Resource Metadata documents
// needs a bearer token that the configured Authority vouches for. Token validation is
// delegated to that interface so that the package knows nothing of a particular IdP; the
// scenario runner adapts its mock IdP to it. Missing, invalid, expired, revoked tokens and
// tokens for another audience get 401 with an RFC 6750/9728 WWW-Authenticate challenge; a
// token without the required scope gets 403 insufficient_scope. The scope is checked on
// every request, not per tool: a gateway connects (initialize) with the same token it later
// calls tools with, and a per-request check makes the failure visible at connect time.
//
// A JWT access token must carry an iss claim equal to the Authority's Issuer. The audience
// is enforced only when OAuth.Audience (or ExpectedAudience) is configured: muster's OAuth
// client (January) sends no RFC 8707 resource parameter, so by default its tokens name no
// audience to check.
//
// Tool responses: the first response whose condition matches the call's arguments (with
// the schema's defaults applied) is rendered with its {{ arg }} templates; a configured
// error becomes an isError result; a template naming an argument that has neither a value
// nor a default makes the call an isError result naming it. With echo_token the text is
// {"response": <rendered>, "token": ..., "subject": ..., "scopes": [...], "audience": [...],
// "client_id": ...} (client_id only when known).
//
// A tool with a StoreConfig puts, gets, deletes, lists or appends to entries of the
// server's own in-memory key-value store (a mocks/kvstore.Store; optionally versioned: a
// put or delete with if_version is refused as a version conflict when the entry moved on;
// an append needs no version and never loses another), so that calls of different
// sessions see each other's writes; a missing key is a tool error.
//
// Tools can be added and removed while an HTTP mock runs; connected clients receive
// notifications/tools/list_changed. Every tools/call is logged with the caller's identity
// (Calls, CallsTo). Subpackage authtest provides an in-memory Authority for tests.
package mcpserver
