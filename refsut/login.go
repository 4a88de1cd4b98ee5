package refsut

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
	"golang.org/x/oauth2"
)

const challengeText = "Authentication Required\n\nServer: %s\nStatus: Authentication required for %s. Please visit the link below to authenticate.\n\nPlease sign in to connect to this server:\n\n%s\n\nAfter signing in, run this tool again to complete the connection."

const connectedText = "Successfully connected to %s!\n\nAvailable capabilities:\n- Tools: %d\n- Resources: %d\n- Prompts: %d\n\nYou can now use the tools from this server."

// login answers x_<server>_authenticate (core=false) and core_auth_login (core=true): connect
// with the session's token for the server's issuer if it has one, else a new challenge.
func (a *Aggregator) login(ctx context.Context, s *serverState, core bool) *mcp.CallToolResult {
	name := s.spec.Name
	sess := a.sessionFromCtx(ctx)
	if core && sess.conn(name) != nil {
		return mcp.NewToolResultText(fmt.Sprintf("Server '%s' is already authenticated and connected.", name))
	}
	if !a.cfg.OAuth.Enabled {
		return mcp.NewToolResultError(fmt.Sprintf("OAuth is not configured. Server %s requires authentication but OAuth proxy is not enabled. Enable OAuth proxy in the configuration to authenticate to remote MCP servers.", name))
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	p, err := a.discover(ctx, s)
	if err != nil {
		a.log.Info("OAuth discovery failed", "server", name, "error", err, "subsystem", "oauth")
		return mcp.NewToolResultError(fmt.Sprintf("Cannot authenticate to %s: unable to discover OAuth authorization server. The server's /.well-known/oauth-protected-resource endpoint may not be available.", name))
	}
	k := a.tokenKey(sess.id, p.issuer)
	if st, ok := a.tokens.get(k); ok {
		u, err := a.connectWithToken(ctx, sess, s, k, st)
		switch {
		case err == nil:
			return mcp.NewToolResultText(fmt.Sprintf(connectedText, name, len(u.toolList()), u.nRes, u.nProm))
		case !isUnauthorized(err) && !errors.Is(err, errNoRefresh):
			return mcp.NewToolResultError(fmt.Sprintf("Failed to connect to %s: %v\n\nPlease try again or check the server status.", name, err))
		}
		a.log.Info("Stored token no longer accepted; new challenge", "server", name, "subsystem", "oauth")
	}
	authURL, err := a.newChallenge(ctx, sess.id, s, p)
	if err != nil {
		return mcp.NewToolResultError("Failed to create authentication challenge: " + err.Error())
	}
	return mcp.NewToolResultText(fmt.Sprintf(challengeText, name, name, authURL))
}

// connectWithToken connects the server for the session, refreshing first when the token is
// near expiry or the upstream refuses it. A failed refresh clears the token.
func (a *Aggregator) connectWithToken(ctx context.Context, sess *sessionState, s *serverState, k tokenKey, st storedToken) (*upstream, error) {
	tok := st.tok
	if st.needsRefresh() {
		nt, err := a.refresh(ctx, k, tok)
		if err != nil {
			a.tokens.drop(k, tok)
			return nil, errNoRefresh
		}
		tok = nt
	}
	u, err := a.connect(ctx, sess, s, tok.AccessToken)
	if isUnauthorized(err) {
		nt, rerr := a.refresh(ctx, k, tok)
		if rerr != nil {
			a.tokens.drop(k, tok)
			return nil, err
		}
		u, err = a.connect(ctx, sess, s, nt.AccessToken)
		if isUnauthorized(err) {
			a.tokens.drop(k, nt)
		}
	}
	return u, err
}

// connect opens a new upstream session for this MCP session and shows it the server's tools.
func (a *Aggregator) connect(ctx context.Context, sess *sessionState, s *serverState, bearer string) (*upstream, error) {
	u, err := dialUpstream(ctx, a.life, s.spec, bearer, a.httpClient, a.log, func(u *upstream) { a.syncSessionTools(sess, s, u) })
	if err != nil {
		return nil, err
	}
	sess.mu.Lock()
	old := sess.conns[s.spec.Name]
	sess.conns[s.spec.Name] = u
	sess.mu.Unlock()
	var oldTools []mcp.Tool
	if old != nil {
		go old.close()
		oldTools = old.toolList()
	}
	// Announced even without tools: the authenticate tool is hidden now.
	a.showSessionTools(ctx, sess, s, oldTools, u.toolList())
	a.log.Info("Connected protected MCP server", "server", s.spec.Name, "session", sess.id, "tools", len(u.toolList()), "subsystem", "aggregator")
	return u, nil
}

// showSessionTools replaces a session's tools of s (old) with cur.
func (a *Aggregator) showSessionTools(ctx context.Context, sess *sessionState, s *serverState, old, cur []mcp.Tool) {
	a.learnTools(s, cur)
	tools := make([]server.ServerTool, 0, len(cur))
	for _, t := range cur {
		tools = append(tools, a.proxyTool(s, t, kindProtected))
	}
	a.updateSessionTools(ctx, sess, tools, missing(a.exposedNames(s, old), a.exposedNames(s, cur)))
}

// syncSessionTools follows a protected upstream's tools/list_changed for one session.
func (a *Aggregator) syncSessionTools(sess *sessionState, s *serverState, u *upstream) {
	ctx, cancel := context.WithTimeout(a.life, 10*time.Second)
	defer cancel()
	old, cur, err := u.relist(ctx)
	if err != nil || sess.conn(s.spec.Name) != u {
		return
	}
	a.showSessionTools(ctx, sess, s, old, cur)
}

func missing(old, cur []string) []string {
	have := map[string]bool{}
	for _, n := range cur {
		have[n] = true
	}
	var out []string
	for _, n := range old {
		if !have[n] {
			out = append(out, n)
		}
	}
	return out
}

// callProtected forwards a call to a protected server over the session's own upstream
// session, refreshing the token near expiry or after a 401 and retrying once.
func (a *Aggregator) callProtected(ctx context.Context, s *serverState, tool string, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	sess := a.sessionFromCtx(ctx)
	u := sess.conn(s.spec.Name)
	if u == nil {
		return nil, fmt.Errorf("not authenticated to server %s", s.spec.Name)
	}
	p, _ := s.discovered()
	k := a.tokenKey(sess.id, p.issuer)
	var tok *oauth2.Token
	if st, ok := a.tokens.get(k); ok {
		tok = st.tok
		if st.needsRefresh() {
			if nt, err := a.refresh(ctx, k, tok); err == nil {
				tok = nt
			}
		}
	}
	bearer := ""
	if tok != nil {
		bearer = tok.AccessToken
	}
	unlock := a.serialize()
	defer unlock()
	res, err := u.call(ctx, tool, req, bearer)
	if isUnauthorized(err) && tok != nil {
		nt, rerr := a.refresh(ctx, k, tok)
		if rerr != nil {
			a.dropAuth(ctx, sess, p.issuer)
		} else {
			res, err = u.call(ctx, tool, req, nt.AccessToken)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("tool execution failed: failed to call tool: %w", err)
	}
	return res, nil
}

// dropAuth puts every server of the issuer back to "auth required" for this session: the
// token is gone, so are the upstream sessions and their tools.
func (a *Aggregator) dropAuth(ctx context.Context, sess *sessionState, issuer string) {
	a.tokens.drop(a.tokenKey(sess.id, issuer), nil)
	for _, s := range a.servers {
		if p, ok := s.discovered(); ok && p.issuer == issuer {
			a.disconnect(ctx, sess, s)
		}
	}
}

// disconnect ends the session's upstream session with s and hides its tools again.
func (a *Aggregator) disconnect(ctx context.Context, sess *sessionState, s *serverState) {
	sess.mu.Lock()
	u := sess.conns[s.spec.Name]
	delete(sess.conns, s.spec.Name)
	sess.mu.Unlock()
	if u == nil {
		return
	}
	go u.close()
	a.updateSessionTools(ctx, sess, nil, a.exposedNames(s, u.toolList()))
	a.log.Debug("Disconnected protected MCP server", "server", s.spec.Name, "session", sess.id, "subsystem", "aggregator")
}

// logout answers core_auth_logout: the session forgets its token for the server's issuer.
func (a *Aggregator) logout(ctx context.Context, s *serverState) *mcp.CallToolResult {
	sess := a.sessionFromCtx(ctx)
	p, ok := s.discovered()
	if !ok {
		return mcp.NewToolResultText(fmt.Sprintf("Server '%s' is not authenticated.", s.spec.Name))
	}
	if a.faults.has(FaultStaleToolsAfterLogout) {
		a.tokens.drop(a.tokenKey(sess.id, p.issuer), nil)
	} else {
		a.dropAuth(ctx, sess, p.issuer)
	}
	a.log.Info("Logged out", "server", s.spec.Name, "session", sess.id, "subsystem", "oauth")
	return mcp.NewToolResultText(fmt.Sprintf("Successfully logged out from %s.", s.spec.Name))
}
