// Package traffic keeps the HTTP requests of a scenario as event.Exchanges, so that each can
// be shown under the step it belongs to (--debug, the HTML report). Two sources fill it:
// the runner's own clients, through Transport, and the mocks' request logs, read at the end
// for what others (the SUT) sent them. A request the runner sent to a mock shows up in
// both; the runner marks its requests with its User-Agent so that the mocks' copies are
// left out.
package traffic

import (
	"bytes"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/oauthclient"
	"github.com/muster-test/muster-test/internal/rpcpeek"
)

// agentPrefix starts the User-Agent of every request the runner records.
const agentPrefix = "muster-test/"

// IsRunner reports whether a User-Agent is the runner's own.
func IsRunner(userAgent string) bool { return strings.HasPrefix(userAgent, agentPrefix) }

// maxExchanges bounds a scenario's log; what comes after is counted, not kept.
const maxExchanges = 10000

// maxPeek is the largest request body read for its JSON-RPC method or grant type.
const maxPeek = 64 << 10

// Log is a scenario's traffic. Its methods are safe for concurrent use; a nil *Log records
// nothing (load runs, which make far too many requests to keep).
type Log struct {
	mu      sync.Mutex
	ex      []event.Exchange
	dropped int
	parties map[string]string // port -> party
}

// New returns an empty log.
func New() *Log { return &Log{parties: map[string]string{}} }

// Name makes requests to the port of rawURL show as going to party (every party listens
// on loopback, on a port of its own).
func (l *Log) Name(rawURL, party string) {
	if l == nil {
		return
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Port() == "" {
		return
	}
	l.mu.Lock()
	l.parties[u.Port()] = party
	l.mu.Unlock()
}

// party names the receiver of a request to host ("host:port"); an address no party was
// named for stays as it is. l.mu is held.
func (l *Log) party(host string) string {
	_, port, err := net.SplitHostPort(host)
	if err != nil {
		return host
	}
	if p, ok := l.parties[port]; ok {
		return p
	}
	return host
}

// Add keeps one exchange.
func (l *Log) Add(ex event.Exchange) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.ex) >= maxExchanges {
		l.dropped++
		return
	}
	l.ex = append(l.ex, ex)
}

// Exchanges returns what was kept, in the order the requests started, and how many more
// were not kept.
func (l *Log) Exchanges() ([]event.Exchange, int) {
	if l == nil {
		return nil, 0
	}
	l.mu.Lock()
	out, dropped := slices.Clone(l.ex), l.dropped
	// Named now, not when recorded: the SUT's address is known only once it started,
	// after its readiness was probed.
	for i := range out {
		out[i].To = l.party(out[i].To)
	}
	l.mu.Unlock()
	slices.SortStableFunc(out, func(a, b event.Exchange) int { return a.Time.Compare(b.Time) })
	return out, dropped
}

// Transport records every request that goes through it as sent by from, and marks it as
// the runner's. A nil *Log returns next unchanged.
func (l *Log) Transport(next http.RoundTripper, from string) http.RoundTripper {
	if l == nil {
		return next
	}
	return &recorder{log: l, next: next, from: from}
}

type recorder struct {
	log  *Log
	next http.RoundTripper
	from string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	ex := event.Exchange{Time: time.Now(), From: r.from, To: req.URL.Host, Method: req.Method,
		Path: oauthclient.RedactURL(req.URL.RequestURI())}
	if tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok {
		ex.Bearer = Secret(strings.TrimSpace(tok))
	}
	// A RoundTripper must not change the request it was given: the mark and a body read
	// for its detail go out in a copy.
	out := req.Clone(req.Context())
	// A User-Agent the caller chose (a test_http_request header) is what the test is
	// about: it stays, and a mock that logs the request cannot tell it from the SUT's.
	if req.Header.Get("User-Agent") == "" {
		out.Header.Set("User-Agent", agentPrefix+r.from)
	}
	if req.Body != nil && req.Body != http.NoBody && req.ContentLength >= 0 && req.ContentLength <= maxPeek {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		ex.Detail = detail(req.Header.Get("Content-Type"), body)
		out.Body = io.NopCloser(bytes.NewReader(body))
		out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := r.next.RoundTrip(out)
	ex.Duration = time.Since(ex.Time)
	if err != nil {
		ex.Error = err.Error()
	} else {
		ex.Status = resp.StatusCode
	}
	r.log.Add(ex)
	return resp, err
}

// CloseIdleConnections passes on to the transport below, which http.Client.CloseIdleConnections
// would otherwise not reach.
func (r *recorder) CloseIdleConnections() {
	if c, ok := r.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// detail says in a few words what a request body asks: the JSON-RPC method (and the tool
// of a tools/call) of an MCP message, the grant type of a token request.
func detail(contentType string, body []byte) string {
	mediaType, _, _ := mime.ParseMediaType(contentType)
	switch mediaType {
	case "application/json":
		return RPCDetail(rpcpeek.Target(body))
	case "application/x-www-form-urlencoded":
		q, err := url.ParseQuery(string(body))
		if err != nil {
			return ""
		}
		return GrantDetail(q.Get("grant_type"))
	}
	return ""
}

// RPCDetail is the Detail of an MCP message: its method, and the tool a tools/call names.
func RPCDetail(method, tool string) string {
	if method == "tools/call" && tool != "" {
		return method + " " + tool
	}
	return method
}

// GrantDetail is the Detail of a token request.
func GrantDetail(grant string) string {
	if grant == "" {
		return ""
	}
	return "grant=" + grant
}

// Secret shortens a token or code for printing: enough of its start to tell its kind and
// tell two apart ("ory_at_Zx7…"), never enough to use it.
func Secret(s string) string {
	const keep = 10
	if len(s) <= 2*keep {
		return strings.Repeat("*", min(len(s), 6))
	}
	return s[:keep] + "…"
}
