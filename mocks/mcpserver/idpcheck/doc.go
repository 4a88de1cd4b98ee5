// Package idpcheck holds the integration test of mcpserver's protection against the real
// fosite-based mock IdP (mocks/idp), adapted to mcpserver.Authority. It is a package of
// its own so that the mock server's unit tests do not depend on the IdP compiling.
package idpcheck
