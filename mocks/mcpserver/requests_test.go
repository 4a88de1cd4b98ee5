package mcpserver_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"

	"github.com/muster-test/muster-test/mocks/mcpserver"
	"github.com/muster-test/muster-test/mocks/mcpserver/authtest"
)

// TestRequestLog: every HTTP request is logged with its JSON-RPC method, tool, bearer and
// status, the guard's refusals included, over both HTTP transports.
func TestRequestLog(t *testing.T) {
	a := newAuthority(t)
	for _, typ := range []string{mcpserver.TypeStreamableHTTP, mcpserver.TypeSSE} {
		t.Run(typ, func(t *testing.T) {
			s := startServer(t, protectedConfig(t, typ, a, "mcp:read", "mcp-api"))
			req, _ := http.NewRequest(http.MethodPost, s.URL(), strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami"}}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("User-Agent", "request-log-test")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()

			c, jwt := connectAsAlice(t, a, typ, s)
			if text, isErr := mustCall(t, c, "whoami", nil); isErr {
				t.Fatal(text)
			}

			reqs := s.Requests()
			refused := reqs[0]
			if refused.Status != http.StatusUnauthorized || refused.Bearer != "" || refused.RPCMethod != "tools/call" ||
				refused.Tool != "whoami" || refused.UserAgent != "request-log-test" || refused.Method != http.MethodPost || refused.Time.IsZero() {
				t.Errorf("refused request logged as %+v", refused)
			}
			i := slices.IndexFunc(reqs, func(r mcpserver.Request) bool { return r.Bearer != "" && r.Tool == "whoami" })
			if i < 0 {
				t.Fatalf("no tools/call whoami with a bearer in %+v", reqs)
			}
			if call := reqs[i]; call.Bearer != jwt || call.Status >= 300 || call.RPCMethod != "tools/call" {
				t.Errorf("call logged as %+v", call)
			}
			if !slices.ContainsFunc(reqs, func(r mcpserver.Request) bool { return r.RPCMethod == "initialize" && r.Status < 300 }) {
				t.Errorf("no initialize in %+v", reqs)
			}
		})
	}
}

// connectAsAlice opens a client session of the transport typ to s with a JWT for alice
// (scopes openid and mcp:read) and returns it with the token.
func connectAsAlice(t *testing.T, a *authtest.Authority, typ string, s *mcpserver.Server) (*client.Client, string) {
	t.Helper()
	jwt, err := a.MintJWT(authtestGrant("alice", "openid", "mcp:read"))
	if err != nil {
		t.Fatal(err)
	}
	kind := legacyHTTP
	if typ == mcpserver.TypeSSE {
		kind = sseClient
	}
	return mustConnect(t, kind, s.URL(), &bearer{tok: jwt}), jwt
}
