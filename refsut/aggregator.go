package refsut

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"golang.org/x/sync/singleflight"
)

// Options configure one aggregator.
type Options struct {
	ConfigDir string
	Faults    Faults
	Logger    *slog.Logger
	// Yolo allows the upstream tools muster blocks as destructive (see denylist.go).
	Yolo bool
}

// Server state values, as core_mcpserver_* and auth://status show them.
const (
	stateConnected    = "connected"
	stateAuthRequired = "auth_required"
	stateDisconnected = "disconnected"
	stateFailed       = "failed"
)

// Aggregator is one running reference SUT.
type Aggregator struct {
	cfg        *Config
	log        *slog.Logger
	faults     Faults
	yolo       bool
	mcp        *server.MCPServer
	httpClient *http.Client

	life   context.Context // ends at shutdown; upstream sessions and stdio children live in it
	cancel context.CancelFunc

	servers []*serverState
	byName  map[string]*serverState

	toolsMu sync.RWMutex
	owners  map[string]toolOwner // exposed tool name -> where it leads

	sessMu   sync.Mutex
	sessions map[string]*sessionState

	tokens     tokenStore
	challenges challengeStore
	asMeta     metadataCache
	refreshSF  singleflight.Group
	callMu     sync.Mutex // only with FaultGlobalCallLock

	bearer     tokenValidator // protected mode only
	sessOwners sessionOwners

	ln      net.Listener
	httpSrv *http.Server
}

// serverState is the aggregator-wide view of one configured upstream.
type serverState struct {
	spec   ServerSpec
	state  string // fixed after startup: connected (public), auth_required, failed, disconnected
	err    error
	global *upstream // the shared session with a public server

	mu       sync.Mutex
	prm      *prmInfo        // discovery result, filled lazily (or eagerly after a 401)
	prmURL   string          // resource_metadata from the 401, a last discovery resort
	shadowed map[string]bool // tools registered globally (answering "not authenticated")
}

func (s *serverState) discovered() (prmInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.prm == nil {
		return prmInfo{}, false
	}
	return *s.prm, true
}

// sessionState is what one MCP client session owns: its upstream sessions with protected servers.
type sessionState struct {
	id     string
	mu     sync.Mutex
	conns  map[string]*upstream
	client server.ClientSession // mcp-go's session, once registered
}

func (s *sessionState) conn(server string) *upstream {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[server]
}

// New loads the configuration and binds the listening socket, so a port in use fails here.
func New(opts Options) (*Aggregator, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	cfg, err := LoadConfig(opts.ConfigDir, log)
	if err != nil {
		return nil, err
	}
	if cfg.Transport != "streamable-http" && cfg.Transport != "sse" {
		return nil, fmt.Errorf("transport %q is not supported by the reference aggregator (use streamable-http or sse)", cfg.Transport)
	}
	if cfg.Server.Enabled && cfg.Transport != "streamable-http" {
		return nil, fmt.Errorf("aggregator.oauth.server needs transport streamable-http in the reference aggregator, not %q", cfg.Transport)
	}
	if err := checkLoopback(cfg.Host); err != nil {
		return nil, err
	}
	host := cfg.Host
	if host == "localhost" {
		// Bind loopback IPv4 only, as muster does, never every interface.
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(cfg.Port)))
	if err != nil {
		log.Error("Streamable HTTP server error", "error", err) // muster's words for it
		return nil, fmt.Errorf("cannot listen on the configured address: %w", err)
	}
	a := &Aggregator{
		cfg:        cfg,
		log:        log,
		faults:     opts.Faults,
		yolo:       opts.Yolo,
		httpClient: newHTTPClient(),
		byName:     map[string]*serverState{},
		owners:     map[string]toolOwner{},
		sessions:   map[string]*sessionState{},
		ln:         ln,
	}
	a.tokens.init()
	a.challenges.init()
	a.asMeta.init()
	a.bearer = tokenValidator{a: a, cfg: cfg.Server}
	a.sessOwners.m = map[string]string{}
	a.life, a.cancel = context.WithCancel(context.Background())
	for _, spec := range cfg.Servers {
		s := &serverState{spec: spec}
		a.servers = append(a.servers, s)
		a.byName[spec.Name] = s
	}
	a.mcp = a.newMCPServer()
	return a, nil
}

// newHTTPClient is the client for upstreams and IdPs. It trusts what Go's default transport
// trusts (SSL_CERT_FILE included) and keeps enough idle connections for many concurrent
// sessions: the default two per host would make most calls open a new connection.
func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Timeout: 10 * time.Second, Transport: t}
}

// Addr is the address the aggregator listens on.
func (a *Aggregator) Addr() string { return a.ln.Addr().String() }

// Serve connects the upstreams, then serves until ctx ends; it then shuts down within
// about 100 ms, closing upstream sessions and stopping stdio children.
func (a *Aggregator) Serve(ctx context.Context) error {
	a.connectAll(ctx)
	a.registerGlobalTools()
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	})
	if a.cfg.Server.Enabled {
		mux.HandleFunc(prmPath, a.handlePRM)
		mux.HandleFunc(prmPath+"/mcp", a.handlePRM)
		if a.cfg.OAuth.Enabled {
			mux.HandleFunc(loginStartPath, a.handleLoginStart)
		}
	}
	if a.cfg.OAuth.Enabled {
		mux.HandleFunc(a.cfg.OAuth.CallbackPath, a.handleCallback)
		if a.cfg.OAuth.ClientID == a.cfg.OAuth.PublicURL+a.cfg.OAuth.CIMDPath {
			mux.HandleFunc(a.cfg.OAuth.CIMDPath, a.handleCIMD)
		}
	}
	var sse *server.SSEServer
	if a.cfg.Transport == "sse" {
		sse = server.NewSSEServer(a.mcp,
			server.WithBaseURL(fmt.Sprintf("http://%s:%d", a.cfg.Host, a.port())),
			server.WithSSEEndpoint("/sse"), server.WithMessageEndpoint("/message"))
		mux.Handle("/sse", sse.SSEHandler())
		mux.Handle("/message", sse.MessageHandler())
	} else {
		ids := server.WithStateful(true) // ids never issued, or deleted, get 404
		if a.cfg.Server.Enabled {
			ids = server.WithSessionIdManagerResolver(&a.sessOwners) // the same, bound to subjects
		}
		var h http.Handler = a.deferNotifications(server.NewStreamableHTTPServer(a.mcp,
			ids,
			// Without an event store, mcp-go v1.2.1 can drop a notification sent at the end of
			// a tool handler (its forwarder takes it, then finds the request done), which
			// loses tools/list_changed after login and logout. The resumable path waits for
			// the forwarder before answering.
			server.WithStreamableHTTPProtocolVersions(mcp.LegacyProtocolVersions()...),
			server.WithStreamableHTTPLogger(a.log.With("subsystem", "mcp-transport")),
		))
		if a.cfg.Server.Enabled {
			h = a.protect(h)
		}
		mux.Handle("/mcp", h)
	}
	a.httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- a.httpSrv.Serve(a.ln) }()
	endpoint := "/mcp"
	if sse != nil {
		endpoint = "/sse"
	}
	if a.cfg.Server.Enabled {
		a.log.Info("Protected mode: clients need a token of the trusted IdP", "issuer", a.cfg.Server.Issuer, "resource", a.cfg.Server.Resource, "subsystem", "oauth-server")
	}
	a.log.Info(fmt.Sprintf("Started aggregator manager on http://%s:%d%s", a.cfg.Host, a.port(), endpoint), "subsystem", "aggregator")
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		a.log.Error("Streamable HTTP server error", "error", err)
	}
	a.log.Info("\n--- Shutting down services ---")
	if sse != nil {
		// SSE streams never end by themselves; this ends them so Shutdown need not wait.
		sctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		_ = sse.Shutdown(sctx)
		cancel()
	}
	a.shutdown()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func (a *Aggregator) port() int { return a.ln.Addr().(*net.TCPAddr).Port }

func (a *Aggregator) shutdown() {
	sctx, cancel := context.WithTimeout(context.Background(), 40*time.Millisecond)
	defer cancel()
	if a.httpSrv.Shutdown(sctx) != nil {
		// Open SSE streams never finish on their own; cut them.
		_ = a.httpSrv.Close()
	}
	var ups []*upstream
	for _, s := range a.servers {
		if s.global != nil {
			ups = append(ups, s.global)
		}
	}
	a.sessMu.Lock()
	for _, ss := range a.sessions {
		ss.mu.Lock()
		for _, u := range ss.conns {
			ups = append(ups, u)
		}
		ss.mu.Unlock()
	}
	a.sessMu.Unlock()
	var wg sync.WaitGroup
	for _, u := range ups {
		wg.Add(1)
		go func() { defer wg.Done(); u.close() }()
	}
	wg.Wait()
	a.cancel() // kills stdio children
}

// session returns the state of an MCP session, creating it on first use.
func (a *Aggregator) session(id string) *sessionState {
	a.sessMu.Lock()
	defer a.sessMu.Unlock()
	s := a.sessions[id]
	if s == nil {
		s = &sessionState{id: id, conns: map[string]*upstream{}}
		a.sessions[id] = s
	}
	return s
}

func (a *Aggregator) sessionFromCtx(ctx context.Context) *sessionState {
	cs := server.ClientSessionFromContext(ctx)
	if cs == nil {
		return a.session("default-session")
	}
	return a.session(cs.SessionID())
}

// endSession drops everything a deleted MCP session owned.
func (a *Aggregator) endSession(id string) {
	a.sessMu.Lock()
	s := a.sessions[id]
	delete(a.sessions, id)
	a.sessMu.Unlock()
	if s == nil {
		return
	}
	s.mu.Lock()
	conns := s.conns
	s.conns = map[string]*upstream{}
	s.mu.Unlock()
	for _, u := range conns {
		go u.close()
	}
	if !a.faults.has(FaultSharedTokens) {
		a.tokens.dropSession(id)
	}
}

// connectAll probes every upstream at startup, all at once, each within its own time limit.
func (a *Aggregator) connectAll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, s := range a.servers {
		if !s.spec.autoStart() {
			s.state = stateDisconnected
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.probe(ctx, s)
		}()
	}
	wg.Wait()
}

func (a *Aggregator) probe(ctx context.Context, s *serverState) {
	timeout := 5 * time.Second
	if s.spec.Timeout > 0 {
		timeout = time.Duration(s.spec.Timeout) * time.Second
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u, err := dialUpstream(pctx, a.life, s.spec, "", a.httpClient, a.log, func(u *upstream) { a.syncGlobalTools(s, u) })
	switch {
	case err == nil:
		s.state, s.global = stateConnected, u
		a.log.Info("Connected MCP server", "server", s.spec.Name, "tools", len(u.toolList()), "subsystem", "aggregator")
	case s.spec.isHTTP() && isUnauthorized(err):
		s.state = stateAuthRequired
		s.prmURL = resourceMetadataURL(err)
		a.log.Info("MCP server requires authentication", "server", s.spec.Name, "subsystem", "aggregator")
		if a.cfg.OAuth.Enabled {
			// Learn the issuer early so that _meta can name it before any login.
			if _, derr := a.discover(pctx, s); derr != nil {
				a.log.Debug("eager discovery failed", "server", s.spec.Name, "error", derr)
			}
		}
	default:
		s.state, s.err = stateFailed, fmt.Errorf("failed to initialize %s MCP client: %w", s.spec.Type, err)
		a.log.Error("Failed to start MCP server", "server", s.spec.Name, "error", err, "subsystem", "aggregator")
	}
}
