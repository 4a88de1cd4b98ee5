package env

// World is the values of the world templates of this environment's mocks: for each mock
// IdP `idp.NAME.{issuer_url, jwks_url, metadata_url, port, client_id, client_secret}` (the
// field names of test_get_oauth_server_info's answer) and for each HTTP mock server
// `mcp.NAME.url`. The runner adds the SUT's own roots (sut, ports, tempdir, self).
func (e *Env) World() map[string]any {
	e.mu.Lock()
	defer e.mu.Unlock()
	idps := map[string]any{}
	for name, s := range e.idps {
		secret := ""
		for _, d := range e.sc.PreConfiguration.MockOAuthServers {
			if d.Name == name {
				secret = d.ClientSecret
			}
		}
		idps[name] = map[string]any{"issuer_url": s.Issuer(), "jwks_url": s.Issuer() + "/jwks",
			"metadata_url": s.Issuer() + "/.well-known/oauth-authorization-server", "port": s.Port(),
			"client_id": s.ClientID(), "client_secret": secret}
	}
	mcps := map[string]any{}
	for name, s := range e.servers {
		if s.HTTP != nil {
			mcps[name] = map[string]any{"url": s.HTTP.URL()}
		}
	}
	return map[string]any{"idp": idps, "mcp": mcps, "tempdir": e.Dir, "self": e.bin.Self}
}

// ChildBinary is the binary that plays the child roles: muster-test-child beside
// muster-test, or muster-test itself ({{ .self }}).
func (e *Env) ChildBinary() string { return e.bin.Child }
