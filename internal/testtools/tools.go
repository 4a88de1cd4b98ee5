package testtools

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	"github.com/muster-test/muster-test/internal/env"
	"github.com/muster-test/muster-test/internal/executor"
	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/scenario"
)

// mcpServer resolves the `server` argument to an mcp_servers entry.
func mcpServer(run *executor.State, args map[string]any) (*World, *env.Server, error) {
	w, err := worldOf(run)
	if err != nil {
		return nil, nil, err
	}
	name := executor.StringArg(args, "server")
	srv, ok := w.Env.Server(name)
	if !ok {
		return nil, nil, fmt.Errorf("no MCP server named %q in this scenario", name)
	}
	return w, srv, nil
}

// protectedServer resolves `server` to an OAuth-protected mcp_servers entry.
func protectedServer(run *executor.State, args map[string]any) (*World, *env.Server, error) {
	w, srv, err := mcpServer(run, args)
	if err != nil {
		return nil, nil, err
	}
	if !srv.Protected {
		return nil, nil, fmt.Errorf("server %s %w", srv.Name, errNotProtected)
	}
	return w, srv, nil
}

// httpMock resolves `server` to an in-process mock, the only kind the runner can reach.
func httpMock(run *executor.State, args map[string]any) (*World, *env.Server, error) {
	w, srv, err := mcpServer(run, args)
	if err != nil {
		return nil, nil, err
	}
	if srv.HTTP == nil {
		return nil, nil, fmt.Errorf("server %s is not an in-process HTTP mock (stdio mocks and real servers run inside the SUT)", srv.Name)
	}
	return w, srv, nil
}

// idps resolves the optional `server` argument to mock IdPs: the named one (named is
// true), or all of them when it is absent or empty.
func idps(run *executor.State, args map[string]any) (w *World, names []string, named bool, err error) {
	if w, err = worldOf(run); err != nil {
		return nil, nil, false, err
	}
	name := executor.StringArg(args, "server")
	if name == "" {
		names := w.Env.IdPNames()
		if len(names) == 0 {
			return nil, nil, false, fmt.Errorf("this scenario has no mock OAuth servers")
		}
		return w, names, false, nil
	}
	if _, ok := w.Env.IdP(name); !ok {
		return nil, nil, false, fmt.Errorf("no mock OAuth server named %q in this scenario", name)
	}
	return w, []string{name}, true, nil
}

func injectToken(ctx context.Context, run *executor.State, args map[string]any) (map[string]any, error) {
	w, srv, err := protectedServer(run, args)
	if err != nil {
		return nil, err
	}
	token, scope := executor.StringArg(args, "token"), executor.StringArg(args, "scope")
	life, _ := scenario.ToolDuration(args["expires_in"]) // checked against the declaration
	if _, given := args["expires_in"]; given && life <= 0 {
		// The IdP would read 0 as "its default lifetime": a token the scenario meant to be
		// expired would be valid for an hour.
		return nil, fmt.Errorf("argument \"expires_in\" must be positive, got %v (advance the IdP's mock clock to expire a token)", args["expires_in"])
	}
	s, _ := w.Env.IdP(srv.IdP)
	o := srv.Decl.Mock.OAuth
	if scope == "" {
		scope = o.Scope // a token the server accepts unless the scenario says otherwise
	}
	opts := idp.InjectOptions{Subject: w.subject(run.CurrentUser()), Scopes: strings.Fields(scope), ExpiresIn: life}
	if o.Audience != "" {
		opts.Audience = []string{o.Audience}
	}
	if err := s.InjectToken(token, opts); err != nil {
		return nil, fmt.Errorf("inject token at IdP %s: %w", srv.IdP, err)
	}
	return map[string]any{"success": true, "message": "Token injected successfully for server " + srv.Name,
		"server": srv.Name, "oauth_server": srv.IdP}, nil
}

func oauthServerInfo(_ context.Context, run *executor.State, args map[string]any) (map[string]any, error) {
	w, names, named, err := idps(run, args)
	if err != nil {
		return nil, err
	}
	if named {
		return describeIdP(w, names[0]), nil
	}
	all := map[string]any{}
	for _, n := range names {
		all[n] = describeIdP(w, n)
	}
	return map[string]any{"success": true, "oauth_servers": all}, nil
}

func describeIdP(w *World, name string) map[string]any {
	s, _ := w.Env.IdP(name)
	c := s.Counters()
	subjects := map[string]any{}
	for sub, sc := range s.SubjectCounters() {
		subjects[sub] = requestCounts(sc)
	}
	return map[string]any{
		"success":       true,
		"name":          name,
		"port":          s.Port(),
		"issuer_url":    s.Issuer(),
		"metadata_url":  s.Issuer() + "/.well-known/oauth-authorization-server",
		"jwks_url":      s.Issuer() + "/jwks",
		"clock":         s.Clock().Now().UTC().Format(time.RFC3339Nano),
		"mock_clock":    s.Clock().Mock(),
		"requests":      requestCounts(c),
		"subjects":      subjects,
		"tokens_issued": c.TokensIssued,
		"tokens_active": c.TokensActive,
	}
}

// requestCounts are an IdP's request counters as test_get_oauth_server_info answers them.
func requestCounts(c idp.Counters) map[string]any {
	return map[string]any{
		"authorize": c.Authorize, "token": c.Token, "refresh": c.Refresh, "introspect": c.Introspect,
		"userinfo": c.UserInfo, "register": c.Register, "revoke": c.Revoke, "exchange": c.Exchange,
		"authorization_code": c.AuthorizationCode, "client_credentials": c.ClientCredentials,
		"authorize_without_resource": c.AuthorizeWithoutResource, "token_without_resource": c.TokenWithoutResource,
	}
}

func advanceClock(_ context.Context, run *executor.State, args map[string]any) (map[string]any, error) {
	w, names, named, err := idps(run, args)
	if err != nil {
		return nil, err
	}
	d, _ := scenario.ToolDuration(args["duration"]) // checked against the declaration
	if d <= 0 {
		return nil, fmt.Errorf("duration %v: the clock only moves forward", args["duration"])
	}
	var advanced []any
	for _, n := range names {
		s, _ := w.Env.IdP(n)
		if !s.Clock().Mock() {
			if named {
				return nil, fmt.Errorf("mock OAuth server %s does not use a mock clock (use_mock_clock: true)", n)
			}
			continue
		}
		s.Clock().Advance(d)
		advanced = append(advanced, n)
	}
	if len(advanced) == 0 {
		return nil, fmt.Errorf("no mock OAuth server of this scenario uses a mock clock (use_mock_clock: true)")
	}
	return map[string]any{"success": true, "message": "Advanced OAuth clock by " + d.String(),
		"advanced_by": d.String(), "servers_advanced": advanced}, nil
}

func revokeTokens(_ context.Context, run *executor.State, args map[string]any) (map[string]any, error) {
	w, names, _, err := idps(run, args)
	if err != nil {
		return nil, err
	}
	total := 0
	var updated []any
	for _, n := range names {
		s, _ := w.Env.IdP(n)
		total += s.RevokeAll()
		updated = append(updated, n)
	}
	return map[string]any{"success": true, "message": fmt.Sprintf("Revoked %d token(s)", total),
		"tokens_revoked": total, "servers_updated": updated}, nil
}

// setOAuthFault plans a fault at one IdP (at every IdP without server): the next `times`
// requests to the endpoint (for one subject, of one grant) wait `latency` and fail with
// `status` / `error` when given.
func setOAuthFault(_ context.Context, run *executor.State, args map[string]any) (map[string]any, error) {
	w, names, _, err := idps(run, args)
	if err != nil {
		return nil, err
	}
	latency, _ := scenario.ToolDuration(args["latency"]) // checked against the declaration
	f := idp.Fault{Endpoint: executor.StringArg(args, "endpoint"), Subject: executor.StringArg(args, "subject"),
		Grant: executor.StringArg(args, "grant"), Latency: latency, OAuthError: executor.StringArg(args, "error"),
		Description: executor.StringArg(args, "error_description")}
	if f.Status, err = wholeArg(args, "status"); err != nil {
		return nil, err
	}
	if f.Times, err = wholeArg(args, "times"); err != nil {
		return nil, err
	}
	if err := f.Check(); err != nil {
		return nil, err
	}
	var servers []any
	for _, n := range names {
		s, _ := w.Env.IdP(n)
		s.InjectFault(f)
		servers = append(servers, n)
	}
	return map[string]any{"success": true, "servers": servers,
		"message": fmt.Sprintf("fault planned at %s for the next %d %s request(s)", f.Endpoint, max(f.Times, 1), f.Endpoint)}, nil
}

// wholeArg is an optional whole-number argument (0 when absent).
func wholeArg(args map[string]any, name string) (int, error) {
	switch v := args[name].(type) {
	case nil:
		return 0, nil
	case int:
		return v, nil
	case float64:
		if v == float64(int(v)) {
			return int(v), nil
		}
	}
	return 0, fmt.Errorf("%s: %v is not a whole number", name, args[name])
}

// readAuthStatus reads the SUT's auth://status resource for the current session.
func readAuthStatus(ctx context.Context, run *executor.State, args map[string]any) (map[string]any, error) {
	if _, err := worldOf(run); err != nil {
		return nil, err
	}
	sess, err := run.Session("")
	if err != nil {
		return nil, err
	}
	reader, ok := sess.(interface {
		ReadResource(ctx context.Context, uri string) (string, error)
	})
	if !ok {
		return nil, fmt.Errorf("%w: the session cannot read resources", executor.ErrCannotRun)
	}
	text, err := reader.ReadResource(ctx, "auth://status")
	if err != nil {
		return nil, fmt.Errorf("read auth://status: %w", err)
	}
	var doc struct {
		Servers []map[string]any `json:"servers"`
	}
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return nil, fmt.Errorf("auth://status is not the expected JSON: %v: %s", err, text)
	}
	sort.Slice(doc.Servers, func(i, j int) bool { return fmt.Sprint(doc.Servers[i]["name"]) < fmt.Sprint(doc.Servers[j]["name"]) })
	name := executor.StringArg(args, "server")
	if name == "" {
		list := make([]any, len(doc.Servers))
		for i, s := range doc.Servers {
			list[i] = s
		}
		return map[string]any{"success": true, "servers": list}, nil
	}
	for _, s := range doc.Servers {
		if s["name"] == name {
			out := maps.Clone(s)
			out["success"] = true
			return out, nil
		}
	}
	return nil, fmt.Errorf("auth://status has no entry for server %s: %s", name, text)
}
