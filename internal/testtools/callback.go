package testtools

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/net/html"

	"github.com/muster-test/muster-test/internal/executor"
	"github.com/muster-test/muster-test/internal/result"
	"github.com/muster-test/muster-test/mocks/idp"
)

// Outcomes of test_simulate_oauth_callback.
const (
	outcomeApprove    = "approve"
	outcomeDeny       = "deny"
	outcomeNoCode     = "no_code"
	outcomeWrongState = "wrong_state"
	outcomeReplay     = "replay"
	// outcomeOtherBrowser delivers the callback from a browser that did not start the login
	// (login CSRF): a SUT that binds logins to the browser refuses it.
	outcomeOtherBrowser = "other_browser"
)

// callbackOutcomes is every outcome, for the tool's declaration (which the executor checks
// before the tool runs).
var callbackOutcomes = []string{outcomeApprove, outcomeDeny, outcomeNoCode, outcomeWrongState, outcomeReplay, outcomeOtherBrowser}

var urlRE = regexp.MustCompile(`https?://[^\s"'<>\\]+`)

// alreadyConnected are the answers of a SUT whose session needs no new login.
var alreadyConnected = []string{"successfully connected", "already authenticated", "already connected"}

// simulateCallback completes the SUT's OAuth flow for a protected server as a browser
// would: it asks the SUT for the authorization URL, drives the mock IdP's real /authorize
// endpoint, and delivers the IdP's redirect to the SUT's callback. It never mints a code
// behind the SUT's back.
func simulateCallback(ctx context.Context, run *executor.State, args map[string]any) (map[string]any, error) {
	w, srv, err := protectedServer(run, args)
	if err != nil {
		return nil, err
	}
	outcome := executor.StringArg(args, "outcome")
	if outcome == "" {
		outcome = outcomeApprove
	}
	otherSubject := executor.StringArg(args, "other_subject")
	if otherSubject != "" && outcome != outcomeOtherBrowser {
		return nil, fmt.Errorf("other_subject goes with outcome: %s", outcomeOtherBrowser)
	}
	issuer, ok := w.Env.IdP(srv.IdP)
	if !ok {
		return nil, fmt.Errorf("%w: IdP %q of server %s is not running", executor.ErrCannotRun, srv.IdP, srv.Name)
	}

	text, authURL, err := w.authorizationURL(ctx, run, srv.Name, w.toolName(srv, "authenticate"))
	if err != nil {
		return nil, err
	}
	if authURL == "" {
		low := strings.ToLower(text)
		for _, s := range alreadyConnected {
			if strings.Contains(low, s) {
				return map[string]any{"success": true, "already_authenticated": true, "message": text, "server": srv.Name}, nil
			}
		}
		return nil, fmt.Errorf("the SUT gave no authorization URL for %s: %s", srv.Name, text)
	}
	// other is the second browser of other_browser: with other_subject it also logs in at
	// the IdP, as that subject, with the URL the first browser was sent to (login CSRF:
	// someone else's login completed into this session).
	var other *tab
	subject := w.subject(run.CurrentUser())
	if outcome == outcomeOtherBrowser {
		other = w.newTab()
	}
	if otherSubject != "" {
		if err := declareSubject(w.Env, otherSubject); err != nil {
			return nil, err
		}
		subject = otherSubject
	}
	tab := w.newTab()
	if authURL, err = tab.followSUTStart(ctx, authURL); err != nil {
		return nil, err
	}
	if err := requireLoopback(authURL, "", "the authorization URL"); err != nil {
		return nil, err
	}
	var deny func()
	if outcome == outcomeDeny {
		deny = issuer.DenyNext // also denies under auto_approve, where no consent form is shown
	}
	atIdP := tab
	if otherSubject != "" {
		atIdP = other
	}
	callback, err := atIdP.authorize(ctx, authURL, subject, deny)
	if err != nil {
		return nil, err
	}
	public, _ := url.Parse(w.SUT.PublicURL)
	if err := requireLoopback(callback, public.Port(), "the IdP's redirect"); err != nil {
		return nil, fmt.Errorf("%w: it is not the SUT's callback (the SUT sent a wrong redirect_uri?)", err)
	}
	reveals := w.stateRevealsSession(run, callback)

	switch outcome {
	case outcomeNoCode:
		callback = withQuery(callback, func(q url.Values) { q.Del("code") })
	case outcomeWrongState:
		callback = withQuery(callback, func(q url.Values) { q.Set("state", neverIssuedState()) })
	case outcomeReplay:
		status, body, err := tab.get(ctx, callback)
		if err != nil {
			return nil, err
		}
		if status != http.StatusOK {
			return nil, fmt.Errorf("the first callback (before the replay) answered %d: %s", status, trimPage(body))
		}
	}
	if other != nil {
		tab = other
	}
	status, body, err := tab.get(ctx, callback)
	if err != nil {
		return nil, err
	}
	if outcome != outcomeApprove {
		return map[string]any{"success": true, "outcome": outcome, "server": srv.Name, "status_code": status, "body": trimPage(body),
			"state_reveals_session": reveals, "authorization_url": authURL}, nil
	}
	if status != http.StatusOK {
		return nil, fmt.Errorf("the SUT's OAuth callback answered %d: %s", status, trimPage(body))
	}
	return map[string]any{"success": true, "message": "OAuth callback completed successfully - token stored",
		"server": srv.Name, "status_code": status, "state_reveals_session": reveals, "authorization_url": authURL}, nil
}

// stateRevealsSession reports whether the state the SUT sent through the IdP (as the IdP
// hands it back) carries the user's MCP session id readably: as it stands, or base64 of
// any alphabet (muster's state is base64 JSON holding it, docs/muster-contract.md §4.3).
func (w *World) stateRevealsSession(run *executor.State, callback string) bool {
	sess, err := run.Session("")
	s, ok := sess.(*sutSession)
	if err != nil || !ok || s.ID() == "" {
		return false
	}
	u, err := url.Parse(callback)
	if err != nil {
		return false
	}
	state := u.Query().Get("state")
	readable := []string{state}
	for _, enc := range []*base64.Encoding{base64.URLEncoding, base64.RawURLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(state); err == nil {
			readable = append(readable, string(b))
		}
	}
	return slices.ContainsFunc(readable, func(text string) bool { return strings.Contains(text, s.ID()) })
}

// authorizationURL asks the SUT to start a login for server: core_auth_login where the SUT
// has it, else authTool, the synthetic x_<prefix>_authenticate tool of older muster.
func (w *World) authorizationURL(ctx context.Context, run *executor.State, server, authTool string) (text, authURL string, err error) {
	sess, err := run.Session("")
	if err != nil {
		return "", "", err
	}
	tools, err := sess.ListTools(ctx)
	if err != nil {
		return "", "", fmt.Errorf("%w: list the SUT's tools: %v", executor.ErrCannotRun, err)
	}
	var res *result.Result
	if slices.Contains(tools, "core_auth_login") {
		res, err = sess.CallTool(ctx, "core_auth_login", map[string]any{"server": server})
	} else {
		res, err = sess.CallTool(ctx, authTool, map[string]any{})
	}
	if err != nil {
		return "", "", fmt.Errorf("%w: ask the SUT to log in to %s: %v", executor.ErrCannotRun, server, err)
	}
	text = res.Text()
	if res.Failed {
		return "", "", fmt.Errorf("the SUT refused to start a login for %s: %s", server, text)
	}
	if doc, ok := res.JSON(); ok {
		if m, ok := doc.(map[string]any); ok {
			for _, k := range []string{"auth_url", "authorization_url"} {
				if s, ok := m[k].(string); ok && s != "" {
					return text, s, nil
				}
			}
		}
	}
	return text, urlRE.FindString(text), nil
}

// tab is the runner's browser for one login: its own cookies, which a SUT's start URL may
// set to bind the login to the browser (docs/muster-contract.md §10.4), and the IdP's
// consent page sets against CSRF.
type tab struct {
	*World
	client *http.Client
}

func (w *World) newTab() *tab {
	jar, _ := cookiejar.New(nil) // never fails without options
	c := *w.http
	c.Jar = jar
	return &tab{World: w, client: &c}
}

// followSUTStart resolves a SUT-local start URL (newer muster's /oauth/proxy/start) to the
// IdP URL it redirects to; any other URL is returned unchanged.
func (w *tab) followSUTStart(ctx context.Context, u string) (string, error) {
	target, err := url.Parse(u)
	if err != nil {
		return "", fmt.Errorf("authorization URL %q: %w", u, err)
	}
	public, _ := url.Parse(w.SUT.PublicURL)
	if target.Port() != public.Port() || !isLoopback(target.Hostname()) {
		return u, nil
	}
	resp, err := w.request(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode < 300 || resp.StatusCode > 399 || loc == "" {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return "", fmt.Errorf("the SUT's start URL answered %d without a redirect: %s", resp.StatusCode, trimPage(string(body)))
	}
	return resolve(u, loc)
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// requireLoopback refuses to let the runner's browser go anywhere but this machine (and, when
// port is set, to that port): a URL built from what a SUT said is not trusted blindly.
func requireLoopback(u, port, what string) error {
	p, err := url.Parse(u)
	if err != nil {
		return fmt.Errorf("%s %q: %w", what, u, err)
	}
	if !isLoopback(p.Hostname()) || (port != "" && p.Port() != port) {
		want := "a loopback address"
		if port != "" {
			want = "the SUT on port " + port
		}
		return fmt.Errorf("%s goes to %s, not %s", what, p.Host, want)
	}
	return nil
}

// authorize plays the user at the IdP's /authorize: it opens the URL and, when the IdP
// shows its consent page, posts the form (approve, or deny when deny is set; deny is also
// called just before the IdP is asked). It returns the URL the IdP redirects the browser
// to: the SUT's callback.
func (w *tab) authorize(ctx context.Context, authURL, subject string, deny func()) (string, error) {
	if subject != "" {
		authURL = withQuery(authURL, func(q url.Values) { q.Set("login_hint", subject) })
	}
	if deny != nil {
		deny()
	}
	resp, err := w.request(ctx, http.MethodGet, authURL, nil)
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		// The consent page: post its form back as the browser would, with the page's fields
		// (the echoed request, and a CSRF token where the IdP sets one); the tab's jar
		// carries the page's cookies.
		action, values, ok := consentForm(string(body))
		if !ok {
			return "", fmt.Errorf("the IdP's /authorize answered 200 without a consent form: %s", trimPage(string(body)))
		}
		values.Set(idp.FieldAction, idp.ActionAllow)
		if deny != nil {
			values.Set(idp.FieldAction, idp.ActionDeny)
		}
		if subject != "" {
			values.Set(idp.FieldSubject, subject)
		}
		target, err := resolve(authURL, action)
		if err != nil {
			return "", err
		}
		resp, err = w.request(ctx, http.MethodPost, target, values)
		if err != nil {
			return "", err
		}
		body, _ = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}
	loc := resp.Header.Get("Location")
	if resp.StatusCode < 300 || resp.StatusCode > 399 || loc == "" {
		return "", fmt.Errorf("the IdP's /authorize answered %d instead of redirecting to the SUT: %s", resp.StatusCode, trimPage(string(body)))
	}
	return resolve(authURL, loc)
}

func (w *tab) request(ctx context.Context, method, u string, form url.Values) (*http.Response, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: %v", executor.ErrCannotRun, method, u, err)
	}
	return resp, nil
}

func (w *tab) get(ctx context.Context, u string) (int, string, error) {
	resp, err := w.request(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, string(b), nil
}

func resolve(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	r, err := b.Parse(ref)
	if err != nil {
		return "", fmt.Errorf("redirect %q: %w", ref, err)
	}
	return r.String(), nil
}

func withQuery(u string, edit func(url.Values)) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := p.Query()
	edit(q)
	p.RawQuery = q.Encode()
	return p.String()
}

// neverIssuedState is a well-formed state value the SUT cannot have issued.
func neverIssuedState() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.URLEncoding.EncodeToString(b)
}

var (
	tagRE = regexp.MustCompile(`<[^>]*>`)
	// Style sheets and scripts are not text a reader (or a `contains`) is after.
	hiddenRE = regexp.MustCompile(`(?is)<(style|script)\b[^>]*>.*?</(style|script)\s*>`)
)

// trimPage makes an HTML page readable in a message: style and script blocks and tags
// dropped, space folded, cut.
func trimPage(s string) string {
	s = hiddenRE.ReplaceAllString(s, " ")
	s = strings.Join(strings.Fields(tagRE.ReplaceAllString(s, " ")), " ")
	if len(s) > 500 {
		s = s[:500] + "..."
	}
	return s
}

var errNotProtected = errors.New("is not OAuth-protected")

// consentForm reads the mock IdP's consent page (the form with id "consent") as a browser
// does: its action and the fields it would submit, buttons aside (the caller picks one).
func consentForm(page string) (action string, fields url.Values, ok bool) {
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		return "", nil, false
	}
	fields = url.Values{}
	var walk func(n *html.Node, inForm bool)
	walk = func(n *html.Node, inForm bool) {
		if n.Type == html.ElementNode {
			switch {
			case n.Data == "form" && attr(n, "id") == "consent" && !ok:
				action, ok, inForm = attr(n, "action"), true, true
			case n.Data == "input" && inForm && attr(n, "name") != "" &&
				!slices.Contains([]string{"submit", "button", "image", "reset"}, strings.ToLower(attr(n, "type"))):
				fields.Add(attr(n, "name"), attr(n, "value"))
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inForm)
		}
	}
	walk(doc, false)
	return action, fields, ok
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}
