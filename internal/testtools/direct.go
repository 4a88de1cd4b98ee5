package testtools

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/mark3labs/mcp-go/client/transport"

	"github.com/muster-test/muster-test/internal/mcpclient"
	"github.com/muster-test/muster-test/internal/result"
)

// lazySession is a direct-mode user before or without a login: its MCP session opens at its
// first call, with no token. A server that refuses it (401) fails that call like any
// failed call, and a later call tries again, so a step after a login-less failure still
// reaches the server.
type lazySession struct {
	w *World

	mu   sync.Mutex
	sess *sutSession
}

func (l *lazySession) open(ctx context.Context) (*sutSession, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sess == nil {
		s, err := l.w.connect(ctx, mcpclient.Options{})
		if err != nil {
			return nil, err
		}
		l.sess = &sutSession{Session: s, sut: l.w.SUT}
	}
	return l.sess, nil
}

func (l *lazySession) CallTool(ctx context.Context, name string, args map[string]any) (*result.Result, error) {
	s, err := l.open(ctx)
	if err != nil {
		var auth *transport.AuthorizationRequiredError
		// A server that answered is alive: only a connection that failed may be its death.
		if !errors.As(err, &auth) {
			if fault := l.w.SUT.FaultWithin(deathGrace); fault != nil {
				return nil, fault
			}
		}
		return result.Failure("open an MCP session without a token: " + explainOpen(err)), nil
	}
	return s.CallTool(ctx, name, args)
}

func (l *lazySession) ListTools(ctx context.Context) ([]string, error) {
	s, err := l.open(ctx)
	if err != nil {
		return nil, fmt.Errorf("open an MCP session without a token: %s", explainOpen(err))
	}
	return s.ListTools(ctx)
}

// explainOpen names a refusal by its HTTP status, which mcp-go's error text leaves out.
func explainOpen(err error) string {
	var auth *transport.AuthorizationRequiredError
	if errors.As(err, &auth) {
		msg := "the server answered 401 Unauthorized"
		if auth.ResourceMetadataURL != "" {
			msg += " (resource_metadata " + auth.ResourceMetadataURL + ")"
		}
		return msg
	}
	return err.Error()
}
