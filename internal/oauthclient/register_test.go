package oauthclient_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/muster-test/muster-test/internal/oauthclient"
)

// tokenAuth is how the token request authenticated: basic, post or none.
func tokenAuth(r *http.Request) string {
	if _, _, ok := r.BasicAuth(); ok {
		return "client_secret_basic"
	}
	if r.PostForm.Get("client_secret") != "" {
		return "client_secret_post"
	}
	return "none"
}

// TestRegistrationAuthMethod: after DCR the token request authenticates as the
// registration answer says; where it says nothing, as the client asked (a secret handed
// out anyway does not turn a public client into a Basic one).
func TestRegistrationAuthMethod(t *testing.T) {
	cases := []struct {
		name       string
		supported  []string
		answered   string // token_endpoint_auth_method in the registration response
		wantMethod string
	}{
		{"none asked, secret given, method unsaid", []string{"none"}, "", "none"},
		{"server picks post", []string{"none", "client_secret_post"}, "client_secret_post", "client_secret_post"},
		{"only basic supported", []string{"client_secret_basic"}, "", "client_secret_basic"},
		{"only post supported", []string{"client_secret_post"}, "", "client_secret_post"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.www = `Bearer error="invalid_token"`
			f.json("/.well-known/oauth-protected-resource/mcp", map[string]any{"resource": f.URL + "/mcp", "authorization_servers": []string{f.URL}})
			md := f.asMetadata(f.URL)
			md["registration_endpoint"] = f.URL + "/register"
			md["token_endpoint_auth_methods_supported"] = tc.supported
			f.json("/.well-known/oauth-authorization-server", md)
			var requested, used string
			f.mu.Lock()
			f.extra = func(w http.ResponseWriter, r *http.Request) bool {
				switch r.URL.Path {
				case "/register":
					var body map[string]any
					_ = json.NewDecoder(r.Body).Decode(&body)
					f.mu.Lock()
					requested, _ = body["token_endpoint_auth_method"].(string)
					f.mu.Unlock()
					resp := map[string]any{"client_id": "c1", "client_secret": "sekret-123"}
					if tc.answered != "" {
						resp["token_endpoint_auth_method"] = tc.answered
					}
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusCreated)
					_ = json.NewEncoder(w).Encode(resp)
				case "/authorize":
					q := r.URL.Query()
					http.Redirect(w, r, q.Get("redirect_uri")+"?code=k&state="+url.QueryEscape(q.Get("state")), http.StatusFound)
				case "/token":
					_ = r.ParseForm()
					f.mu.Lock()
					used = tokenAuth(r)
					f.mu.Unlock()
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(`{"access_token":"at","token_type":"Bearer","expires_in":60}`))
				default:
					return false
				}
				return true
			}
			f.mu.Unlock()
			c := newClient(t, oauthclient.Config{})
			res, err := c.Login(testCtx(t), f.URL+"/mcp")
			if err != nil {
				t.Fatalf("login: %v", err)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if used != tc.wantMethod || res.Registration.AuthMethod != tc.wantMethod {
				t.Fatalf("asked %q, token request used %q, registration says %q; want %q", requested, used, res.Registration.AuthMethod, tc.wantMethod)
			}
		})
	}
}
