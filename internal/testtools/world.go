// Package testtools implements the runner's `test_*` tools (scenarios/README.md): each is a
// function in one registry, acting on the scenario's mocks and SUT through a World.
package testtools

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/muster-test/muster-test/internal/env"
	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/executor"
	"github.com/muster-test/muster-test/internal/mcpclient"
	"github.com/muster-test/muster-test/internal/result"
	"github.com/muster-test/muster-test/internal/sut"
)

// World is a scenario's environment as the executor and the test tools see it: the mocks,
// the running SUT, and the users' sessions. It implements executor.Harness.
type World struct {
	Env *env.Env
	SUT *sut.Instance
	// Direct says the SUT is of any kind (a sut block): users start without a token and
	// log in with test_oauth_login, the runner being the server's OAuth client.
	Direct bool

	mu       sync.Mutex
	subjects map[string]string // user -> IdP subject chosen with test_create_user
	minted   map[string]string // name -> token minted with test_mint_token
	tokens   map[string]string // user -> access token of its login (direct mode)
	closers  []func()          // OAuth clients of logins, closed after the sessions
	sessions []*mcpclient.Session
	http     *http.Client // the users' browser
	// agent is http's connections seen as the runner's own requests: its OAuth client in
	// direct mode and the probes of the test tools.
	agent *http.Client
}

// NewWorld joins a started environment and SUT; direct for a SUT from a sut block.
func NewWorld(e *env.Env, inst *sut.Instance, direct bool) (*World, error) {
	w := &World{Env: e, SUT: inst, Direct: direct, subjects: map[string]string{}, minted: map[string]string{},
		tokens: map[string]string{}}
	client, err := browser(e.CAFile, inst.CAFile())
	if err != nil {
		return nil, err
	}
	agent := *client
	client.Transport = e.Traffic.Transport(client.Transport, event.PartyBrowser)
	agent.Transport = e.Traffic.Transport(agent.Transport, event.PartyRunner)
	w.http, w.agent = client, &agent
	return w, nil
}

// maxIdleConns bounds the idle connections the browser keeps per host.
const maxIdleConns = 1024

// browser is the HTTP client test tools use where a user's browser would go: it trusts
// the mock IdPs' CA and the SUT's ca_file, explains a certificate it does not trust, and
// never follows redirects, because each hop is inspected.
func browser(caFiles ...string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// Every direct-mode user's calls go through this one transport (load mode logs in
	// hundreds): with the default of 2 idle connections per host, each call past the
	// second in flight dialed a new connection and closed it after.
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = maxIdleConns, maxIdleConns
	cfg, err := sut.TLSConfig(caFiles...)
	if err != nil {
		return nil, err
	}
	if cfg != nil {
		tr.TLSClientConfig = cfg
	}
	return &http.Client{
		Transport:     sut.ExplainingTransport{Next: tr},
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// NewSession implements executor.Harness: a new MCP session to the SUT for user. A subject
// that the scenario's IdPs do not declare becomes a user of each of them, so the user can
// log in as it (the IdPs refuse undeclared subjects).
func (w *World) NewSession(ctx context.Context, user, subject string) (executor.Session, error) {
	if err := declareSubject(w.Env, subject); err != nil {
		return nil, err
	}
	if subject != "" {
		w.mu.Lock()
		w.subjects[user] = subject
		w.mu.Unlock()
	}
	if w.Direct {
		return &lazySession{w: w}, nil
	}
	var opts mcpclient.Options
	if g := w.SUT.Gateway(); g != nil {
		// A SUT that protects itself: the user logs in to it first, as its subject or, like
		// direct mode's users, under its name.
		who := subject
		if who == "" {
			who = user
		}
		rt, release, err := g.Login(ctx, w.SUT.Endpoint, who)
		if err != nil {
			return nil, err
		}
		w.addCloser(release)
		opts.Transport = rt
	}
	s, err := w.connect(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &sutSession{Session: s, sut: w.SUT}, nil
}

// connect opens an MCP session to the SUT that Close ends.
func (w *World) connect(ctx context.Context, opts mcpclient.Options) (*mcpclient.Session, error) {
	s, err := w.SUT.Connect(ctx, opts)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sessions = append(w.sessions, s)
	return s, nil
}

// deathGrace is how long a call that could not be made (not one cut short by its own
// deadline) waits to learn whether the SUT died: the broken connection is often seen
// a moment before the process is reaped.
const deathGrace = time.Second

// sutSession reports a call that failed because the SUT died as that death ("SUT exited
// with code N" and its log tail) instead of a connection error.
type sutSession struct {
	*mcpclient.Session
	sut *sut.Instance
}

func (s *sutSession) CallTool(ctx context.Context, name string, args map[string]any) (*result.Result, error) {
	res, err := s.Session.CallTool(ctx, name, args)
	if err != nil && ctx.Err() == nil {
		if fault := s.sut.FaultWithin(deathGrace); fault != nil {
			return nil, fault
		}
	}
	return res, err
}

func (s *sutSession) ListTools(ctx context.Context) ([]string, error) {
	tools, err := s.Session.ListTools(ctx)
	if err != nil && ctx.Err() == nil {
		if fault := s.sut.FaultWithin(deathGrace); fault != nil {
			return nil, fault
		}
	}
	return tools, err
}

// Fault implements executor.Harness.
func (w *World) Fault() error { return w.SUT.Fault() }

// subject is the IdP subject the user logs in as ("" for the IdP's default user).
func (w *World) subject(user string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.subjects[user]
}

// CloseWithin ends every session the scenario opened, their DELETEs bounded by ctx, and
// returns how many closes ctx cut short.
func (w *World) CloseWithin(ctx context.Context) (cut int) {
	w.mu.Lock()
	sessions := w.sessions
	w.sessions = nil
	w.mu.Unlock()
	for _, s := range sessions {
		if !s.CloseWithin(ctx) {
			cut++
		}
	}
	w.mu.Lock()
	closers := w.closers
	w.closers = nil
	w.mu.Unlock()
	for _, c := range closers {
		c()
	}
	w.http.CloseIdleConnections()
	return cut
}

// worldOf returns the World a test tool runs in.
func worldOf(run *executor.State) (*World, error) {
	w, ok := run.Harness.(*World)
	if !ok {
		return nil, fmt.Errorf("%w: test tools need a muster-test environment, got %T", executor.ErrCannotRun, run.Harness)
	}
	return w, nil
}

// addCloser registers what Close must release after the sessions.
func (w *World) addCloser(f func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closers = append(w.closers, f)
}

// asMap is v's JSON form as a map, for an answer built from a documented struct.
func asMap(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}
