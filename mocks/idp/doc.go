// Package idp is a strict OAuth 2.1 / OpenID Connect mock identity provider for tests.
//
// It is built on fosite (authorization code + PKCE, refresh with rotation and reuse
// detection, client credentials, introspection, revocation, OpenID Connect) and adds what
// fosite lacks: RFC 8414 / OIDC discovery, JWKS, userinfo, RFC 7591 registration, Client ID
// Metadata Documents, RFC 8693 token exchange, a controllable clock and fault injection.
// It is deliberately not lax: a broken client must fail against it the way it would against
// a real authorization server.
//
// Use it like httptest: Start returns a running *Server on 127.0.0.1; Close stops it.
// Mount builds one without a listener, whose Handler another server serves on its own
// origin (a resource server that is its own authorization server).
// The package knows nothing of scenarios: a Config is a Go literal, or YAML read with
// ConfigFromYAML (a scenario loader decodes into the same type).
// Like the mock MCP servers it answers only requests addressed to a loopback host
// (localhost, 127.0.0.1, [::1]); any other Host gets 403 (DNS-rebinding guard).
//
// # Consent page
//
// With AutoApprove false, GET /authorize answers 200 with an HTML page holding one form
// (id "consent", method POST, action "/authorize"). A program approves or denies by posting
// that form back: every original authorization parameter is echoed as a hidden field of
// the same name, plus
//
//	subject  the user to log in as (text field; pre-filled from login_hint or the first user)
//	action   "approve" or "deny"
//
// Deny redirects to the client with error=access_denied and the request's state.
//
// By default the form accepts a POST from anywhere. With Config.ConsentCSRF the page also
// sets a cookie and carries a hidden field csrf_token derived from it; a POST whose token is
// missing or does not match its cookie is refused with 403 access_denied, no redirect.
//
// A user with Scopes is granted only those of the requested scopes (the rest are left out
// of the grant, not refused).
//
// Only declared users log in (Config.Users, or AddUser at run time): an authorization for
// any other subject, from login_hint or the subject field, is redirected back with
// error=access_denied and an error_description naming the subject, with or without consent.
//
// # Clock
//
// fosite stamps expiry with time.Now and validates with time.Now. The IdP therefore shifts
// every stored expiry by the clock's offset at issuance and checks expiry against Clock().Now
// when it validates, so a token minted after Advance lives its full lifetime from the
// advanced time, and Advance expires tokens, codes and refresh tokens.
//
// # Resource servers
//
// Introspect reports refresh tokens as active too (RFC 7662); a resource server must also
// require TokenUse == "access_token".
package idp
