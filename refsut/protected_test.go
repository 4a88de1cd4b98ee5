package refsut

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// The three session-and-login properties the default (muster-compatible) mode lacks and
// protected mode has. Each test runs both modes and asserts which one holds the property,
// so it fails if protected mode loses it or if the default mode changes behind the
// contract's back.

// gateway is a SUT with one protected upstream ("alpha"), in default or protected mode.
// One IdP signs every token: it is the upstream's and, in protected mode, the gateway's.
type gateway struct {
	*sut
	idp       *idp.Server
	alpha     *mcpserver.Server
	protected bool
}

func newGateway(t *testing.T, protected bool, faults ...Fault) *gateway {
	t.Helper()
	e := newEnv(t)
	g := &gateway{protected: protected}
	g.idp = e.idp("idp", idp.Config{SignTokens: true, Users: []idp.User{{Subject: "alice"}, {Subject: "bob"}}})
	g.alpha = e.mcp(g.idp, "mcp:read", textTool("op", "alpha-op"))
	o := sutOptions{oauth: true, faults: faults, servers: map[string]map[string]any{"alpha": httpSpec(g.alpha.URL())}}
	if protected {
		o.protectWith = g.idp
	}
	g.sut = startSUT(t, o)
	return g
}

func modeName(protected bool) string {
	if protected {
		return "protected"
	}
	return "default"
}

// token is a gateway token for subject: a JWT of the IdP whose audience is the gateway.
func (g *gateway) token(t *testing.T, subject string, aud ...string) string {
	t.Helper()
	if aud == nil {
		aud = []string{g.base + "/mcp"}
	}
	tok, err := g.idp.IssueToken(context.Background(), idp.IssueOptions{Subject: subject, Audience: aud, Scopes: []string{"openid"}})
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// session opens subject's MCP session: with a token in protected mode, without in default.
func (g *gateway) session(t *testing.T, subject string) *mcpClient {
	if !g.protected {
		return g.connect(t)
	}
	return g.connectWith(t, g.token(t, subject))
}

// newBrowser is a user agent with its own cookies that does not follow redirects, so that
// each hop can be inspected or handed to another browser.
func newBrowser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// hop GETs u and returns the status, the Location and the body.
func hop(t *testing.T, b *http.Client, u string) (int, string, string) {
	t.Helper()
	resp, err := b.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

// startLogin asks the session for a login to alpha and walks browser b up to the IdP's
// redirect; it returns the authorization URL the IdP got and the callback URL.
func (g *gateway) startLogin(t *testing.T, c *mcpClient, b *http.Client) (authorize, callback string) {
	t.Helper()
	txt, _ := c.mustCall(t, "core_auth_login", map[string]any{"server": "alpha"})
	authorize = authURL(t, txt)
	if strings.HasPrefix(authorize, g.base) { // a start URL on the gateway
		code, loc, body := hop(t, b, authorize)
		if code/100 != 3 {
			t.Fatalf("start URL answered %d: %s", code, body)
		}
		authorize = loc
	}
	code, callback, body := hop(t, b, authorize)
	if code/100 != 3 || !strings.HasPrefix(callback, g.base) {
		t.Fatalf("IdP answered %d (Location %q): %s", code, callback, body)
	}
	return authorize, callback
}

// login connects session c to alpha through browser b.
func (g *gateway) login(t *testing.T, c *mcpClient) {
	t.Helper()
	b := newBrowser(t)
	_, cb := g.startLogin(t, c, b)
	if code, _, body := hop(t, b, cb); code != http.StatusOK {
		t.Fatalf("callback: %d %s", code, body)
	}
	if txt, _ := c.mustCall(t, "core_auth_login", map[string]any{"server": "alpha"}); !strings.HasPrefix(txt, "Successfully connected to alpha!") {
		t.Fatalf("after the callback: %q", txt)
	}
}

// post sends one JSON-RPC message to /mcp on a connection of its own, as another client
// would, and returns the status and the body.
func (g *gateway) post(t *testing.T, method, sessionID, bearer, body string) (int, string) {
	t.Helper()
	auth := ""
	if bearer != "" {
		auth = "Bearer " + bearer
	}
	resp, b := g.send(t, method, sessionID, auth, body)
	return resp.StatusCode, b
}

// send is post with any Authorization header ("" for none); it returns the whole response.
func (g *gateway) send(t *testing.T, method, sessionID, authorization, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, g.base+"/mcp", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if sessionID != "" {
		req.Header.Set("Mcp-Session-Id", sessionID)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

const callOp = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x_alpha_op","arguments":{}}}`

// TestSessionIDIsNotACredential: another connection presenting alice's Mcp-Session-Id must
// not act as alice (MCP security best practices, session hijacking).
func TestSessionIDIsNotACredential(t *testing.T) {
	for _, protected := range []bool{false, true} {
		t.Run(modeName(protected), func(t *testing.T) {
			g := newGateway(t, protected)
			alice := g.session(t, "alice")
			g.login(t, alice)
			sid := alice.GetSessionId()
			if code, body := g.post(t, http.MethodPost, sid, "", callOp); protected {
				if code != http.StatusUnauthorized {
					t.Errorf("alice's session id without a token: %d %s, want 401", code, body)
				}
			} else if code != http.StatusOK || !strings.Contains(body, "alpha-op") {
				t.Errorf("default mode: alice's session id alone no longer acts as alice (%d %s); update docs/muster-contract.md §5", code, body)
			}
			if !protected {
				return
			}
			code, body := g.post(t, http.MethodPost, sid, g.token(t, "bob"), callOp)
			if code != http.StatusNotFound || strings.Contains(body, "alpha-op") {
				t.Errorf("alice's session id with bob's token: %d %s, want 404", code, body)
			}
			if code, _ := g.post(t, http.MethodDelete, sid, g.token(t, "bob"), ""); code != http.StatusNotFound {
				t.Errorf("bob's DELETE of alice's session: %d, want 404", code)
			}
			// Alice herself still works, with a new token of hers: the session is hers, not the token's.
			if code, body := g.post(t, http.MethodPost, sid, g.token(t, "alice"), callOp); code != http.StatusOK || !strings.Contains(body, "alpha-op") {
				t.Errorf("alice's session with another token of alice: %d %s", code, body)
			}
			if n := len(g.alpha.CallsTo("op")); n != 1 {
				t.Errorf("upstream saw %d calls, want alice's one", n)
			}
		})
	}
}

// stateRevealsSession reports whether a state carries the session id in readable form:
// as it stands or in any base64 alphabet.
func stateRevealsSession(state, sessionID string) bool {
	if strings.Contains(state, sessionID) {
		return true
	}
	for _, enc := range []*base64.Encoding{base64.URLEncoding, base64.RawURLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(state); err == nil && strings.Contains(string(b), sessionID) {
			return true
		}
	}
	return false
}

// TestStateIsOpaque: the state the gateway sends to the IdP must not carry the session id.
func TestStateIsOpaque(t *testing.T) {
	for _, protected := range []bool{false, true} {
		t.Run(modeName(protected), func(t *testing.T) {
			g := newGateway(t, protected)
			c := g.session(t, "alice")
			authorize, _ := g.startLogin(t, c, newBrowser(t))
			u, err := url.Parse(authorize)
			if err != nil {
				t.Fatal(err)
			}
			state := u.Query().Get("state")
			if got := stateRevealsSession(state, c.GetSessionId()); got == protected {
				t.Errorf("state %q reveals the session id: %v", state, got)
			}
			if protected {
				if b, err := base64.URLEncoding.DecodeString(state); err != nil || len(b) != 32 {
					t.Errorf("state %q is not 32 random bytes, base64url", state)
				}
			}
		})
	}
}

// TestLoginCSRF: a login started by one browser cannot be completed by another into the
// session that started it.
func TestLoginCSRF(t *testing.T) {
	for _, protected := range []bool{false, true} {
		t.Run(modeName(protected), func(t *testing.T) {
			g := newGateway(t, protected)
			alice := g.session(t, "alice")
			mine := newBrowser(t)
			_, callback := g.startLogin(t, alice, mine)
			code, _, body := hop(t, newBrowser(t), callback)
			after, _ := alice.mustCall(t, "core_auth_login", map[string]any{"server": "alpha"})
			completed := strings.HasPrefix(after, "Successfully connected to alpha!")
			if !protected {
				if code != http.StatusOK || !completed {
					t.Errorf("default mode: another browser's callback did not complete the login (%d, %q); update docs/muster-contract.md §4.5", code, after)
				}
				return
			}
			if code != http.StatusBadRequest || !strings.Contains(body, msgOtherBrowser) || completed {
				t.Fatalf("another browser's callback: %d %s; session then: %q", code, trimmed(body), after)
			}
			// The refusal left the login to its own browser; the second core_auth_login
			// above started another one, whose state this callback does not carry.
			if code, _, body := hop(t, mine, callback); code != http.StatusOK {
				t.Fatalf("the starting browser's callback: %d %s", code, trimmed(body))
			}
		})
	}
}

func trimmed(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}
