package mcpserver

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"github.com/mark3labs/mcp-go/mcp"
)

// connSession is the mcp-go client session of one relayed connection: what mcp-go's
// process-wide stdio session is to a mock process, one per connection.
type connSession struct {
	notifications chan mcp.JSONRPCNotification
	initialized   atomic.Bool
	level         atomic.Value // mcp.LoggingLevel
}

// SessionID is mcp-go's stdio session's: each connection has a server of its own.
func (c *connSession) SessionID() string                                   { return "stdio" }
func (c *connSession) NotificationChannel() chan<- mcp.JSONRPCNotification { return c.notifications }
func (c *connSession) Initialize()                                         { c.initialized.Store(true) }
func (c *connSession) Initialized() bool                                   { return c.initialized.Load() }
func (c *connSession) SetLogLevel(l mcp.LoggingLevel)                      { c.level.Store(l) }

func (c *connSession) GetLogLevel() mcp.LoggingLevel {
	if l, ok := c.level.Load().(mcp.LoggingLevel); ok {
		return l
	}
	return mcp.LoggingLevelError
}

// serveSession serves newline-delimited JSON-RPC on conn until its input ends or ctx is
// cancelled, the way mcp-go's StdioServer.Listen serves a process's stdin: each request on
// a goroutine of its own (a blocking one, such as subscriptions/listen, must not stall the
// reading), notifications in order, one write at a time; when the input ends, the calls
// still running are cancelled and awaited. mcp-go parses and answers every message.
func (s *Server) serveSession(ctx context.Context, conn net.Conn) error {
	sess := &connSession{notifications: make(chan mcp.JSONRPCNotification, 100)}
	if err := s.mcp.RegisterSession(ctx, sess); err != nil {
		return err
	}
	defer s.mcp.UnregisterSession(context.WithoutCancel(ctx), sess.SessionID())
	ctx, cancel := context.WithCancel(s.mcp.WithContext(ctx, sess))
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()

	var mu sync.Mutex
	write := func(msg mcp.JSONRPCMessage) {
		b, err := json.Marshal(msg)
		if err != nil {
			s.logger.Error("relayed stdio session: encode", "error", err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		_, _ = conn.Write(append(b, '\n')) // a failed write ends the session through its read
	}
	wg.Go(func() {
		for {
			select {
			case n := <-sess.notifications:
				write(n)
			case <-ctx.Done():
				return
			}
		}
	})
	s.logger.Info("mock MCP server serving a relayed stdio session", "tools", describeTools(s.cfg.Tools))
	in := bufio.NewReader(conn)
	for {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			s.handleLine(ctx, &wg, line, write)
		}
		switch {
		case err == nil:
		case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed), ctx.Err() != nil:
			return nil
		default:
			return err
		}
	}
}

// handleLine answers one message: a request (it has an id) on a goroutine of wg, anything
// else, a malformed line included, in turn. A panic is answered as mcp-go's stdio server
// answers it, and must not end the runner that serves the session.
func (s *Server) handleLine(ctx context.Context, wg *sync.WaitGroup, line []byte, write func(mcp.JSONRPCMessage)) {
	var head struct {
		ID any `json:"id"`
	}
	isRequest := json.Unmarshal(line, &head) == nil && head.ID != nil
	handle := func() {
		defer func() {
			if r := recover(); r != nil {
				s.logger.Error("relayed stdio session: panic", "panic", r)
				if isRequest {
					write(mcp.NewJSONRPCError(mcp.NewRequestId(head.ID), mcp.INTERNAL_ERROR, fmt.Sprintf("internal panic: %v", r), nil))
				}
			}
		}()
		if resp := s.mcp.HandleMessage(ctx, json.RawMessage(line)); resp != nil {
			write(resp)
		}
	}
	if isRequest {
		wg.Go(handle)
	} else {
		handle()
	}
}
