package idp

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/token/jwt"

	"github.com/muster-test/muster-test/mocks/hostguard"
)

// Server is a running mock IdP.
type Server struct {
	keyReleased atomic.Bool // the signing key went back to the pool (see keys.go)

	cfg      Config
	issuer   string
	url      string
	port     int
	clock    *Clock
	provider fosite.OAuth2Provider
	store    *store
	clients  *clientRegistry
	strategy *clockStrategy
	signKey  *jose.JSONWebKey
	jwks     jose.JSONWebKeySet
	users    *userRegistry
	trusted  []TrustedIssuer
	caPEM    []byte
	obs      observer
	denyNext atomic.Bool
	csrfKey  []byte // signs consent-form tokens (ConsentCSRF)

	httpSrv *http.Server
	done    chan struct{}
}

// Start listens on 127.0.0.1 and serves until Close. ctx bounds start-up only.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Port)))
	if err != nil {
		return nil, fmt.Errorf("idp: listen: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	scheme := "http"
	if cfg.UseTLS {
		scheme = "https"
	}
	s, err := newServer(cfg, fmt.Sprintf("%s://localhost:%d", scheme, port), port)
	if err != nil {
		ln.Close()
		return nil, err
	}
	if cfg.UseTLS {
		cert, caPEM, err := LoopbackCertificate()
		if err != nil {
			ln.Close()
			return nil, err
		}
		s.caPEM = caPEM
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	go func() {
		defer close(s.done)
		_ = s.httpSrv.Serve(ln)
	}()
	return s, nil
}

// Mount builds an IdP without a listener of its own, for a server that is its own
// authorization server: that server serves Handler at the root of its origin (an
// http(s)://host:port URL), where the IdP publishes its endpoints. The origin is the issuer
// unless cfg.Issuer says otherwise. Close releases the IdP's resources; the caller stops
// its own listener. TLS is the caller's business (an https origin), so UseTLS is refused.
func Mount(cfg Config, origin string) (*Server, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.UseTLS {
		return nil, errors.New("idp: Mount serves no TLS of its own (UseTLS)")
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Port() == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("idp: Mount: origin %q is not http(s)://host:port", origin)
	}
	port, _ := strconv.Atoi(u.Port())
	s, err := newServer(cfg.withDefaults(), strings.TrimSuffix(origin, "/"), port)
	if err != nil {
		return nil, err
	}
	close(s.done) // no serving goroutine to wait for
	return s, nil
}

// Handler serves the IdP's endpoints (discovery, JWKS, authorize, token, ...) at the root.
func (s *Server) Handler() http.Handler { return s.httpSrv.Handler }

func newServer(cfg Config, base string, port int) (*Server, error) {
	s := &Server{
		cfg:    cfg,
		issuer: cfg.Issuer,
		url:    base,
		port:   port,
		clock:  NewClock(cfg.UseMockClock),
		users:  newUserRegistry(cfg.Users),
		done:   make(chan struct{}),
	}
	if s.issuer == "" {
		s.issuer = base
	}
	for _, t := range cfg.TrustedIssuers {
		if t.Server != nil {
			if t.Issuer == "" {
				t.Issuer = t.Server.Issuer()
			}
			if t.JWKS == nil {
				srv := t.Server
				t.JWKS = func(context.Context) (*jose.JSONWebKeySet, error) { ks := srv.JWKS(); return &ks, nil }
			}
			if t.Introspect == nil {
				t.Introspect = t.Server.Introspect
			}
		}
		s.trusted = append(s.trusted, t)
	}
	if err := s.buildProvider(); err != nil {
		return nil, err
	}
	for _, f := range cfg.Faults {
		s.obs.addFault(f)
	}
	s.csrfKey = make([]byte, 32)
	if _, err := rand.Read(s.csrfKey); err != nil {
		return nil, err
	}
	// Clients that reject the test CA are expected; their handshake errors are not news.
	s.httpSrv = &http.Server{Handler: hostguard.Handler(s.routes()), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: log.New(io.Discard, "", 0)}
	return s, nil
}

func (s *Server) buildProvider() error {
	key, err := newKey(s.cfg.SigningAlgorithm)
	if err != nil {
		return fmt.Errorf("idp: signing key: %w", err)
	}
	kid := randomID(8)
	s.signKey = &jose.JSONWebKey{Key: key, KeyID: kid, Algorithm: s.cfg.SigningAlgorithm, Use: "sig"}
	s.jwks = jose.JSONWebKeySet{Keys: []jose.JSONWebKey{s.signKey.Public()}}
	keyGetter := func(context.Context) (any, error) { return s.signKey, nil }

	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	var refreshScopes []string // nil: fosite's default, refresh only with offline(_access)
	if *s.cfg.IssueRefreshTokens {
		refreshScopes = []string{}
	}
	fc := &fosite.Config{
		AccessTokenLifespan:        s.cfg.TokenLifetime,
		RefreshTokenLifespan:       s.cfg.RefreshTokenLifetime,
		AuthorizeCodeLifespan:      10 * time.Minute,
		IDTokenLifespan:            time.Hour,
		IDTokenIssuer:              s.issuer,
		AccessTokenIssuer:          s.issuer,
		TokenURL:                   s.issuer + "/token",
		GlobalSecret:               secret,
		ScopeStrategy:              fosite.ExactScopeStrategy,
		AudienceMatchingStrategy:   audienceStrategy,
		EnforcePKCE:                s.cfg.PKCERequired,
		RefreshTokenScopes:         refreshScopes,
		JWTScopeClaimKey:           jwt.JWTScopeFieldString,
		ClientSecretsHasher:        plainHasher{},
		SendDebugMessagesToClients: true,
	}

	s.clients = newClientRegistry(s.cfg.Scopes)
	s.clients.add(&fosite.DefaultClient{
		ID:            s.cfg.ClientID,
		Secret:        []byte(s.cfg.ClientSecret),
		GrantTypes:    []string{"authorization_code", "refresh_token", "client_credentials", grantTokenExchange},
		ResponseTypes: []string{"code"},
		Scopes:        slices.Clone(s.cfg.Scopes),
		Public:        s.cfg.ClientSecret == "",
	}, true)
	s.store = newStore(s.clients, s.clock)

	var core oauth2.CoreStrategy = compose.NewOAuth2HMACStrategy(fc)
	s.strategy = &clockStrategy{clock: s.clock}
	if s.cfg.SignTokens {
		core = compose.NewOAuth2JWTStrategy(keyGetter, core, fc)
		pub := s.signKey.Public()
		s.strategy.verifyKey = &pub
	}
	s.strategy.inner = core
	strategy := &compose.CommonStrategy{
		CoreStrategy:               s.strategy,
		OpenIDConnectTokenStrategy: &idTokenStrategy{inner: compose.NewOpenIDConnectStrategy(keyGetter, fc), clock: s.clock},
		Signer:                     &jwt.DefaultSigner{GetPrivateKey: keyGetter},
	}
	s.provider = compose.Compose(fc, s.store, strategy,
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OpenIDConnectExplicitFactory,
		compose.OpenIDConnectRefreshFactory,
		compose.OAuth2TokenIntrospectionFactory,
		compose.OAuth2TokenRevocationFactory,
		compose.OAuth2PKCEFactory,
		s.tokenExchangeFactory,
	)
	return nil
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", s.observe(EndpointMetadata, s.handleMetadata))
	mux.HandleFunc("GET /.well-known/openid-configuration", s.observe(EndpointMetadata, s.handleMetadata))
	mux.HandleFunc("GET /jwks", s.observe(EndpointJWKS, s.handleJWKS))
	mux.HandleFunc("/authorize", s.observe(EndpointAuthorize, s.handleAuthorize))
	mux.HandleFunc("POST /token", s.observe(EndpointToken, s.handleToken))
	mux.HandleFunc("POST /introspect", s.observe(EndpointIntrospect, s.handleIntrospect))
	mux.HandleFunc("POST /revoke", s.observe(EndpointRevoke, s.handleRevoke))
	mux.HandleFunc("POST /register", s.observe(EndpointRegister, s.handleRegister))
	mux.HandleFunc("/userinfo", s.observe(EndpointUserInfo, s.handleUserInfo))
	// Date is the origin server's clock (RFC 9110 §6.6.1), here the IdP clock: a resource
	// server that judges token lifetimes and cache TTLs on its IdP's clock reads a mock
	// clock from any answer, as it reads a real IdP's.
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", s.clock.Now().Format(http.TimeFormat))
		mux.ServeHTTP(w, r)
	})
}

// URL is the base URL the server answers on: http(s)://localhost:<port>, or Mount's origin.
func (s *Server) URL() string { return s.url }

// Issuer is the issuer identifier in metadata and tokens.
func (s *Server) Issuer() string { return s.issuer }

// Name is Config.Name.
func (s *Server) Name() string { return s.cfg.Name }

// Scopes are the scopes the IdP knows (Config.Scopes, or the defaults).
func (s *Server) Scopes() []string { return slices.Clone(s.cfg.Scopes) }

// Port is the TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// ClientID is the pre-registered client's id.
func (s *Server) ClientID() string { return s.cfg.ClientID }

// Clock is the IdP clock.
func (s *Server) Clock() *Clock { return s.clock }

// CACertPEM is the PEM of the CA that signed the TLS certificate (nil without UseTLS).
func (s *Server) CACertPEM() []byte { return slices.Clone(s.caPEM) }

// SigningAlgorithm is the JWS algorithm of the IdP's tokens (AlgRS256 or AlgES256).
func (s *Server) SigningAlgorithm() string { return s.signKey.Algorithm }

// JWKS is the public key set that verifies ID tokens and JWT access tokens.
func (s *Server) JWKS() jose.JSONWebKeySet {
	return jose.JSONWebKeySet{Keys: slices.Clone(s.jwks.Keys)}
}

// DenyNext makes the next authorization request end with error=access_denied, whatever
// AutoApprove says or the consent form answers.
func (s *Server) DenyNext() { s.denyNext.Store(true) }

// InjectFault plans a fault (see Fault).
func (s *Server) InjectFault(f Fault) { s.obs.addFault(f) }

// Counters returns the request and token counts so far.
func (s *Server) Counters() Counters {
	s.obs.mu.Lock()
	c := s.obs.counts
	s.obs.mu.Unlock()
	c.TokensIssued = s.store.issued()
	c.TokensActive = s.store.activeAccess(context.Background())
	return c
}

// SubjectCounters are the request counts per subject, for the endpoints that act for one:
// authorize, token by grant, introspect, userinfo and revoke. A request counts for its
// subject whether it was answered or refused: for the subject a grant issued tokens to,
// else as a Fault for one subject would tell it (the owner of a revoked or expired token
// too). A request whose subject the IdP cannot tell (a token it never issued, a subject
// token the exchange refuses) counts in Counters only.
func (s *Server) SubjectCounters() map[string]Counters {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	out := make(map[string]Counters, len(s.obs.bySubject))
	for sub, c := range s.obs.bySubject {
		out[sub] = *c
	}
	return out
}

// Requests returns a copy of the request log.
func (s *Server) Requests() []Request {
	s.obs.mu.Lock()
	defer s.obs.mu.Unlock()
	return slices.Clone(s.obs.requests)
}

// Close stops the server and waits for it; in-flight requests get 5 s to finish.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.httpSrv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.httpSrv.Close()
	}
	<-s.done
	if s.keyReleased.CompareAndSwap(false, true) {
		releaseSigner(s.signKey.Key)
	}
	return err
}
