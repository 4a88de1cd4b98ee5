package idpcheck_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/mocks/idpauth"
	"github.com/muster-test/muster-test/mocks/mcpserver"
)

type bearer struct {
	mu  sync.Mutex
	tok string
}

func (b *bearer) set(tok string) { b.mu.Lock(); b.tok = tok; b.mu.Unlock() }
func (b *bearer) headers(context.Context) map[string]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return map[string]string{"Authorization": "Bearer " + b.tok}
}

// TestAgainstMockIdP: tokens of the real IdP, JWT and opaque, are accepted with the right
// scope, refused without it, refused after the IdP's mock clock passes their expiry, and
// refused once revoked at the IdP.
func TestAgainstMockIdP(t *testing.T) {
	for _, signed := range []bool{true, false} {
		name := "opaque"
		if signed {
			name = "jwt"
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			scopes := []string{"openid", "mcp:read", "mcp:other"}
			provider, err := idp.Start(ctx, idp.Config{Name: "idp", Scopes: scopes, UseMockClock: true,
				SignTokens: signed, TokenLifetime: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = provider.Close() })
			srv, err := mcpserver.Start(ctx, mcpserver.Config{
				Authority: idpauth.New(provider),
				OAuth:     mcpserver.OAuthConfig{Required: true, Scope: "mcp:read", Audience: "https://mcp.example"},
				Tools:     []mcpserver.ToolConfig{{Name: "op", Responses: []mcpserver.ResponseConfig{{Response: "done"}}}},
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = srv.Close() })

			issue := func(scopes ...string) string {
				tok, err := provider.IssueToken(ctx, idp.IssueOptions{Scopes: scopes, Audience: []string{"https://mcp.example"}})
				if err != nil {
					t.Fatal(err)
				}
				if signed != (strings.Count(tok.AccessToken, ".") == 2) {
					t.Fatalf("token %q is not of the expected kind", tok.AccessToken)
				}
				return tok.AccessToken
			}
			if st := initializeStatus(t, srv.URL(), issue("openid")); st != http.StatusForbidden {
				t.Errorf("token without mcp:read: status %d, want 403", st)
			}

			tok := &bearer{}
			tok.set(issue("openid", "mcp:read"))
			c := connect(t, srv.URL(), tok)
			if err := callOp(c); err != nil {
				t.Fatalf("fresh token: %v", err)
			}
			if calls := srv.Calls(); len(calls) != 1 || calls[0].Subject != idp.DefaultSubject {
				t.Errorf("call log %+v", calls)
			}

			provider.Clock().Advance(61 * time.Second)
			if err := callOp(c); !isUnauthorized(err) {
				t.Fatalf("after the IdP clock passed expiry: %v, want 401", err)
			}

			tok.set(issue("openid", "mcp:read"))
			if err := callOp(c); err != nil {
				t.Fatalf("token minted after the advance: %v", err)
			}
			if n := provider.RevokeAll(); n == 0 {
				t.Fatal("RevokeAll revoked nothing")
			}
			if err := callOp(c); !isUnauthorized(err) {
				t.Fatalf("after revocation: %v, want 401", err)
			}
		})
	}
}

func connect(t *testing.T, url string, tok *bearer) *client.Client {
	t.Helper()
	tr, err := transport.NewStreamableHTTP(url, transport.WithHTTPHeaderFunc(tok.headers))
	if err != nil {
		t.Fatal(err)
	}
	c := client.NewClient(tr, client.WithProtocolVersion(mcp.ProtocolVersion20250618))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if _, err := c.Initialize(ctx, mcp.InitializeRequest{}); err != nil {
		t.Fatal(err)
	}
	return c
}

func callOp(c *client.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = "op"
	res, err := c.CallTool(ctx, req)
	if err != nil {
		return err
	}
	if res.IsError {
		return errors.New("tool error")
	}
	return nil
}

func isUnauthorized(err error) bool {
	var are *transport.AuthorizationRequiredError
	return errors.As(err, &are)
}

func initializeStatus(t *testing.T, url, token string) int {
	t.Helper()
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}`
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
