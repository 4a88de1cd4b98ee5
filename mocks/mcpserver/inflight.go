package mcpserver

import (
	"context"
	"sync"

	"github.com/mark3labs/mcp-go/server"
)

// inflight ties running tool calls to the life of their session and of the server. Over
// SSE, mcp-go detaches a call from its HTTP request and the client sends no cancellation
// (it is an HTTP transport), so without this a delayed call would outlive its session and
// even Close.
type inflight struct {
	mu        sync.Mutex
	closed    bool
	next      uint64
	bySession map[string]map[uint64]context.CancelFunc
}

// track returns a context cancelled when ctx ends, the call's session ends, or the server
// closes; release must be called when the call is done.
func (f *inflight) track(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	sid := ""
	if s := server.ClientSessionFromContext(ctx); s != nil {
		sid = s.SessionID()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		cancel()
		return ctx, cancel
	}
	if f.bySession == nil {
		f.bySession = map[string]map[uint64]context.CancelFunc{}
	}
	if f.bySession[sid] == nil {
		f.bySession[sid] = map[uint64]context.CancelFunc{}
	}
	f.next++
	id := f.next
	f.bySession[sid][id] = cancel
	return ctx, func() {
		cancel()
		f.mu.Lock()
		delete(f.bySession[sid], id)
		if len(f.bySession[sid]) == 0 {
			delete(f.bySession, sid)
		}
		f.mu.Unlock()
	}
}

// endSession cancels the calls of a session that went away.
func (f *inflight) endSession(sid string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, cancel := range f.bySession[sid] {
		cancel()
	}
}

// closeAll cancels every call and refuses new ones.
func (f *inflight) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for _, calls := range f.bySession {
		for _, cancel := range calls {
			cancel()
		}
	}
}
