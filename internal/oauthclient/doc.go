// Package oauthclient is the runner's own OAuth client of an MCP server: the client side of
// MCP authorization (2025-06-18 and later), built so that every phase can be watched and
// each can be made to misbehave on purpose.
//
// A Client serves one MCP server. Discover sends one unauthenticated MCP request and
// follows the answer: the WWW-Authenticate challenge (parsed by ParseWWWAuthenticate), the
// protected resource metadata (RFC 9728: the challenge's resource_metadata, else the
// path-inserted, then the root well-known URL) and the authorization server metadata
// (RFC 8414 with path insertion, then OpenID discovery), each kept as received with the URL
// it came from, and a list of Problems. Every document is capped at 1 MiB.
//
// Login then registers (a pre-registered client, a client ID metadata document served by
// the client on 127.0.0.1, or RFC 7591 dynamic registration), runs the authorization code
// grant with PKCE S256 and the RFC 8707 resource through a headless browser (redirects,
// login and consent forms filled from User, a cookie jar), checks state and the RFC 9207
// iss, and exchanges the code (golang.org/x/oauth2). Connect opens an mcp-go streamable
// HTTP session whose requests carry the token: an expired token is refreshed, a 401 leads
// to a refresh or a new login, a 403 insufficient_scope to a step-up authorization.
//
// Every HTTP request and check is recorded as a Phase (Phases, Result.Phases,
// Config.OnPhase). Faults make the client skip PKCE, send a wrong verifier, omit the
// resource or the state, accept a forged state, ignore iss, and so on, for negative checks
// of a server.
package oauthclient
