package mcpserver

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/muster-test/muster-test/internal/rpcpeek"
	"github.com/muster-test/muster-test/mocks/internal/respstatus"
)

// Request is one HTTP request the server answered: what a client (a gateway under test,
// say) sent at the HTTP level, refusals by the bearer guard included, which Calls never
// sees.
type Request struct {
	Time     time.Time     `json:"time"` // when it came in
	Duration time.Duration `json:"duration"`
	Method   string        `json:"method"`
	Path     string        `json:"path"`
	// RPCMethod is the JSON-RPC method of a POSTed message ("initialize", "tools/call");
	// "" for other requests and for batches. Tool is the tool a tools/call names.
	RPCMethod string `json:"rpc_method,omitempty"`
	Tool      string `json:"tool,omitempty"`
	// Bearer is the token of the Authorization header, "" without one. It is the caller's
	// secret: shorten it before printing.
	Bearer    string `json:"bearer,omitempty"`
	Status    int    `json:"status"`
	UserAgent string `json:"user_agent,omitempty"`
}

// maxRequests bounds the request log of a long-running server; the oldest half is dropped.
const maxRequests = 100000

// maxPeek is the largest body read to learn a message's JSON-RPC method; a larger one is
// passed on unread (a test's messages are far smaller).
const maxPeek = 1 << 20

type requestLog struct {
	mu   sync.Mutex
	reqs []Request
}

func (l *requestLog) add(r Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.reqs) >= maxRequests {
		l.reqs = append(l.reqs[:0], l.reqs[maxRequests/2:]...)
	}
	l.reqs = append(l.reqs, r)
}

func (l *requestLog) snapshot() []Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.reqs)
}

// Requests returns a copy of the HTTP request log, in the order the answers finished (an
// event stream is logged when it ends).
func (s *Server) Requests() []Request { return s.requests.snapshot() }

// logRequests wraps the whole HTTP surface, so that refusals are logged too.
func (l *requestLog) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entry := Request{Time: time.Now(), Method: r.Method, Path: r.URL.Path, UserAgent: r.UserAgent()}
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			entry.Bearer = strings.TrimSpace(tok)
		}
		if r.Method == http.MethodPost && r.Body != nil && r.ContentLength <= maxPeek {
			body, err := io.ReadAll(io.LimitReader(r.Body, maxPeek))
			r.Body.Close()
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errorReader{err}))
			entry.RPCMethod, entry.Tool = rpcpeek.Target(body)
		}
		sw := &respstatus.Writer{ResponseWriter: w}
		defer func() {
			entry.Duration, entry.Status = time.Since(entry.Time), sw.Status
			l.add(entry)
		}()
		next.ServeHTTP(sw, r)
	})
}

// errorReader ends a re-read body with the error that cut the first read (nil: EOF).
type errorReader struct{ err error }

func (e errorReader) Read([]byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	return 0, io.EOF
}
