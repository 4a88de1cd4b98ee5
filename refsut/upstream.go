package refsut

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// upstreamProtocol is what muster's client asks for on initialize (docs/muster-contract.md §4.1).
const upstreamProtocol = mcp.ProtocolVersion20241105

// bearerKey carries, in a call's context, the access token that call must present. Keeping it
// per call (rather than per connection) lets the refresh logic know which token a 401 refused.
type bearerKey struct{}

func withBearer(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, bearerKey{}, token)
}

// upstream is one MCP client session with one upstream server.
type upstream struct {
	spec   ServerSpec
	c      *client.Client
	nRes   int
	nProm  int
	mu     sync.Mutex
	tools  []mcp.Tool
	bearer string // last bearer sent, used for requests without one in their context (GET stream)
	closed bool
}

// errUnauthorized is what a 401 from the upstream turns into, with muster's wording.
var errUnauthorized = errors.New("transport error: request failed with status 401: ")

// dialUpstream opens a new MCP session with the upstream and fetches its tools. life bounds
// the session (stdio children and notification streams end with it); ctx bounds only the
// handshake. onToolsChanged runs, on its own goroutine, when the upstream says its tool list
// changed.
func dialUpstream(ctx, life context.Context, spec ServerSpec, bearer string, httpClient *http.Client, log *slog.Logger, onToolsChanged func(*upstream)) (*upstream, error) {
	u := &upstream{spec: spec, bearer: bearer}
	// mcp-go turns a 403 (or any 4xx but 401) on initialize into "likely a legacy SSE
	// server", losing the status and the challenge; the recorder keeps them so a refused
	// token is reported as what it is.
	rec := &refusalRecorder{next: httpClient.Transport}
	if rec.next == nil {
		rec.next = http.DefaultTransport
	}
	hc := *httpClient
	hc.Transport = rec
	t, err := u.transport(&hc, log)
	if err != nil {
		return nil, err
	}
	u.c = client.NewClient(t, client.WithProtocolVersion(upstreamProtocol))
	// Start takes the session's lifetime: that of the stdio child, the SSE stream or the
	// listening GET stream.
	if err := u.c.Start(life); err != nil {
		return nil, fmt.Errorf("failed to start %s MCP client: %w", spec.Type, err)
	}
	if bearer != "" {
		ctx = withBearer(ctx, bearer)
	}
	res, err := u.handshake(ctx, rec, onToolsChanged)
	if err != nil {
		_ = u.c.Close()
		return nil, err
	}
	if err := u.inventory(ctx, res.Capabilities); err != nil {
		_ = u.c.Close()
		return nil, err
	}
	return u, nil
}

// transport is the MCP transport of the upstream's type, sending the session's bearer
// token (or the one a call carries in its context) over HTTP.
func (u *upstream) transport(httpClient *http.Client, log *slog.Logger) (transport.Interface, error) {
	spec := u.spec
	headerFunc := func(ctx context.Context) map[string]string {
		h := map[string]string{}
		tok, _ := ctx.Value(bearerKey{}).(string)
		if tok == "" {
			u.mu.Lock()
			tok = u.bearer
			u.mu.Unlock()
		}
		if tok != "" {
			h["Authorization"] = "Bearer " + tok
		}
		return h
	}
	switch spec.Type {
	case "streamable-http":
		return transport.NewStreamableHTTP(spec.URL,
			transport.WithContinuousListening(), // the GET stream brings tools/list_changed
			transport.WithHTTPHeaders(spec.Headers),
			transport.WithHTTPHeaderFunc(headerFunc),
			transport.WithHTTPBasicClient(httpClient),
			transport.WithHTTPLogger(log))
	case "sse":
		return transport.NewSSE(spec.URL,
			transport.WithHeaders(spec.Headers),
			transport.WithHeaderFunc(headerFunc),
			transport.WithHTTPClient(httpClient),
			transport.WithSSELogger(log))
	case "stdio":
		env := make([]string, 0, len(spec.Env))
		for k, v := range spec.Env {
			env = append(env, k+"="+v)
		}
		sort.Strings(env)
		return transport.NewStdioWithOptions(spec.Command, env, spec.Args,
			transport.WithCommandLogger(log), transport.WithCommandStderrWriter(io.Discard)), nil
	}
	return nil, fmt.Errorf("unsupported type %q", spec.Type)
}

// handshake initializes the session, naming a refused token as such.
func (u *upstream) handshake(ctx context.Context, rec *refusalRecorder, onToolsChanged func(*upstream)) (*mcp.InitializeResult, error) {
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = upstreamProtocol
	init.Params.ClientInfo = mcp.Implementation{Name: "muster-aggregator", Version: "1.0.0"}
	if onToolsChanged != nil {
		u.c.OnNotification(func(n mcp.JSONRPCNotification) {
			if n.Method == mcp.MethodNotificationToolsListChanged {
				go onToolsChanged(u)
			}
		})
	}
	res, err := u.c.Initialize(ctx, init)
	if err != nil {
		if status, challenge := rec.refusal(); status == http.StatusForbidden {
			return nil, fmt.Errorf("failed to initialize MCP protocol: the server refused the token with HTTP %d (%s): %w", status, challenge, err)
		}
		return nil, fmt.Errorf("failed to initialize MCP protocol: %w", err)
	}
	return res, nil
}

// inventory lists the upstream's tools, and counts its resources and prompts where it has
// them, for the login answer.
func (u *upstream) inventory(ctx context.Context, caps mcp.ServerCapabilities) error {
	if _, _, err := u.relist(ctx); err != nil {
		return fmt.Errorf("failed to list tools: %w", err)
	}
	if caps.Resources != nil {
		if rl, err := u.c.ListResources(ctx, mcp.ListResourcesRequest{}); err == nil {
			u.nRes = len(rl.Resources)
		}
	}
	if caps.Prompts != nil {
		if pl, err := u.c.ListPrompts(ctx, mcp.ListPromptsRequest{}); err == nil {
			u.nProm = len(pl.Prompts)
		}
	}
	return nil
}

// toolList is the upstream's tools as last listed.
func (u *upstream) toolList() []mcp.Tool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.tools
}

// relist fetches the tool list again, returning the previous and the current one.
func (u *upstream) relist(ctx context.Context) (old, cur []mcp.Tool, err error) {
	tl, err := u.c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		return nil, nil, err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	old, u.tools = u.tools, tl.Tools
	return old, tl.Tools, nil
}

// call forwards a tool call under the upstream's own tool name, with the given bearer (if any).
func (u *upstream) call(ctx context.Context, tool string, req mcp.CallToolRequest, bearer string) (*mcp.CallToolResult, error) {
	if bearer != "" {
		u.mu.Lock()
		u.bearer = bearer
		u.mu.Unlock()
		ctx = withBearer(ctx, bearer)
	}
	out := mcp.CallToolRequest{}
	out.Params.Name = tool
	out.Params.Arguments = req.Params.Arguments
	res, err := u.c.CallTool(ctx, out)
	if err != nil {
		return nil, upstreamError(err)
	}
	return res, nil
}

// upstreamError words a failed call as muster does (docs/muster-contract.md §3.6).
func upstreamError(err error) error {
	if isUnauthorized(err) {
		return errUnauthorized
	}
	return err
}

func isUnauthorized(err error) bool {
	var are *transport.AuthorizationRequiredError
	return errors.Is(err, errUnauthorized) || errors.As(err, &are) || errors.Is(err, transport.ErrAuthorizationRequired)
}

// close ends the upstream session, giving up after a short wait: shutdown must stay fast.
func (u *upstream) close() {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return
	}
	u.closed = true
	u.mu.Unlock()
	done := make(chan struct{})
	go func() { _ = u.c.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(50 * time.Millisecond):
	}
}

// refusalRecorder remembers the first 4xx response and its WWW-Authenticate challenge.
// The runner's test tools record HTTP answers too (internal/testtools' httpStatus), on
// purpose differently: a scenario step reports the status of every call, so that one keeps
// the first status and replaces it by the first refusal, 5xx included; the reference SUT
// only names a refused token to its client. refsut imports nothing of this module either.
type refusalRecorder struct {
	next      http.RoundTripper
	mu        sync.Mutex
	status    int
	challenge string
}

func (r *refusalRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err == nil && resp.StatusCode >= 400 && resp.StatusCode < 500 {
		r.mu.Lock()
		if r.status == 0 {
			r.status, r.challenge = resp.StatusCode, resp.Header.Get("WWW-Authenticate")
		}
		r.mu.Unlock()
	}
	return resp, err
}

func (r *refusalRecorder) refusal() (int, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status, r.challenge
}
