package refsut

import (
	"context"
	"maps"
	"net/http"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Session tools are changed here rather than with mcp-go's AddSessionTools and
// DeleteSessionTools, because those send tools/list_changed at once, from inside the tool
// call that logs in or out. mcp-go v1.2.1 (streamable HTTP, no event store) can lose such
// a notification: the request's forwarder takes it off the session's channel, then finds the
// request finished and drops it (seen for half the logouts of a client without a listening
// stream). So a change made while a request runs is announced after that request's
// response has been written, when the listening GET stream, or the next request, takes it.

// deferredNotes collects the sessions to notify once the current HTTP request is answered.
type deferredNotes struct {
	mu  sync.Mutex
	ids map[string]bool
}

type deferKey struct{}

// deferNotifications wraps the MCP handler: notifications requested while it serves a
// request go out after it returns.
func (a *Aggregator) deferNotifications(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d := &deferredNotes{ids: map[string]bool{}}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), deferKey{}, d)))
		d.mu.Lock()
		ids := d.ids
		d.ids = nil
		d.mu.Unlock()
		for id := range ids {
			a.notifyToolsChanged(id)
		}
	})
}

func (a *Aggregator) notifyToolsChanged(sessionID string) {
	if err := a.mcp.SendNotificationToSpecificClient(sessionID, mcp.MethodNotificationToolsListChanged, nil); err != nil {
		a.log.Debug("tools/list_changed not sent", "session", sessionID, "error", err)
	}
}

// toolsChanged announces a change of the session's tool list, after the current request if
// there is one.
func (a *Aggregator) toolsChanged(ctx context.Context, sessionID string) {
	if d, ok := ctx.Value(deferKey{}).(*deferredNotes); ok {
		d.mu.Lock()
		if d.ids != nil {
			d.ids[sessionID] = true
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
	}
	a.notifyToolsChanged(sessionID)
}

// updateSessionTools removes and adds tools of one session, then announces the change.
func (a *Aggregator) updateSessionTools(ctx context.Context, sess *sessionState, add []server.ServerTool, remove []string) {
	sess.mu.Lock()
	st, ok := sess.client.(server.SessionWithTools)
	if ok {
		next := maps.Clone(st.GetSessionTools())
		if next == nil {
			next = map[string]server.ServerTool{}
		}
		for _, n := range remove {
			delete(next, n)
		}
		for _, t := range add {
			next[t.Tool.Name] = t
		}
		st.SetSessionTools(next)
	}
	sess.mu.Unlock()
	if !ok {
		a.log.Debug("session cannot hold tools", "session", sess.id)
		return
	}
	a.toolsChanged(ctx, sess.id)
}
