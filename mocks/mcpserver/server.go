package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/muster-test/muster-test/mocks/bearer"
	"github.com/muster-test/muster-test/mocks/hostguard"
)

// wellKnownPRM is RFC 9728's well-known prefix.
const wellKnownPRM = "/.well-known/oauth-protected-resource"

// closeGrace bounds how long Close waits for open streams to end before cutting them.
const closeGrace = 2 * time.Second

// Server is a running mock MCP server.
type Server struct {
	cfg    Config
	logger *slog.Logger
	mcp    *server.MCPServer
	calls  callLog
	active inflight
	store  kvStore
	// delaysCancelled counts delays cut short by a cancelled call (observed by tests).
	delaysCancelled atomic.Int64

	// HTTP transports only.
	baseURL    string
	endpoint   string // "/mcp" or "/sse"
	protected  bool
	httpServer *http.Server
	streamable *server.StreamableHTTPServer
	sse        *server.SSEServer
	served     chan struct{}
	closeOnce  sync.Once
	closeErr   error
	stopWatch  func() bool
	requests   requestLog
}

// newServer builds the MCP side shared by every transport.
func newServer(cfg Config) (*Server, error) {
	s := &Server{cfg: cfg, logger: cfg.Logger}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	name := cfg.Name
	if name == "" {
		name = "mock-mcp-server"
	}
	hooks := &server.Hooks{}
	hooks.AddBeforeCallTool(func(ctx context.Context, _ any, req *mcp.CallToolRequest) {
		s.calls.record(ctx, req)
	})
	hooks.AddOnUnregisterSession(func(_ context.Context, session server.ClientSession) {
		s.active.endSession(session.SessionID())
	})
	opts := []server.ServerOption{
		server.WithToolCapabilities(true),
		server.WithHooks(hooks),
		server.WithRecovery(),
	}
	if cfg.Logger != nil {
		opts = append(opts, server.WithLogger(cfg.Logger))
	}
	s.mcp = server.NewMCPServer(name, "1.0.0", opts...)
	if err := cfg.check(); err != nil {
		return nil, err
	}
	tools := make([]server.ServerTool, 0, len(cfg.Tools))
	for _, tc := range cfg.Tools {
		st, err := s.buildTool(tc)
		if err != nil {
			return nil, err
		}
		tools = append(tools, st)
	}
	if len(tools) > 0 {
		s.mcp.AddTools(tools...)
	}
	return s, nil
}

func (s *Server) buildTool(tc ToolConfig) (server.ServerTool, error) {
	t, err := newMockTool(tc)
	if err != nil {
		return server.ServerTool{}, err
	}
	t.track = s.active.track
	t.errorsAsJSONRPC = s.cfg.ErrorsAsJSONRPC
	t.store = &s.store
	t.afterDelay = func(cancelled bool) {
		if cancelled {
			s.delaysCancelled.Add(1)
		}
	}
	return t.serverTool()
}

// Start serves cfg on a new 127.0.0.1 port until Close is called or ctx ends.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Type == "" {
		cfg.Type = TypeStreamableHTTP
	}
	if cfg.Type != TypeStreamableHTTP && cfg.Type != TypeSSE {
		return nil, fmt.Errorf("mcpserver: Start serves %q or %q, not %q (stdio mocks use ServeStdio)",
			TypeStreamableHTTP, TypeSSE, cfg.Type)
	}
	if cfg.OAuth.Required && cfg.Authority == nil {
		return nil, errors.New("mcpserver: oauth.required needs an Authority")
	}
	if cfg.Host == "" {
		cfg.Host = "localhost"
	}
	s, err := newServer(cfg)
	if err != nil {
		return nil, fmt.Errorf("mcpserver: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("mcpserver: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	s.baseURL = (&url.URL{Scheme: "http", Host: net.JoinHostPort(cfg.Host, fmt.Sprint(port))}).String()
	s.protected = cfg.OAuth.Required
	s.httpServer = &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
	}
	s.served = make(chan struct{})
	go func() {
		defer close(s.served)
		if err := s.httpServer.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("mock MCP server stopped", "err", err)
		}
	}()
	s.stopWatch = context.AfterFunc(ctx, func() { _ = s.Close() })
	s.logger.Info("mock MCP server started", "url", s.URL(), "type", cfg.Type,
		"protected", s.protected, "tools", describeTools(cfg.Tools))
	return s, nil
}

// routes assembles the HTTP surface: the transport's endpoints, behind the bearer guard
// when protected, and the public metadata documents; all of it behind the DNS-rebinding
// guard when clients address the server by a loopback name. A mock configured with another
// host name (a SUT in a container, say) must accept it, and listening on 127.0.0.1 only
// already keeps it private. mcp-go's own copy of the guard is off: it would cover the
// transport only, and only after the bearer guard had answered.
func (s *Server) routes() http.Handler {
	h := s.surface()
	if hostguard.IsLoopback(s.cfg.Host) {
		h = hostguard.Handler(h)
	}
	return s.requests.logRequests(h)
}

func (s *Server) surface() http.Handler {
	mcpMux := http.NewServeMux()
	switch s.cfg.Type {
	case TypeSSE:
		s.endpoint = "/sse"
		s.sse = server.NewSSEServer(s.mcp,
			server.WithBaseURL(s.baseURL),
			server.WithSSEEndpoint("/sse"),
			server.WithMessageEndpoint("/message"),
			server.WithSSEDisableLocalhostProtection(true))
		mcpMux.Handle("/sse", s.sse.SSEHandler())
		mcpMux.Handle("/message", s.sse.MessageHandler())
	default:
		s.endpoint = "/mcp"
		opts := []server.StreamableHTTPOption{
			// Reject session ids the server never issued (404), as a real server does.
			server.WithStateful(true),
			server.WithStreamableHTTPLogger(s.logger),
			server.WithDisableLocalhostProtection(true),
		}
		if s.cfg.LegacyOnly {
			opts = append(opts, server.WithStreamableHTTPProtocolVersions(mcp.LegacyProtocolVersions()...))
		}
		s.streamable = server.NewStreamableHTTPServer(s.mcp, opts...)
		mcpMux.Handle("/mcp", s.streamable)
	}
	if !s.protected {
		return mcpMux
	}
	g := &guard{
		authority: s.cfg.Authority,
		scopes:    s.cfg.OAuth.RequiredScopes(),
		audience:  s.cfg.OAuth.RequiredAudience(),
		prmURL:    s.PRMURL(),
		validator: bearer.Validator{Authority: s.cfg.Authority},
	}
	root := http.NewServeMux()
	// RFC 9728 path form for the endpoint, and the root form that muster fetches (it
	// strips /mcp from the server URL); for SSE also the suffix form muster builds.
	root.Handle(wellKnownPRM+s.endpoint, g.prmHandler(s.URL()))
	root.Handle(wellKnownPRM, g.prmHandler(s.baseURL))
	if s.cfg.Type == TypeSSE {
		root.Handle(s.endpoint+wellKnownPRM, g.prmHandler(s.URL()))
	}
	root.Handle("/", g.wrap(mcpMux))
	return root
}

// URL is the endpoint to give a client: BaseURL + "/mcp" or "/sse".
func (s *Server) URL() string { return s.baseURL + s.endpoint }

// BaseURL is http://<host>:<port>.
func (s *Server) BaseURL() string { return s.baseURL }

// PRMURL is the server's RFC 9728 metadata location (the one 401 challenges point to), or
// "" for an unprotected server.
func (s *Server) PRMURL() string {
	if !s.protected {
		return ""
	}
	return s.baseURL + wellKnownPRM + s.endpoint
}

// AddTool adds a tool, or replaces the tool of the same name, while the server runs.
// Connected clients get notifications/tools/list_changed.
func (s *Server) AddTool(tc ToolConfig) error {
	st, err := s.buildTool(tc)
	if err != nil {
		return fmt.Errorf("mcpserver: %w", err)
	}
	s.mcp.AddTools(st)
	return nil
}

// RemoveTool removes a tool and reports whether it existed. Connected clients get
// notifications/tools/list_changed when it did.
func (s *Server) RemoveTool(name string) bool {
	existed := s.mcp.GetTool(name) != nil
	s.mcp.DeleteTools(name)
	return existed
}

// Tools returns the names of the tools currently served, sorted.
func (s *Server) Tools() []string {
	var names []string
	for name := range s.mcp.ListTools() {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// Calls returns every tools/call received so far, oldest first.
func (s *Server) Calls() []Call { return s.calls.snapshot(nil) }

// CallsTo returns the calls of one tool, oldest first.
func (s *Server) CallsTo(tool string) []Call {
	return s.calls.snapshot(func(c Call) bool { return c.Tool == tool })
}

// ResetCalls forgets the calls recorded so far.
func (s *Server) ResetCalls() { s.calls.reset() }

// Close ends the sessions, stops the listener and waits for the server to stop. It is safe
// to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		if s.stopWatch != nil {
			s.stopWatch()
		}
		s.active.closeAll()
		if s.httpServer == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
		defer cancel()
		// Ending the sessions first releases the long-lived GET/SSE streams, which
		// http.Server.Shutdown would otherwise wait for.
		if s.streamable != nil {
			_ = s.streamable.Shutdown(ctx)
		}
		if s.sse != nil {
			s.sse.CloseSessions()
		}
		if err := s.httpServer.Shutdown(ctx); err != nil {
			s.closeErr = s.httpServer.Close()
		}
		<-s.served
	})
	return s.closeErr
}

// ServeStdio serves cfg's tools over in/out (newline-delimited JSON-RPC) until in ends or
// ctx is cancelled. OAuth does not apply to stdio and is refused.
func ServeStdio(ctx context.Context, cfg Config, in io.Reader, out io.Writer) error {
	s, err := newStdioServer(cfg)
	if err != nil {
		return err
	}
	stdio := server.NewStdioServer(s.mcp)
	stdio.SetErrorLogger(log.New(io.Discard, "", 0))
	if cfg.Logger != nil {
		stdio.SetErrorLogger(slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelError))
	}
	s.logger.Info("mock MCP server serving stdio", "tools", describeTools(cfg.Tools))
	err = stdio.Listen(ctx, in, out)
	if errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// newStdioServer is the server of one stdio session, in a process of its own (ServeStdio)
// or relayed (Relayed).
func newStdioServer(cfg Config) (*Server, error) {
	if cfg.OAuth.Required {
		return nil, errors.New("mcpserver: oauth.required is not supported over stdio")
	}
	cfg.ErrorsAsJSONRPC = true
	s, err := newServer(cfg)
	if err != nil {
		return nil, fmt.Errorf("mcpserver: %w", err)
	}
	return s, nil
}
