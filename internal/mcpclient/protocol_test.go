package mcpclient

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// legacyOnly makes a test server speak only the revisions with the initialize handshake,
// as the reference SUT does.
var legacyOnly = server.WithStreamableHTTPProtocolVersions(mcp.LegacyProtocolVersions()...)

// wire is what the server saw of one JSON-RPC request.
type wire struct {
	method, header, meta, initParam, session string
}

func wireOf(r seenRequest) wire {
	var msg struct {
		Method string `json:"method"`
		Params struct {
			ProtocolVersion string         `json:"protocolVersion"`
			Meta            map[string]any `json:"_meta"`
		} `json:"params"`
	}
	_ = json.Unmarshal(r.body, &msg)
	meta, _ := msg.Params.Meta[mcp.MetaKeyProtocolVersion].(string)
	return wire{msg.Method, r.header.Get(mcp.HeaderProtocolVersion), meta, msg.Params.ProtocolVersion, r.session}
}

// TestProtocolOnTheWire: the revision a session settles on, negotiated or pinned, is the
// one every later request declares (header, and _meta on the stateless protocol), and a
// session-protocol handshake asks for the pinned revision.
func TestProtocolOnTheWire(t *testing.T) {
	tests := []struct {
		name, pin, want string
		opts            []server.StreamableHTTPOption
		handler         func(http.Handler) http.Handler
	}{
		{name: "negotiated with a server of every revision", want: mcp.ProtocolVersion20260728},
		{name: "negotiated with a session-protocol server", want: mcp.ProtocolVersion20251125, opts: []server.StreamableHTTPOption{legacyOnly}},
		{name: "negotiated with a server older than the stateless protocol", want: mcp.ProtocolVersion20251125, handler: predatesStateless},
		{name: "pinned 2026-07-28", pin: mcp.ProtocolVersion20260728, want: mcp.ProtocolVersion20260728},
		{name: "pinned 2025-11-25", pin: mcp.ProtocolVersion20251125, want: mcp.ProtocolVersion20251125},
		{name: "pinned 2025-06-18", pin: mcp.ProtocolVersion20250618, want: mcp.ProtocolVersion20250618},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t, newToolServer(), tc.opts...)
			if tc.handler != nil {
				srv.wrap(tc.handler)
			}
			s := connect(t, srv.URL, Options{Protocol: tc.pin})
			if s.Protocol() != tc.want {
				t.Fatalf("Protocol() = %q, want %q", s.Protocol(), tc.want)
			}
			if r, err := s.CallTool(ctxT(t), "echo", map[string]any{"name": "x"}); err != nil || r.Failed {
				t.Fatalf("CallTool = %+v, %v", r, err)
			}
			modern := mcp.IsModernProtocol(tc.want)
			var sawCall, sawHandshake bool
			for _, r := range srv.requests() {
				if r.method != http.MethodPost {
					if modern {
						t.Errorf("a %s on the stateless protocol", r.method)
					}
					continue
				}
				w := wireOf(r)
				switch w.method {
				case string(mcp.MethodInitialize):
					sawHandshake = true
					if tc.pin != "" && w.initParam != tc.pin {
						t.Errorf("initialize asked for %q, want the pinned %q", w.initParam, tc.pin)
					}
				case string(mcp.MethodToolsCall):
					sawCall = true
					if w.header != tc.want {
						t.Errorf("tools/call sent %s: %q, want %q", mcp.HeaderProtocolVersion, w.header, tc.want)
					}
					if modern && (w.meta != tc.want || w.session != "") {
						t.Errorf("tools/call on the stateless protocol: _meta version %q, session %q; want %q and none", w.meta, w.session, tc.want)
					}
					if !modern && (w.meta != "" || w.session == "") {
						t.Errorf("tools/call on the session protocol: _meta version %q, session %q; want none and the session", w.meta, w.session)
					}
				}
			}
			if !sawCall || sawHandshake == modern {
				t.Errorf("saw tools/call %v, initialize %v; want the call, and the handshake only on the session protocol", sawCall, sawHandshake)
			}
		})
	}
}

// TestPinnedProtocolNotSpoken: a pinned revision the SUT does not speak fails the
// connection with both revisions named.
func TestPinnedProtocolNotSpoken(t *testing.T) {
	tests := []struct {
		name, pin, settled string
		handler            func(http.Handler) http.Handler
		opts               []server.StreamableHTTPOption
	}{
		{name: "stateless pinned, session-protocol server", pin: mcp.ProtocolVersion20260728, settled: mcp.ProtocolVersion20251125,
			opts: []server.StreamableHTTPOption{legacyOnly}},
		{name: "2025-06-18 pinned, server answers 2025-11-25", pin: mcp.ProtocolVersion20250618, settled: mcp.ProtocolVersion20251125,
			handler: answersOnly(mcp.ProtocolVersion20251125)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h http.Handler = server.NewStreamableHTTPServer(newToolServer(), tc.opts...)
			if tc.handler != nil {
				h = tc.handler(h)
			}
			ts := httptest.NewServer(h)
			t.Cleanup(ts.Close)
			s, err := Connect(ctxT(t), ts.URL, Options{Protocol: tc.pin})
			if err == nil {
				s.Close()
				t.Fatalf("Connect pinned to %s succeeded, settled on %s", tc.pin, s.Protocol())
			}
			var mismatch *ProtocolMismatchError
			if !errors.As(err, &mismatch) || mismatch.Pinned != tc.pin || mismatch.Settled != tc.settled {
				t.Fatalf("error %v (%T), want a ProtocolMismatchError %s -> %s", err, err, tc.pin, tc.settled)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.pin) || !strings.Contains(msg, tc.settled) {
				t.Errorf("error %q does not name both revisions", msg)
			}
			if left := waitClientGoroutinesGone(); left != "" {
				t.Errorf("a failed Connect left client goroutines:\n%s", left)
			}
		})
	}
}

// answersOnly is a server that speaks only version on the session protocol: it asks mcp-go
// for that version whatever initialize asked (mcp-go's server echoes any it knows).
func answersOnly(version string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			var msg map[string]any
			if json.Unmarshal(body, &msg) == nil && msg["method"] == string(mcp.MethodInitialize) {
				msg["params"].(map[string]any)["protocolVersion"] = version
				body, _ = json.Marshal(msg)
			}
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
			next.ServeHTTP(w, r)
		})
	}
}

// predatesStateless is a server older than 2026-07-28, as older mcp-go servers (and
// muster on them) answer an unknown protocol version header: 400, not JSON-RPC.
func predatesStateless(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get(mcp.HeaderProtocolVersion); v != "" && !slices.Contains(mcp.LegacyProtocolVersions(), v) {
			http.Error(w, "Unsupported protocol version: "+v, http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}
