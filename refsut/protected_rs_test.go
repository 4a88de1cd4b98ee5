package refsut

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/muster-test/muster-test/mocks/idp"
)

const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}`

// TestProtectedResourceServer: in protected mode /mcp is an OAuth resource server of the
// trusted IdP (RFC 6750 challenges, RFC 9728 metadata, JWTs checked against its JWKS).
func TestProtectedResourceServer(t *testing.T) {
	g := newGateway(t, true)
	prm := g.base + "/.well-known/oauth-protected-resource/mcp"

	status, hdr := g.challengeOf(t, "")
	if status != http.StatusUnauthorized || hdr != `Bearer resource_metadata="`+prm+`"` {
		t.Errorf("no token: %d %q; want 401 with resource_metadata and no error code (RFC 6750 §3.1)", status, hdr)
	}
	for _, path := range []string{"/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"} {
		var doc struct {
			Resource             string   `json:"resource"`
			AuthorizationServers []string `json:"authorization_servers"`
		}
		resp, err := http.Get(g.base + path)
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || doc.Resource != g.base+"/mcp" ||
			len(doc.AuthorizationServers) != 1 || doc.AuthorizationServers[0] != g.idp.Issuer() {
			t.Errorf("PRM at %s: %d %+v (%v)", path, resp.StatusCode, doc, err)
		}
	}

	other := newEnv(t).idp("other", idp.Config{SignTokens: true, Users: []idp.User{{Subject: "alice"}}})
	otherTok, err := other.IssueToken(context.Background(), idp.IssueOptions{Subject: "alice", Audience: []string{g.base + "/mcp"}})
	if err != nil {
		t.Fatal(err)
	}
	mint := func(o idp.MintOptions) string {
		t.Helper()
		if o.Claims == nil {
			o.Claims = map[string]any{"sub": "alice", "aud": g.base + "/mcp"}
		}
		tok, err := g.idp.MintJWT(o)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	good := g.token(t, "alice")
	for _, tc := range []struct {
		name, header string
		status       int
		code, desc   string
	}{
		{"not a JWT", "Bearer opaque-token", 401, "invalid_token", "not a signed JWT"},
		{"basic scheme", "Basic YWxpY2U6cHc=", 400, "invalid_request", ""},
		{"wrong audience", "Bearer " + g.token(t, "alice", "https://elsewhere.example/mcp"), 401, "invalid_token", "audience"},
		{"other IdP", "Bearer " + otherTok.AccessToken, 401, "invalid_token", ""},
		{"foreign key", mint(idp.MintOptions{SignWith: idp.SignWithForeignKey}), 401, "invalid_token", "signature"},
		{"alg none", mint(idp.MintOptions{SignWith: idp.SignWithNone}), 401, "invalid_token", ""},
		{"expired", mint(idp.MintOptions{ExpiresIn: -time.Minute}), 401, "invalid_token", "expired"},
		{"not yet valid", mint(idp.MintOptions{NotBefore: time.Hour, ExpiresIn: 2 * time.Hour}), 401, "invalid_token", "not valid yet"},
		{"no subject", mint(idp.MintOptions{Claims: map[string]any{"aud": g.base + "/mcp"}}), 401, "invalid_token", "sub"},
	} {
		status, hdr := g.challengeOf(t, tc.header)
		if status != tc.status || !strings.Contains(hdr, `error="`+tc.code+`"`) || !strings.Contains(hdr, tc.desc) ||
			!strings.Contains(hdr, `resource_metadata="`+prm+`"`) {
			t.Errorf("%s: %d %q; want %d %s", tc.name, status, hdr, tc.status, tc.code)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, g.base+"/mcp?access_token="+good, strings.NewReader(initialize))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Errorf("token in the query string: %v %v, want 400", resp, err)
	} else {
		resp.Body.Close()
	}
	if code, body := g.post(t, http.MethodPost, "", good, initialize); code != http.StatusOK || !strings.Contains(body, "muster-aggregator") {
		t.Errorf("initialize with a good token: %d %s", code, body)
	}
	if code, _ := g.post(t, http.MethodPost, "mcp-session-00000000-0000-0000-0000-000000000000", good, callOp); code != http.StatusNotFound {
		t.Errorf("a session id never issued: %d, want 404", code)
	}
}

// TestProtectedModeES256: an IdP that signs with ES256 is trusted as one with RS256.
func TestProtectedModeES256(t *testing.T) {
	i := newEnv(t).idp("es", idp.Config{SignTokens: true, SigningAlgorithm: idp.AlgES256, Users: []idp.User{{Subject: "alice"}}})
	s := startSUT(t, sutOptions{protectWith: i})
	g := &gateway{sut: s, idp: i, protected: true}
	if code, body := g.post(t, http.MethodPost, "", g.token(t, "alice"), initialize); code != http.StatusOK {
		t.Errorf("initialize with an ES256 token: %d %s", code, body)
	}
}

// challengeOf sends initialize with the given Authorization header and returns the status
// and the WWW-Authenticate header.
func (g *gateway) challengeOf(t *testing.T, authorization string) (int, string) {
	t.Helper()
	resp, _ := g.send(t, http.MethodPost, "", authorization, initialize)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
}

// TestProtectedModeConfig: bad protected-mode settings stop the start with a clear error.
func TestProtectedModeConfig(t *testing.T) {
	for _, tc := range []struct {
		keys serverKeys
		want string
	}{
		{serverKeys{Enabled: ptr(true)}, "dex.issuerUrl"},
		{serverKeys{Enabled: ptr(true), Provider: "google"}, `provider "google"`},
	} {
		if _, err := serverAuth(tc.keys, "http://localhost:1"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want an error naming %s", tc.keys, err, tc.want)
		}
	}
	k := serverKeys{Enabled: ptr(true), TrustedAudiences: []string{"cli"}}
	k.Dex.IssuerURL, k.Dex.ClientID = "http://localhost:2/", "muster"
	c, err := serverAuth(k, "http://localhost:1")
	if err != nil || c.Issuer != "http://localhost:2" || c.Resource != "http://localhost:1/mcp" || strings.Join(c.Audiences, ",") != "cli,muster" {
		t.Errorf("defaults: %+v %v", c, err)
	}
	if c, _ := serverAuth(serverKeys{Enabled: ptr(false)}, "http://localhost:1"); c.Enabled {
		t.Errorf("enabled: false turned protected mode on")
	}
}

func ptr[T any](v T) *T { return &v }
