// Package mcpclient is the MCP client muster-test talks to the system under test with: one
// Session per scenario user, over streamable HTTP, on mcp-go. It negotiates the newest
// protocol revision both sides speak (the stateless 2026-07-28, else the session protocol
// of initialize + Mcp-Session-Id that muster speaks), or the one Options.Protocol pins.
//
// Tool calls bypass mcp-go's Client.CallTool, which turns known JSON-RPC error codes into
// sentinel errors and drops their message: scenario files match on that message (`tool 'x'
// not found: tool not found`). A JSON-RPC error or an isError result is a failed
// *result.Result; only a call that could not be made returns a Go error.
//
// Newer muster hides its tools behind meta-tools: when tools/list shows `call_tool`, every
// other tool is called through it and its reply unwrapped, so callers see one call style.
package mcpclient

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// Options configure a session.
type Options struct {
	// Trace, when set, receives one line per HTTP request and response exchanged with the
	// SUT (`-> POST /mcp {...}`, `<- 200 {...}`, `<- SSE message {...}`), bodies cut at
	// about 2000 bytes, and mcp-go's warnings. Calls are serialized.
	Trace func(string)
	// Timeout bounds each request the session sends (0: only the caller's context does).
	// It is deliberately not the http.Client's Timeout, which would also cut the
	// long-lived GET stream that carries notifications.
	Timeout time.Duration
	// Headers are sent with every request, except the DELETE that mcp-go sends on Close.
	Headers map[string]string
	// Transport carries the session's requests below the trace, e.g. one that adds an OAuth
	// token and refreshes it (default: a transport of the session's own).
	Transport http.RoundTripper
	// TLS configures the session's own transport (e.g. the CAs of a SUT on https); unused
	// with Transport.
	TLS *tls.Config
	// Record, when set, wraps the session's own transport (not Transport, whose owner
	// records it where it sees the token), e.g. to keep a log of the requests.
	Record func(http.RoundTripper) http.RoundTripper
	// Protocol pins the MCP protocol revision (e.g. "2025-06-18"): Connect fails with a
	// *ProtocolMismatchError when the SUT settles on another. "" negotiates.
	Protocol string
}

// Session is one user's MCP session with the SUT. Its methods are safe for concurrent use.
type Session struct {
	client   *client.Client
	tr       transport.Interface
	conns    *http.Transport // this session's own connections
	gate     *roundTripper
	id       string
	protocol string
	timeout  time.Duration
	life     context.CancelFunc
	ids      atomic.Int64

	styleMu   sync.Mutex
	styleSet  atomic.Bool
	metaTools atomic.Bool

	cbMu         sync.Mutex
	toolsChanged []func()
	stopListen   func() // ends the subscriptions/listen stream (stateless protocol)

	closeOnce sync.Once
	closeErr  error
}

// firstRequestID numbers our requests far above the ids mcp-go's client gives its own
// (initialize is 1), so that no two requests of the session share an id.
const firstRequestID = 1 << 20

// Connect opens a session: it settles the protocol revision (server/discover, else the
// initialize handshake) and, on the session protocol, starts the GET notification stream.
// ctx bounds the handshake only.
func Connect(ctx context.Context, endpoint string, opts Options) (*Session, error) {
	// A transport of its own, so Close can drop this session's idle connections without
	// touching other sessions'.
	base := http.DefaultTransport.(*http.Transport).Clone()
	// A session's calls may overlap (parallel steps, load mode's users cast into other
	// users' workflows); past the default 2 idle connections each would dial anew.
	base.MaxIdleConnsPerHost = 16
	if opts.TLS != nil {
		base.TLSClientConfig = opts.TLS.Clone()
	}
	emit := serialize(opts.Trace)
	var next http.RoundTripper = base
	if opts.Transport != nil {
		next = opts.Transport
	} else if opts.Record != nil {
		next = opts.Record(base)
	}
	gate := &roundTripper{next: next, emit: emit}

	logger := slog.New(slog.DiscardHandler)
	if emit != nil {
		logger = slog.New(slog.NewTextHandler(lineWriter(emit), &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	topts := []transport.StreamableHTTPCOption{
		transport.WithContinuousListening(),
		transport.WithHTTPBasicClient(&http.Client{Transport: gate}),
		transport.WithHTTPLogger(logger),
	}
	if len(opts.Headers) > 0 {
		topts = append(topts, transport.WithHTTPHeaders(maps.Clone(opts.Headers)))
	}
	tr, err := transport.NewStreamableHTTP(endpoint, topts...)
	if err != nil {
		return nil, err
	}
	var copts []client.ClientOption
	if opts.Protocol != "" {
		copts = append(copts, client.WithProtocolVersion(opts.Protocol))
	}
	c := client.NewClient(anyEra{tr}, copts...)

	// The transport's GET listener lives as long as the context given to Start: not the
	// caller's ctx, which may end once the handshake is done.
	life, cancel := context.WithCancel(context.Background())
	s := &Session{client: c, tr: c.GetTransport(), conns: base, gate: gate, timeout: opts.Timeout, life: cancel}
	s.ids.Store(firstRequestID)
	c.OnNotification(s.notified)
	if err := c.Start(life); err != nil {
		s.Close()
		return nil, fmt.Errorf("start MCP transport to %s: %w", endpoint, err)
	}

	ictx, icancel := s.bound(ctx)
	defer icancel()
	_, err = c.Initialize(ictx, mcp.InitializeRequest{Params: mcp.InitializeParams{
		ProtocolVersion: opts.Protocol,
		ClientInfo:      clientInfo,
	}})
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("initialize MCP session with %s: %w", endpoint, err)
	}
	s.id, s.protocol = s.tr.GetSessionId(), c.ProtocolVersion()
	if opts.Protocol != "" && s.protocol != opts.Protocol {
		s.Close()
		return nil, &ProtocolMismatchError{Pinned: opts.Protocol, Settled: s.protocol}
	}
	return s, nil
}

// Protocol is the MCP protocol revision the session settled on.
func (s *Session) Protocol() string { return s.protocol }

// ID is the Mcp-Session-Id the SUT issued ("" if it issued none). It stays readable after
// Close.
func (s *Session) ID() string { return s.id }

// MetaTools reports whether the SUT is called through the `call_tool` meta-tool. It is
// decided by the first non-empty tools/list of the session (the first CallTool or
// ListTools), and false until then.
func (s *Session) MetaTools() bool { return s.metaTools.Load() }

// OnToolsChanged registers f to run on every notifications/tools/list_changed. f runs on
// the goroutine that reads the SUT's stream: it must not block. On the stateless protocol,
// which has no GET stream, the first registration opens a subscriptions/listen stream.
func (s *Session) OnToolsChanged(f func()) {
	s.cbMu.Lock()
	defer s.cbMu.Unlock()
	s.toolsChanged = append(s.toolsChanged, f)
	if s.stopListen != nil || !mcp.IsModernProtocol(s.protocol) || s.gate.closed.Load() {
		return
	}
	stop, err := s.client.ListenAsync(context.Background(), mcp.SubscriptionFilter{ToolsListChanged: true}, func(err error) {
		if s.gate.emit != nil {
			s.gate.emit("subscriptions/listen ended: " + err.Error())
		}
	})
	if err == nil {
		s.stopListen = stop
	}
}

func (s *Session) notified(n mcp.JSONRPCNotification) {
	if n.Method != mcp.MethodNotificationToolsListChanged {
		return
	}
	s.cbMu.Lock()
	fs := slices.Clone(s.toolsChanged)
	s.cbMu.Unlock()
	for _, f := range fs {
		f()
	}
}

// Close ends the session: mcp-go sends the session DELETE and stops the GET listener, and
// no request goes out afterwards. The listener's goroutines finish shortly after Close
// returns (they notice the closed transport).
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		// Not under cbMu: the stream's reader may be waiting for it to deliver a notification.
		s.cbMu.Lock()
		stop := s.stopListen
		s.cbMu.Unlock()
		if stop != nil {
			stop()
		}
		s.closeErr = s.client.Close()
		s.gate.closed.Store(true)
		s.life()
		s.conns.CloseIdleConnections()
	})
	return s.closeErr
}

// CloseWithin is Close bounded by ctx: mcp-go gives the session DELETE 5 s of its own, which
// a SUT that no longer answers (a frozen one) would use up. It reports false when ctx ended
// before Close returned, the DELETE then being abandoned.
func (s *Session) CloseWithin(ctx context.Context) bool {
	s.gate.bound.Store(&ctx)
	s.Close()
	return ctx.Err() == nil
}

// bound applies the session's Timeout to ctx.
func (s *Session) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.timeout > 0 {
		return context.WithTimeout(ctx, s.timeout)
	}
	return context.WithCancel(ctx)
}

// rpcError is a JSON-RPC error answer to a request other than tools/call, where it means
// the request could not be served.
type rpcError struct {
	method string
	mcp.JSONRPCErrorDetails
}

func (e *rpcError) Error() string {
	return fmt.Sprintf("%s: JSON-RPC error %d: %s", e.method, e.Code, e.Message)
}

// transportError is a request that the transport could not make. It wraps the transport's
// error for errors.Is and As; its text drops a repeated part, since mcp-go's streamable
// HTTP transport wraps a failed POST in "failed to send request: " twice (once where it
// sends, once in SendRequest).
type transportError struct {
	method string
	err    error
}

func (e *transportError) Error() string {
	parts := strings.Split(e.err.Error(), ": ")
	parts = slices.Compact(parts)
	return e.method + ": " + strings.Join(parts, ": ")
}

func (e *transportError) Unwrap() error { return e.err }

// send sends one request through the transport (not the mcp-go client, so JSON-RPC errors
// keep their code and message) and returns the response, which may carry an error.
func (s *Session) send(ctx context.Context, method string, params any) (*transport.JSONRPCResponse, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	params, header, err := s.stamp(method, params)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	resp, err := s.tr.SendRequest(ctx, transport.JSONRPCRequest{
		JSONRPC: mcp.JSONRPC_VERSION,
		ID:      mcp.NewRequestId(s.ids.Add(1)),
		Method:  method,
		Params:  params,
		Header:  header,
	})
	if err != nil {
		return nil, &transportError{method: method, err: err}
	}
	if resp == nil {
		return nil, fmt.Errorf("%s: no response", method)
	}
	return resp, nil
}

// request is send for methods whose JSON-RPC error is a failure to serve; it decodes the
// result into out.
func (s *Session) request(ctx context.Context, method string, params, out any) error {
	resp, err := s.send(ctx, method, params)
	if err != nil {
		return err
	}
	if resp.Error != nil {
		return &rpcError{method: method, JSONRPCErrorDetails: *resp.Error}
	}
	if err := json.Unmarshal(resp.Result, out); err != nil {
		return fmt.Errorf("%s: malformed result: %w", method, err)
	}
	return nil
}

// listToolsRPC returns every tool of tools/list, following its pages.
func (s *Session) listToolsRPC(ctx context.Context) ([]mcp.Tool, error) {
	var tools []mcp.Tool
	seen := map[mcp.Cursor]bool{}
	var cursor mcp.Cursor
	for {
		var page mcp.ListToolsResult
		if err := s.request(ctx, string(mcp.MethodToolsList), mcp.PaginatedParams{Cursor: cursor}, &page); err != nil {
			return nil, err
		}
		tools = append(tools, page.Tools...)
		cursor = page.NextCursor
		if cursor == "" {
			return tools, nil
		}
		if seen[cursor] {
			return nil, fmt.Errorf("tools/list: the SUT repeated cursor %q", cursor)
		}
		seen[cursor] = true
	}
}

// ReadResource returns the text of the resource's first content (e.g. auth://status).
func (s *Session) ReadResource(ctx context.Context, uri string) (string, error) {
	var raw json.RawMessage
	if err := s.request(ctx, string(mcp.MethodResourcesRead), mcp.ReadResourceParams{URI: uri}, &raw); err != nil {
		return "", err
	}
	res, err := mcp.ParseReadResourceResult(&raw)
	if err != nil {
		return "", fmt.Errorf("resources/read %s: %w", uri, err)
	}
	if len(res.Contents) == 0 {
		return "", fmt.Errorf("resources/read %s: no contents", uri)
	}
	text, ok := mcp.AsTextResourceContents(res.Contents[0])
	if !ok {
		return "", fmt.Errorf("resources/read %s: the first content is not text", uri)
	}
	return text.Text, nil
}
