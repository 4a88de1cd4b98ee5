package mcpserver

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Call is one tools/call the server received (unknown tools included), with the caller's
// identity as the server validated it. Identity fields are empty on unprotected servers.
type Call struct {
	Time      time.Time
	Tool      string
	Arguments map[string]any // as sent, before defaults
	SessionID string         // MCP session, "" in the stateless protocol
	Subject   string
	Scopes    []string
	Audience  []string
	ClientID  string
	Token     string
}

// callLog is safe for concurrent use.
type callLog struct {
	mu    sync.Mutex
	calls []Call
}

func (l *callLog) record(ctx context.Context, req *mcp.CallToolRequest) {
	c := Call{Time: time.Now(), Tool: req.Params.Name, Arguments: maps.Clone(req.GetArguments())}
	if s := server.ClientSessionFromContext(ctx); s != nil {
		c.SessionID = s.SessionID()
	}
	if who := callerFrom(ctx); who != nil {
		c.Subject, c.ClientID, c.Token = who.Subject, who.ClientID, who.Token
		c.Scopes, c.Audience = slices.Clone(who.Scopes), slices.Clone(who.Audience)
	}
	l.mu.Lock()
	l.calls = append(l.calls, c)
	l.mu.Unlock()
}

// snapshot returns copies of the calls for which keep is true (all when keep is nil).
func (l *callLog) snapshot(keep func(Call) bool) []Call {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]Call, 0, len(l.calls))
	for _, c := range l.calls {
		if keep == nil || keep(c) {
			c.Arguments = maps.Clone(c.Arguments)
			c.Scopes, c.Audience = slices.Clone(c.Scopes), slices.Clone(c.Audience)
			out = append(out, c)
		}
	}
	return out
}

func (l *callLog) reset() {
	l.mu.Lock()
	l.calls = nil
	l.mu.Unlock()
}
