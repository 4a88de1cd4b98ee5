package testtools

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/muster-test/muster-test/internal/executor"
	"github.com/muster-test/muster-test/internal/mcpclient"
	"github.com/muster-test/muster-test/internal/oauthclient"
	"github.com/muster-test/muster-test/scenario"
)

// oauthLogin logs a user in to a direct-mode SUT with the runner as the server's OAuth
// client (discovery, registration, authorization code with PKCE, token), then gives the
// user an MCP session that carries the token; the user's later steps go through it. A login
// that fails is a failed call whose answer still lists every phase.
func oauthLogin(ctx context.Context, run *executor.State, args map[string]any) (map[string]any, error) {
	w, err := worldOf(run)
	if err != nil {
		return nil, err
	}
	if !w.Direct {
		return nil, fmt.Errorf("test_oauth_login logs in to a SUT of a sut block; a muster-shaped SUT logs in through its own tools (test_simulate_oauth_callback)")
	}
	user := executor.StringArg(args, "user")
	cfg, err := w.clientConfig(run, user, args)
	if err != nil {
		return nil, err
	}
	c, err := oauthclient.New(cfg)
	if err != nil {
		return nil, err
	}
	w.addCloser(func() { c.Close() })
	res, err := c.Login(ctx, w.SUT.Endpoint)
	out := map[string]any{"user": user, "phases": phaseList(c.Phases())}
	if err != nil {
		out["success"], out["error"] = false, err.Error()
		var oe *oauthclient.OAuthError
		if errors.As(err, &oe) {
			out["oauth_error"] = oe.Code
		}
		return out, nil
	}
	hc, err := c.HTTPClient(w.SUT.Endpoint)
	if err != nil {
		return nil, err
	}
	sess, err := w.connect(ctx, mcpclient.Options{Transport: hc.Transport})
	if err != nil {
		out["success"], out["error"] = false, "open the MCP session with the token: "+explainOpen(err)
		return out, nil
	}
	run.SetUser(user, &sutSession{Session: sess, sut: w.SUT})
	w.mu.Lock()
	w.tokens[user] = res.Token.AccessToken
	w.mu.Unlock()
	out["success"] = true
	out["scope"], out["requested_scope"], out["token_type"] = res.Scope, res.RequestedScope, res.TokenType
	out["expires_in"], out["has_refresh_token"] = res.ExpiresIn, res.HasRefreshToken
	if !res.ExpiresAt.IsZero() {
		out["expires_at"] = res.ExpiresAt.UTC().Format(time.RFC3339)
	}
	if res.Claims != nil {
		out["claims"] = res.Claims
	}
	if r := res.Registration; r != nil {
		out["client"] = map[string]any{"method": r.Method, "client_id": r.ClientID, "token_endpoint_auth_method": r.AuthMethod}
	}
	return out, nil
}

// clientConfig is the OAuth client of one user: the scenario's pre-registered client (sut
// client) unless `client` asks for another registration, the user's credentials (sut users)
// and the misbehaviour the arguments ask for.
func (w *World) clientConfig(run *executor.State, user string, args map[string]any) (oauthclient.Config, error) {
	cfg := oauthclient.Config{Scope: executor.StringArg(args, "scope"), HTTPClient: w.agent,
		Registration: executor.StringArg(args, "client"), Protocol: w.SUT.Protocol()}
	if v, ok := args["resource"].(bool); ok && !v {
		cfg.Faults.OmitResource = true
	}
	block := run.Scenario.SUT
	if block == nil {
		block = &scenario.SUT{}
	}
	str := func(s string) (string, error) {
		v, err := executor.ResolveWorld(s, run.World)
		return fmt.Sprint(v), err
	}
	if cl := block.Client; cl != nil && (cfg.Registration == "" || cfg.Registration == oauthclient.RegisterPreregistered) {
		var err error
		if cfg.ClientID, err = str(cl.ClientID); err != nil {
			return cfg, err
		}
		if cfg.ClientSecret, err = str(cl.ClientSecret); err != nil {
			return cfg, err
		}
		if cl.ClientSecretEnv != "" {
			cfg.ClientSecret = os.Getenv(cl.ClientSecretEnv)
		}
	}
	cfg.User = oauthclient.User{Subject: user}
	if u, ok := block.Users[user]; ok {
		creds := map[string]string{}
		if u.Username != "" {
			creds["username"] = u.Username
			cfg.User.Subject = u.Username
		}
		if pw := u.Password; pw != "" || u.PasswordEnv != "" {
			if u.PasswordEnv != "" {
				pw = os.Getenv(u.PasswordEnv)
			}
			creds["password"] = pw
		}
		cfg.User.Credentials = creds
		cfg.User.Params = map[string]string{}
		for k, v := range u.AuthorizeParams {
			r, err := str(v)
			if err != nil {
				return cfg, err
			}
			cfg.User.Params[k] = r
		}
	}
	return cfg, declareSubject(w.Env, cfg.User.Subject)
}

// phaseList is the answer's form of the client's phases.
func phaseList(ps []oauthclient.Phase) []any {
	out := make([]any, len(ps))
	for i, p := range ps {
		m := map[string]any{"name": p.Name, "duration_ms": float64(p.Duration.Microseconds()) / 1000}
		for k, v := range map[string]string{"method": p.Method, "url": oauthclient.RedactURL(p.URL), "error": p.Error, "detail": p.Detail} {
			if v != "" {
				m[k] = v
			}
		}
		if p.Status != 0 {
			m["status"] = p.Status
		}
		out[i] = m
	}
	return out
}

// oauthDiscover sends one unauthenticated MCP request to the SUT and follows RFC 9728 and
// RFC 8414 to its authorization server: the challenge, both documents as received with
// the URLs they came from, and the problems found. With fail_on, success says whether
// one of those problems was found instead, so that one step can judge one requirement
// (muster-test conform's checks) whatever else is wrong.
func oauthDiscover(ctx context.Context, run *executor.State, args map[string]any) (map[string]any, error) {
	w, err := worldOf(run)
	if err != nil {
		return nil, err
	}
	c, err := oauthclient.New(oauthclient.Config{HTTPClient: w.agent, Protocol: w.SUT.Protocol()})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	d, err := c.Discover(ctx, w.SUT.Endpoint)
	if err != nil {
		return nil, err
	}
	out, err := asMap(d)
	if err != nil {
		return nil, err
	}
	out["success"] = d.Fatal() == nil
	out["scope"] = c.FirstScope(d)
	failOn, judged := args["fail_on"].([]any)
	if judged {
		out["success"] = true
	}
	codes := make([]any, len(d.Problems))
	for i, p := range d.Problems {
		codes[i] = p.Code
		if judged && slices.Contains(failOn, any(p.Code)) {
			out["success"] = false
		}
	}
	out["problem_codes"] = codes
	return out, nil
}
