package mcpclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// traceLimit is how much of a body one trace line shows: enough for a JSON-RPC message
// of a typical tool call, short enough to keep a failing scenario's trace readable.
const traceLimit = 2000

// errSessionClosed refuses requests after Close, so that nothing the mcp-go transport
// still has in flight can open (and park) a new connection.
var errSessionClosed = errors.New("mcp session closed")

// roundTripper is the HTTP layer under the mcp-go transport: it refuses requests once the
// session is closed and, when emit is set, reports every request and response body.
type roundTripper struct {
	next   http.RoundTripper
	emit   func(string) // nil: no trace
	closed atomic.Bool
	// bound, once set, also ends every request (the session DELETE of Close) when it ends.
	bound atomic.Pointer[context.Context]
}

func (rt *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if rt.closed.Load() {
		return nil, errSessionClosed
	}
	b := rt.bound.Load()
	if b == nil {
		return rt.roundTrip(req)
	}
	ctx, cancel := context.WithCancel(req.Context())
	stop := context.AfterFunc(*b, cancel)
	release := func() { stop(); cancel() }
	resp, err := rt.roundTrip(req.WithContext(ctx))
	if err != nil {
		release()
		return nil, err
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// releasingBody frees a bounded request's context once its body is closed.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.release()
	return err
}

func (rt *roundTripper) roundTrip(req *http.Request) (*http.Response, error) {
	if rt.emit == nil {
		return rt.next.RoundTrip(req)
	}
	target := req.URL.RequestURI()
	req, err := rt.traceRequest(req, target)
	if err != nil {
		return nil, err
	}
	resp, err := rt.next.RoundTrip(req)
	if err != nil {
		rt.emit(fmt.Sprintf("<- %s %s error: %v", req.Method, target, err))
		return nil, err
	}
	rt.traceResponse(resp)
	return resp, nil
}

// traceRequest reports the request line and body. It returns the request to send: a
// RoundTripper may consume the body but not modify the request, so a body read for the
// trace goes out in a clone (mcp-go's bodies are small in-memory JSON).
func (rt *roundTripper) traceRequest(req *http.Request, target string) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		rt.emit(fmt.Sprintf("-> %s %s", req.Method, target))
		return req, nil
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading request body for the trace: %w", err)
	}
	rt.emit(fmt.Sprintf("-> %s %s %s", req.Method, target, clip(body)))
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	out.ContentLength = int64(len(body))
	return out, nil
}

// traceResponse reports a response. An SSE body (the GET notification stream, or a POST
// answered as a stream) stays open for long, so its events are reported as they are read;
// any other body is read whole here and replaced.
func (rt *roundTripper) traceResponse(resp *http.Response) {
	mediaType, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mediaType == "text/event-stream" {
		rt.emit(fmt.Sprintf("<- %d (SSE stream)", resp.StatusCode))
		resp.Body = &sseTap{body: resp.Body, emit: rt.emit}
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	line := fmt.Sprintf("<- %d", resp.StatusCode)
	if len(body) > 0 {
		line += " " + clip(body)
	}
	if err != nil {
		line += fmt.Sprintf(" (read error: %v)", err)
	}
	rt.emit(line)
	var rest io.Reader = bytes.NewReader(body)
	if err != nil {
		rest = io.MultiReader(rest, errReader{err})
	}
	resp.Body = io.NopCloser(rest)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// sseTap passes an SSE body through unchanged and reports each event it carries.
// Read and Close may run on different goroutines (mcp-go closes the body to interrupt a
// blocked read); only Read touches the parse state.
type sseTap struct {
	body  io.ReadCloser
	emit  func(string)
	line  []byte // the current, unfinished line
	event string
	data  []byte
}

func (t *sseTap) Read(p []byte) (int, error) {
	n, err := t.body.Read(p)
	t.feed(p[:n])
	if err == io.EOF {
		// An event the stream ended without a blank line is still reported.
		if len(t.line) > 0 {
			t.feedLine(t.line)
			t.line = nil
		}
		t.flush()
	}
	return n, err
}

func (t *sseTap) Close() error { return t.body.Close() }

func (t *sseTap) feed(b []byte) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			t.line = appendCapped(t.line, b)
			return
		}
		t.feedLine(appendCapped(t.line, b[:i]))
		t.line = t.line[:0]
		b = b[i+1:]
	}
}

func (t *sseTap) feedLine(line []byte) {
	line = bytes.TrimSuffix(line, []byte("\r"))
	switch {
	case len(line) == 0:
		t.flush()
	case bytes.HasPrefix(line, []byte("data:")):
		if len(t.data) > 0 {
			t.data = append(t.data, '\n')
		}
		t.data = appendCapped(t.data, bytes.TrimPrefix(line[len("data:"):], []byte(" ")))
	case bytes.HasPrefix(line, []byte("event:")):
		t.event = strings.TrimSpace(string(line[len("event:"):]))
	}
}

func (t *sseTap) flush() {
	if len(t.data) > 0 {
		event := t.event
		if event == "" {
			event = "message"
		}
		t.emit(fmt.Sprintf("<- SSE %s %s", event, clip(t.data)))
	}
	t.event, t.data = "", t.data[:0]
}

// appendCapped appends b to dst but keeps no more than a trace line can show (plus a
// margin, so that clip still sees the text is longer): a stream's lines can be long.
func appendCapped(dst, b []byte) []byte {
	if room := 2*traceLimit - len(dst); room < len(b) {
		b = b[:max(room, 0)]
	}
	return append(dst, b...)
}

// clip makes a body one trace line: newlines become spaces (in JSON they are only ever
// whitespace) and it is cut at traceLimit bytes, on a rune boundary.
func clip(b []byte) string {
	s := strings.TrimSpace(string(b))
	s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	if len(s) <= traceLimit {
		return s
	}
	cut := traceLimit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + " …(cut)"
}

// serialize makes a trace function safe to call from the transport's many goroutines,
// and keeps its lines whole.
func serialize(f func(string)) func(string) {
	if f == nil {
		return nil
	}
	var mu sync.Mutex
	return func(s string) {
		mu.Lock()
		defer mu.Unlock()
		f(s)
	}
}

// lineWriter turns mcp-go's log records (one Write each, from slog's text handler) into
// trace lines.
type lineWriter func(string)

func (w lineWriter) Write(p []byte) (int, error) {
	w("mcp-go: " + strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
