// Package env builds a scenario's world from its pre_configuration: the mock IdPs and mock
// MCP servers (started concurrently), the files stdio mocks are launched with, and the
// SUT specification that points at all of them. It also holds the scenario's users'
// sessions to the SUT, so test tools find everything they act on in one place.
package env

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/muster-test/muster-test/internal/sut"
	"github.com/muster-test/muster-test/internal/traffic"
	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/mocks/idpauth"
	"github.com/muster-test/muster-test/mocks/mcpserver"
	"github.com/muster-test/muster-test/scenario"
)

// Server is one mcp_servers entry of the scenario, as started.
type Server struct {
	Name string
	// HTTP is the in-process mock for streamable-http and sse mocks; nil otherwise.
	HTTP *mcpserver.Server
	// Stdio is the mock config file a stdio mock is launched with; "" otherwise, and when
	// the mock is relayed.
	Stdio string
	// Relayed serves a stdio mock to the relay the SUT starts; nil otherwise.
	Relayed *mcpserver.Relayed
	// Protected says the server requires OAuth; IdP names the IdP that protects it.
	Protected bool
	IdP       string
	Decl      scenario.MCPServer
}

// Env is a scenario's started world.
type Env struct {
	Dir    string // the scenario's temp dir
	CAFile string // PEM of every TLS mock IdP's CA, for the SUT ("" when none)
	// Traffic keeps the scenario's HTTP requests (nil: not kept); see Record.
	Traffic *traffic.Log

	mu       sync.Mutex // guards the maps while mocks start concurrently
	idps     map[string]*idp.Server
	servers  map[string]*Server
	upstream []sut.Upstream
	sc       *scenario.Scenario
	bin      Binaries
}

// Binaries are the programs a scenario's SUT is told to run, as absolute paths.
type Binaries struct {
	Self string // the muster-test binary, {{ .self }}
	// Child plays the reference SUT and the stdio mocks: muster-test-child or muster-test.
	Child string
	// Relay is the stdio relay (muster-test-relay); when set, the SUT starts it for each
	// stdio mock, which this process serves. "": the SUT starts Child as the stdio mock.
	Relay string
}

// Start starts every mock of sc's pre_configuration below dir. On error, whatever was
// started is closed again.
func Start(ctx context.Context, sc *scenario.Scenario, dir string, bin Binaries) (e *Env, err error) {
	e = &Env{Dir: dir, sc: sc, bin: bin, idps: map[string]*idp.Server{}, servers: map[string]*Server{}}
	defer func() {
		if err != nil {
			e.Close()
			e = nil
		}
	}()
	pre := sc.PreConfiguration
	if pre == nil {
		return e, nil
	}
	if err := e.startIdPs(ctx, pre.MockOAuthServers); err != nil {
		return e, err
	}
	if err := e.startServers(ctx, pre.MCPServers); err != nil {
		return e, err
	}
	return e, nil
}

// startIdPs starts the IdPs concurrently. Trusted-issuer links need the trusted IdP
// running, so IdPs with links start after all others.
func (e *Env) startIdPs(ctx context.Context, decls []scenario.MockOAuthServer) error {
	var plain, linked []scenario.MockOAuthServer
	for _, d := range decls {
		if len(d.TrustedIssuers) > 0 {
			linked = append(linked, d)
		} else {
			plain = append(plain, d)
		}
	}
	for _, batch := range [][]scenario.MockOAuthServer{plain, linked} {
		if err := e.parallel(len(batch), func(i int) error { return e.startIdP(ctx, batch[i]) }); err != nil {
			return err
		}
	}
	var pem []byte
	for _, name := range e.IdPNames() {
		pem = append(pem, e.idps[name].CACertPEM()...)
	}
	if len(pem) > 0 {
		e.CAFile = filepath.Join(e.Dir, "mock-idp-ca.pem")
		return os.WriteFile(e.CAFile, pem, 0o644)
	}
	return nil
}

func (e *Env) startIdP(ctx context.Context, d scenario.MockOAuthServer) error {
	cfg := d.Config
	if d.UseAsMusterOAuthServer {
		cfg.SignTokens = true // the SUT checks its own tokens against the IdP's JWKS
	}
	for _, t := range d.TrustedIssuers {
		trusted, ok := e.lookupIdP(t.OAuthServerRef)
		if !ok {
			return fmt.Errorf("mock IdP %s: trusted issuer %q is not running", d.Name, t.OAuthServerRef)
		}
		cfg.TrustedIssuers = append(cfg.TrustedIssuers, idp.TrustedIssuer{ConnectorID: t.ConnectorID, Server: trusted})
	}
	s, err := idp.Start(ctx, cfg)
	if err != nil {
		return fmt.Errorf("start mock IdP %s: %w", d.Name, err)
	}
	e.mu.Lock()
	e.idps[d.Name] = s
	e.mu.Unlock()
	return nil
}

func (e *Env) startServers(ctx context.Context, decls []scenario.MCPServer) error {
	e.upstream = make([]sut.Upstream, len(decls))
	return e.parallel(len(decls), func(i int) error {
		up, err := e.startServer(ctx, decls[i])
		e.upstream[i] = up
		return err
	})
}

func (e *Env) startServer(ctx context.Context, d scenario.MCPServer) (sut.Upstream, error) {
	srv := &Server{Name: d.Name, Decl: d}
	up := sut.Upstream{Name: d.Name}
	if d.Mock == nil {
		// A real server definition: passed to the SUT verbatim.
		up.Spec = d.Config
		e.addServer(srv)
		return up, nil
	}
	for _, t := range d.Mock.Tools {
		up.Tools = append(up.Tools, t.Name)
	}
	up.Spec = map[string]any{"autoStart": true}
	if d.Mock.ToolPrefix != "" {
		up.Spec["toolPrefix"] = d.Mock.ToolPrefix
	}
	if !d.HTTPMock() {
		return up, e.startStdio(ctx, srv, &up)
	}
	cfg := *d.Mock // the loader's value, shared by every run of the scenario: set fields on a copy
	cfg.Name = d.Name
	if o := cfg.OAuth; o.Required {
		s, ok := e.lookupIdP(o.MockOAuthServerRef)
		if !ok {
			return up, fmt.Errorf("mock MCP server %s: IdP %q is not running", d.Name, o.MockOAuthServerRef)
		}
		srv.Protected, srv.IdP, up.Protected = true, o.MockOAuthServerRef, true
		if o.TrustIssuerRef != "" {
			// Newer muster's forwarding model: the server trusts the IdP whose tokens the
			// gateway forwards, not the one it names for its own login.
			if s, ok = e.lookupIdP(o.TrustIssuerRef); !ok {
				return up, fmt.Errorf("mock MCP server %s: trusted IdP %q is not running", d.Name, o.TrustIssuerRef)
			}
		}
		cfg.Authority = idpauth.New(s)
	}
	if auth := e.musterAuth(cfg.OAuth); len(auth) > 0 {
		up.Spec["auth"] = auth
	}
	if err := ctx.Err(); err != nil {
		return up, err
	}
	// The mock lives until Close, not until ctx ends: ctx carries the scenario's deadline,
	// and the cleanup steps after it and the SUT's shutdown before Close still need it.
	var err error
	srv.HTTP, err = mcpserver.Start(context.WithoutCancel(ctx), cfg)
	if err != nil {
		return up, fmt.Errorf("start mock MCP server %s: %w", d.Name, err)
	}
	up.Spec["type"] = cfg.Type
	up.Spec["url"] = srv.HTTP.URL()
	e.addServer(srv)
	return up, nil
}

// musterAuth is the MCPServer spec's auth block for newer muster's token forwarding and
// token exchange, written as muster's own test framework writes it from the same keys;
// nil when the scenario sets neither. The reference SUT ignores it.
func (e *Env) musterAuth(o mcpserver.OAuthConfig) map[string]any {
	auth := map[string]any{}
	if o.ForwardToken {
		auth["forwardToken"] = true
	}
	if o.TokenExchange != nil {
		te := map[string]any{"enabled": true}
		if v, ok := o.TokenExchange["dex_token_endpoint"].(string); ok {
			te["dexTokenEndpoint"] = v
		} else if ref, ok := o.TokenExchange["oauth_server_ref"].(string); ok {
			if s, ok := e.lookupIdP(ref); ok {
				te["dexTokenEndpoint"] = s.Issuer() + "/token"
			}
		}
		for from, to := range map[string]string{"connector_id": "connectorId", "scopes": "scopes", "expected_issuer": "expectedIssuer"} {
			if v, ok := o.TokenExchange[from].(string); ok {
				te[to] = v
			}
		}
		auth["tokenExchange"] = te
	}
	if len(auth) == 0 {
		return nil
	}
	return auth
}

func (e *Env) addServer(s *Server) {
	e.mu.Lock()
	e.servers[s.Name] = s
	e.mu.Unlock()
}

func (e *Env) lookupIdP(name string) (*idp.Server, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.idps[name]
	return s, ok
}

// parallel runs f(0..n-1) concurrently and returns the first error.
func (e *Env) parallel(n int, f func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			defer func() {
				if p := recover(); p != nil {
					errs[i] = fmt.Errorf("panic while starting a mock: %v", p)
				}
			}()
			errs[i] = f(i)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// IdP returns a mock IdP by name.
func (e *Env) IdP(name string) (*idp.Server, bool) { return e.lookupIdP(name) }

// IdPNames lists the mock IdPs, sorted.
func (e *Env) IdPNames() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	names := make([]string, 0, len(e.idps))
	for n := range e.idps {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Server returns an mcp_servers entry by name.
func (e *Env) Server(name string) (*Server, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.servers[name]
	return s, ok
}

// SUTSpec is the SUT configuration that points at this environment.
func (e *Env) SUTSpec() *sut.Spec {
	spec := &sut.Spec{Dir: e.Dir, Upstreams: e.upstream, CAFile: e.CAFile, OAuth: len(e.idps) > 0,
		Record: e.sessionRecorder()}
	if pre := e.sc.PreConfiguration; pre != nil {
		for _, d := range pre.MockOAuthServers {
			if s, ok := e.lookupIdP(d.Name); ok && d.UseAsMusterOAuthServer {
				// One IdP protects the SUT itself; the runner adds how to log in to it.
				spec.Gateway = &sut.GatewayAuth{Issuer: s.Issuer(), ClientID: s.ClientID()}
				break
			}
		}
		spec.Workflows, spec.Services, spec.ServiceClasses = pre.Workflows, pre.Services, pre.ServiceClasses
		if pre.MainConfig != nil {
			spec.MainConfig = pre.MainConfig.Config
		}
	}
	return spec
}

// Close stops every mock. Safe to call more than once.
func (e *Env) Close() {
	for _, s := range e.servers {
		if s.HTTP != nil {
			s.HTTP.Close()
		}
		if s.Relayed != nil {
			s.Relayed.Close()
		}
	}
	for _, s := range e.idps {
		s.Close()
	}
	e.servers, e.idps = map[string]*Server{}, map[string]*idp.Server{}
}

// startStdio has the SUT launch a stdio mock: the relay to the mock served here when there
// is a relay, else the child binary as the mock itself, with the scenario's config in a
// file it reads with mcpserver.LoadConfigFile. Either way the SUT starts one process per
// launch and each launch begins with a fresh server.
func (e *Env) startStdio(ctx context.Context, srv *Server, up *sut.Upstream) error {
	up.Spec["type"] = "stdio"
	if e.bin.Relay != "" {
		r, err := mcpserver.StartRelayed(ctx, *srv.Decl.Mock)
		if err != nil {
			return fmt.Errorf("start mock MCP server %s: %w", srv.Name, err)
		}
		srv.Relayed = r
		up.Spec["command"] = e.bin.Relay
		up.Spec["args"] = []string{"--connect", r.Addr()}
		e.addServer(srv)
		return nil
	}
	srv.Stdio = filepath.Join(e.Dir, "mocks", srv.Name+".yaml")
	if err := writeYAMLFile(srv.Stdio, srv.Decl.Config); err != nil {
		return err
	}
	up.Spec["command"] = e.bin.Child
	up.Spec["args"] = []string{"--mock-mcp-server", "--mock-config", srv.Stdio}
	e.addServer(srv)
	return nil
}

func writeYAMLFile(path string, v any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
