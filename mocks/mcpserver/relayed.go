package mcpserver

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// Relayed is a stdio mock served in this process to relay processes: each TCP connection to
// Addr is one stdio session, on a server of its own, as if a fresh `--mock-mcp-server`
// process had been started with the same config. A SUT starts `muster-test-relay --connect
// ADDR` where it would start the stdio mock; the relay joins its stdin and stdout to the
// connection. The SUT still starts and talks to a child process, but one that costs a few
// milliseconds of CPU instead of the mock's package init (see package relay).
//
// The sessions do not go through mcp-go's StdioServer: mcp-go v1 keeps one stdio session
// per process (its session object and notification channel are package globals), so two
// sessions served side by side would take each other's notifications (the answer to a
// subscriptions/listen, say). Each connection gets its own session instead (session.go).
type Relayed struct {
	cfg    Config
	ln     net.Listener
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// StartRelayed checks cfg as ServeStdio would and listens on 127.0.0.1. The sessions live
// until the relay ends them (the SUT closed its stdin) or Close; ctx carries values only.
func StartRelayed(ctx context.Context, cfg Config) (*Relayed, error) {
	if _, err := newStdioServer(cfg); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Relayed{cfg: cfg, ln: ln, conns: map[net.Conn]struct{}{}}
	r.ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	r.wg.Add(1)
	go r.accept()
	return r, nil
}

// Addr is the host:port a relay connects to.
func (r *Relayed) Addr() string { return r.ln.Addr().String() }

// Close stops listening, ends every session (their calls see a cancelled context) and
// waits for them.
func (r *Relayed) Close() error {
	r.mu.Lock()
	r.closed = true
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.cancel()
	err := r.ln.Close()
	r.wg.Wait()
	return err
}

// acceptRetryMax bounds the pause after a failed accept (out of file descriptors, say),
// as net/http's server does: the listener stays open, so a relay that connects meanwhile
// waits in the backlog and is served once accepting works again.
const acceptRetryMax = time.Second

func (r *Relayed) accept() {
	defer r.wg.Done()
	var pause time.Duration
	for {
		conn, err := r.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			pause = min(max(2*pause, 5*time.Millisecond), acceptRetryMax)
			if r.cfg.Logger != nil {
				r.cfg.Logger.Error("relayed stdio mock: accept failed, retrying", "error", err, "in", pause)
			}
			select {
			case <-time.After(pause):
			case <-r.ctx.Done():
				return
			}
			continue
		}
		pause = 0
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			conn.Close()
			return
		}
		r.conns[conn] = struct{}{}
		r.wg.Add(1)
		r.mu.Unlock()
		go r.serve(conn)
	}
}

// serve runs one session. Closing the connection afterwards is what ends the relay.
func (r *Relayed) serve(conn net.Conn) {
	defer r.wg.Done()
	defer func() {
		r.mu.Lock()
		delete(r.conns, conn)
		r.mu.Unlock()
		conn.Close()
	}()
	s, err := newStdioServer(r.cfg)
	if err == nil {
		err = s.serveSession(r.ctx, conn)
	}
	if err != nil && r.cfg.Logger != nil {
		r.cfg.Logger.Error("relayed stdio session ended", "error", err)
	}
}
