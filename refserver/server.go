package refserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/muster-test/muster-test/internal/loopcert"
	"github.com/muster-test/muster-test/mocks/bearer"
	"github.com/muster-test/muster-test/mocks/hostguard"
)

// endpoint is where the MCP server answers.
const endpoint = "/mcp"

// Server is a running reference server.
type Server struct {
	cfg       Config
	policy    *Policy
	faults    Faults
	log       *slog.Logger
	origin    string // http://127.0.0.1:PORT
	authority bearer.Authority
	contexts  *userContexts // --context userinfo only
	upstream  *upstreams    // --upstream-issuer only
	validator *bearer.Validator
	as        AuthorizationServer // WithAS only
	audit     *auditLog
	docs      documents
	shelves   *shelves // Store only
	sessions  sessionOwners

	caPEM []byte // SelfSignedTLS only

	mcp        *server.MCPServer
	streamable *server.StreamableHTTPServer
	httpSrv    *http.Server
	served     chan struct{}
	closeOnce  sync.Once
	closeErr   error
}

// Start listens on 127.0.0.1 and serves until Close.
func Start(cfg Config) (*Server, error) {
	if (cfg.Issuer == "") == !cfg.WithAS {
		return nil, errors.New("refserver: set exactly one of Issuer and WithAS")
	}
	if cfg.WithAS && cfg.MountAS == nil {
		return nil, errors.New("refserver: WithAS needs MountAS (this binary mounts no IdP: muster-test's does)")
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("refserver: port %d out of range", cfg.Port)
	}
	switch cfg.Clock {
	case "", ClockLocal:
	case ClockIssuer:
		if cfg.WithAS || cfg.Now != nil {
			return nil, errors.New("refserver: the issuer's clock is for Issuer without Now (the mounted IdP's clock is the server's)")
		}
	default:
		return nil, fmt.Errorf("refserver: clock %q: want %s or %s", cfg.Clock, ClockLocal, ClockIssuer)
	}
	s := &Server{cfg: cfg, policy: cfg.Policy, faults: cfg.Faults, log: cfg.Logger}
	if s.policy == nil {
		s.policy = DefaultPolicy()
	} else if err := s.policy.complete(); err != nil {
		return nil, fmt.Errorf("refserver: policy: %w", err)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.faults == nil {
		s.faults = Faults{}
	}
	if cfg.Store {
		s.shelves = newShelves(s.faults)
	}
	var cert tls.Certificate
	if cfg.SelfSignedTLS {
		var err error
		if cert, s.caPEM, err = loopcert.New(); err != nil {
			return nil, fmt.Errorf("refserver: %w", err)
		}
		if cfg.WriteCA != "" {
			if err := os.WriteFile(cfg.WriteCA, s.caPEM, 0o644); err != nil {
				return nil, fmt.Errorf("refserver: write the CA: %w", err)
			}
		}
	} else if cfg.WriteCA != "" {
		return nil, errors.New("refserver: WriteCA needs SelfSignedTLS")
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", cfg.Port))
	if err != nil {
		return nil, fmt.Errorf("refserver: listen: %w", err)
	}
	s.origin = "http://" + ln.Addr().String()
	if cfg.SelfSignedTLS {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
		s.origin = "https://" + ln.Addr().String()
	}
	if err := s.trust(); err != nil {
		ln.Close()
		s.closeIdP()
		return nil, fmt.Errorf("refserver: %w", err)
	}
	if s.audit, err = openAudit(cfg.AuditFile); err != nil {
		ln.Close()
		s.closeIdP()
		return nil, fmt.Errorf("refserver: %w", err)
	}
	if cfg.UpstreamIssuer != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		s.upstream, err = connectUpstream(ctx, cfg, s.authority.Now, s.faults)
		cancel()
		if err != nil {
			ln.Close()
			s.closeIdP()
			_ = s.audit.close()
			return nil, fmt.Errorf("refserver: %w", err)
		}
	}
	s.httpSrv = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)}
	s.served = make(chan struct{})
	go func() {
		defer close(s.served)
		if err := s.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("reference server stopped", "err", err)
		}
	}()
	s.log.Info("reference server listening", "url", s.URL(), "issuer", s.authority.Issuer(),
		"introspect", cfg.Introspect, "audit", cfg.AuditFile)
	for _, f := range AllFaults {
		if s.faults[f] {
			s.log.Warn("TEST-ONLY fault injected", "fault", string(f))
		}
	}
	return s, nil
}

// trust sets up the authority tokens are checked against: the mounted IdP, or the issuer.
func (s *Server) trust() error {
	if s.cfg.WithAS {
		as, err := s.cfg.MountAS(s.cfg, *s.policy, s.origin)
		if err != nil {
			return err
		}
		s.as, s.authority = as, as
		if s.cfg.Introspect {
			s.authority = introspectOnly{s.authority}
		}
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		remote, err := discover(ctx, s.cfg)
		if err != nil {
			return err
		}
		if s.cfg.Clock == ClockIssuer {
			remote.now = newIssuerClock(remote.metadata, remote.http, s.log).Now
		}
		s.authority = remote
	}
	if s.cfg.Context == ContextUserInfo {
		remote, ok := s.authority.(*remoteAuthority)
		if !ok {
			return errors.New("the user's context from userinfo needs an issuer given by URL")
		}
		s.contexts = &userContexts{idp: remote}
		if s.cfg.ContextTTL > 0 && !s.faults[FaultNoContextCache] {
			s.contexts.cache = newTTLCache[map[string]any](remote.Now, s.cfg.ContextTTL, s.faults[FaultCacheIgnoresTTL])
		}
	}
	if s.cfg.Introspect && s.cfg.ContextTTL > 0 && !s.faults[FaultNoContextCache] {
		s.authority = newContextCache(s.authority, s.cfg.ContextTTL, s.faults[FaultCacheIgnoresTTL])
	}
	s.validator = &bearer.Validator{Authority: s.authority, LocalOnly: !s.cfg.Introspect,
		IgnoreExpiry: s.faults[FaultExpiredTokenAccepted]}
	return nil
}

// introspectOnly hides the JWKS, so that every token is introspected.
type introspectOnly struct{ bearer.Authority }

func (introspectOnly) JWKS() *jose.JSONWebKeySet { return nil }

func (s *Server) routes() http.Handler {
	hooks := &server.Hooks{}
	hooks.AddAfterInitialize(s.bindSession)
	s.mcp = server.NewMCPServer("muster-test-reference-server", "1.0.0",
		server.WithToolCapabilities(false), server.WithHooks(hooks), server.WithRecovery(),
		server.WithToolFilter(s.filterTools))
	s.mcp.AddTools(s.tools()...)
	if s.upstream != nil {
		s.mcp.AddTools(s.upstreamTools()...)
	}
	if s.shelves != nil {
		s.mcp.AddTools(s.storeTools()...)
	}
	s.streamable = server.NewStreamableHTTPServer(s.mcp,
		// Reject session ids the server never issued (404), as a real server does.
		server.WithStateful(true),
		server.WithStreamableHTTPLogger(s.log))

	mux := http.NewServeMux()
	if s.as != nil {
		mux.Handle("/", s.as.Handler())
	}
	// The path-inserted document (RFC 9728 §3.1) is the one challenges point to; the root
	// one is MCP's fallback for clients that do not insert. Both name the MCP endpoint:
	// it is the only resource here, and a client that took the origin from the root
	// document would ask for tokens this server's audience check refuses.
	prm := server.NewProtectedResourceMetadataHandler(server.ProtectedResourceMetadataConfig{
		Resource:               s.prmResource(),
		AuthorizationServers:   []string{s.authority.Issuer()},
		ScopesSupported:        []string{s.policy.Scope, s.policy.AdminScope},
		BearerMethodsSupported: []string{"header"},
		ResourceName:           "muster-test reference server",
	})
	mux.Handle(server.ProtectedResourceMetadataPath(s.URL()), prm)
	mux.Handle(server.WellKnownProtectedResourcePath, prm)
	mux.Handle(endpoint, s.guard(s.streamable))
	// The DNS-rebinding guard of the mocks covers every route, the metadata included; mcp-go
	// applies the same rule to /mcp only.
	return hostguard.Handler(mux)
}

func (s *Server) prmResource() string {
	if s.faults[FaultPRMResourceWrong] {
		return s.origin
	}
	return s.URL()
}

// bindSession records who opened a session (mcp-go's hook runs before the answer is
// sent, so no request can carry the id before it is bound).
func (s *Server) bindSession(ctx context.Context, _ any, _ *mcp.InitializeRequest, _ *mcp.InitializeResult) {
	sess := server.ClientSessionFromContext(ctx)
	req := requestFrom(ctx)
	if sess == nil || req == nil || sess.SessionID() == "" {
		return
	}
	s.sessions.bind(sess.SessionID(), req.caller.Subject)
}

// URL is the MCP endpoint and the canonical resource identifier: http://127.0.0.1:PORT/mcp
// (https with SelfSignedTLS).
func (s *Server) URL() string { return s.origin + endpoint }

// Origin is http://127.0.0.1:PORT (https with SelfSignedTLS), the issuer with WithAS.
func (s *Server) Origin() string { return s.origin }

// CACertPEM is the CA that signed the server's certificate (SelfSignedTLS), else nil.
func (s *Server) CACertPEM() []byte { return s.caPEM }

// PRMURL is where the 401 challenges point: the path-inserted RFC 9728 document.
func (s *Server) PRMURL() string { return s.origin + server.ProtectedResourceMetadataPath(s.URL()) }

// Issuer is the issuer tokens must come from.
func (s *Server) Issuer() string { return s.authority.Issuer() }

// AS is the mounted authorization server (WithAS), nil otherwise.
func (s *Server) AS() AuthorizationServer { return s.as }

// Close ends the sessions, stops the listener, closes the audit log and the mounted IdP.
// It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		// Ending the sessions first releases long-lived GET streams, which
		// http.Server.Shutdown would otherwise wait for.
		_ = s.streamable.Shutdown(ctx)
		if err := s.httpSrv.Shutdown(ctx); err != nil {
			_ = s.httpSrv.Close()
		}
		<-s.served
		var upstream error
		if s.upstream != nil {
			upstream = s.upstream.close()
		}
		s.closeErr = errors.Join(upstream, s.audit.close(), s.closeIdP())
	})
	return s.closeErr
}

func (s *Server) closeIdP() error {
	if s.as == nil {
		return nil
	}
	return s.as.Close()
}
