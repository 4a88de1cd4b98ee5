package oauthclient_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/oauthclient"
)

// fakeServer is an MCP resource server and authorization server on one origin whose
// documents each test writes by hand: the way to serve broken ones.
type fakeServer struct {
	*httptest.Server
	mu   sync.Mutex
	docs map[string]func(w http.ResponseWriter) // by path
	hits []string
	www  string // WWW-Authenticate of the MCP endpoint's 401
	// extra answers a request before the documents are looked at, when it returns true.
	extra func(http.ResponseWriter, *http.Request) bool
}

func newFake(t *testing.T) *fakeServer {
	f := &fakeServer{docs: map[string]func(http.ResponseWriter){}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.hits = append(f.hits, r.URL.Path)
		h, ok := f.docs[r.URL.Path]
		www, extra := f.www, f.extra
		f.mu.Unlock()
		switch {
		case extra != nil && extra(w, r):
		case r.URL.Path == "/mcp":
			if www != "" {
				w.Header().Set("WWW-Authenticate", www)
			}
			w.WriteHeader(http.StatusUnauthorized)
		case ok:
			h(w)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) json(path string, doc any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.docs[path] = func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	}
}

func (f *fakeServer) raw(path, contentType, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.docs[path] = func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write([]byte(body))
	}
}

func (f *fakeServer) requested() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.hits)
}

func (f *fakeServer) asMetadata(issuer string) map[string]any {
	return map[string]any{
		"issuer": issuer, "authorization_endpoint": f.URL + "/authorize", "token_endpoint": f.URL + "/token",
		"code_challenge_methods_supported": []string{"S256"}, "response_types_supported": []string{"code"},
	}
}

func discover(t *testing.T, f *fakeServer, cfg oauthclient.Config) *oauthclient.Discovery {
	t.Helper()
	c := newClient(t, cfg)
	d, err := c.Discover(testCtx(t), f.URL+"/mcp")
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	return d
}

func codes(d *oauthclient.Discovery) []string {
	var out []string
	for _, p := range d.Problems {
		out = append(out, p.Code)
	}
	return out
}

// TestDiscoveryLocations: the PRM is looked up from the header, else path-inserted then
// root; AS metadata with path insertion (RFC 8414, then OIDC), then OIDC appended; an
// issuer's trailing '/' is trimmed before insertion; nothing is fetched beyond the first hit.
func TestDiscoveryLocations(t *testing.T) {
	cases := []struct {
		name     string
		www      string
		prmPath  string
		issuer   string // path of the issuer under the origin
		asPath   string
		wantHits []string
	}{
		{"header, root AS", `Bearer resource_metadata="%s/custom/prm.json"`, "/custom/prm.json", "", "/.well-known/oauth-authorization-server",
			[]string{"/mcp", "/custom/prm.json", "/.well-known/oauth-authorization-server"}},
		{"path-inserted PRM, OIDC root", `Bearer error="invalid_token"`, "/.well-known/oauth-protected-resource/mcp", "", "/.well-known/openid-configuration",
			[]string{"/mcp", "/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"}},
		{"root PRM, RFC 8414 path insertion", ``, "/.well-known/oauth-protected-resource", "/tenant1", "/.well-known/oauth-authorization-server/tenant1",
			[]string{"/mcp", "/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource", "/.well-known/oauth-authorization-server/tenant1"}},
		{"OIDC appended, trailing slash trimmed", `Bearer resource_metadata="%s/p"`, "/p", "/tenant1/", "/tenant1/.well-known/openid-configuration",
			[]string{"/mcp", "/p", "/.well-known/oauth-authorization-server/tenant1", "/.well-known/openid-configuration/tenant1", "/tenant1/.well-known/openid-configuration"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			if tc.www != "" {
				f.www = strings.ReplaceAll(tc.www, "%s", f.URL)
			}
			issuer := f.URL + tc.issuer
			f.json(tc.prmPath, map[string]any{"resource": f.URL + "/mcp", "authorization_servers": []string{issuer}})
			f.json(tc.asPath, f.asMetadata(issuer))
			d := discover(t, f, oauthclient.Config{})
			if got := f.requested(); !slices.Equal(got, tc.wantHits) {
				t.Errorf("requested %v, want %v", got, tc.wantHits)
			}
			if d.ProtectedResource == nil || d.ProtectedResource.URL != f.URL+tc.prmPath || d.ProtectedResource.JSON["resource"] != f.URL+"/mcp" {
				t.Errorf("PRM %+v", d.ProtectedResource)
			}
			if d.AuthorizationServer == nil || d.AuthorizationServer.URL != f.URL+tc.asPath {
				t.Errorf("AS document %+v", d.AuthorizationServer)
			}
			if p := d.Fatal(); p != nil {
				t.Errorf("fatal problem %+v", p)
			}
			if d.Status != http.StatusUnauthorized {
				t.Errorf("status %d", d.Status)
			}
		})
	}
}

// TestDiscoveryProblems: each defect of a server's documents is named, and fatal ones stop
// a login with that name.
func TestDiscoveryProblems(t *testing.T) {
	big := `{"resource":"` + strings.Repeat("x", 1<<20) + `"}`
	cases := []struct {
		name  string
		setup func(f *fakeServer)
		want  string
		fatal bool
	}{
		{"no PRM", func(f *fakeServer) {}, oauthclient.ProblemPRMNotFound, true},
		{"PRM not JSON", func(f *fakeServer) { f.raw("/.well-known/oauth-protected-resource/mcp", "text/html", "<html>") }, oauthclient.ProblemPRMInvalid, true},
		{"PRM huge", func(f *fakeServer) { f.raw("/.well-known/oauth-protected-resource/mcp", "application/json", big) }, oauthclient.ProblemDocumentTooLarge, true},
		{"PRM wrong field type", func(f *fakeServer) {
			f.json("/.well-known/oauth-protected-resource/mcp", map[string]any{"resource": f.URL + "/mcp", "authorization_servers": "one"})
		}, oauthclient.ProblemPRMInvalid, true},
		{"resource of another server", func(f *fakeServer) {
			f.json("/.well-known/oauth-protected-resource/mcp", map[string]any{"resource": "http://elsewhere.example/mcp", "authorization_servers": []string{f.URL}})
			f.json("/.well-known/oauth-authorization-server", f.asMetadata(f.URL))
		}, oauthclient.ProblemResourceMismatch, true},
		{"no authorization servers", func(f *fakeServer) {
			f.json("/.well-known/oauth-protected-resource/mcp", map[string]any{"resource": f.URL + "/mcp"})
		}, oauthclient.ProblemNoAuthServers, true},
		{"issuer mismatch", func(f *fakeServer) {
			f.json("/.well-known/oauth-protected-resource/mcp", map[string]any{"resource": f.URL + "/mcp", "authorization_servers": []string{f.URL}})
			f.json("/.well-known/oauth-authorization-server", f.asMetadata("http://evil.example"))
		}, oauthclient.ProblemIssuerMismatch, true},
		{"no S256", func(f *fakeServer) {
			f.json("/.well-known/oauth-protected-resource/mcp", map[string]any{"resource": f.URL + "/mcp", "authorization_servers": []string{f.URL}})
			md := f.asMetadata(f.URL)
			md["code_challenge_methods_supported"] = []string{"plain"}
			f.json("/.well-known/oauth-authorization-server", md)
		}, oauthclient.ProblemNoS256, true},
		{"AS metadata huge", func(f *fakeServer) {
			f.json("/.well-known/oauth-protected-resource/mcp", map[string]any{"resource": f.URL + "/mcp", "authorization_servers": []string{f.URL}})
			f.raw("/.well-known/oauth-authorization-server", "application/json", big)
		}, oauthclient.ProblemDocumentTooLarge, true},
		{"AS metadata truncated JSON", func(f *fakeServer) {
			f.json("/.well-known/oauth-protected-resource/mcp", map[string]any{"resource": f.URL + "/mcp", "authorization_servers": []string{f.URL}})
			f.raw("/.well-known/oauth-authorization-server", "application/json", `{"issuer": "`)
		}, oauthclient.ProblemASMetadataInvalid, true},
		{"no AS metadata anywhere", func(f *fakeServer) {
			f.json("/.well-known/oauth-protected-resource/mcp", map[string]any{"resource": f.URL + "/mcp", "authorization_servers": []string{f.URL}})
		}, oauthclient.ProblemASMetadataNotFound, true},
		{"query bearer method", func(f *fakeServer) {
			f.json("/.well-known/oauth-protected-resource/mcp", map[string]any{"resource": f.URL + "/mcp", "authorization_servers": []string{f.URL},
				"bearer_methods_supported": []string{"header", "query"}})
			f.json("/.well-known/oauth-authorization-server", f.asMetadata(f.URL))
		}, oauthclient.ProblemQueryBearerMethod, false},
		{"no WWW-Authenticate", func(f *fakeServer) { f.www = "" }, oauthclient.ProblemNoChallenge, false},
		{"malformed WWW-Authenticate", func(f *fakeServer) { f.www = `Bearer realm="x` }, oauthclient.ProblemBadChallenge, false},
		{"Basic challenge", func(f *fakeServer) { f.www = `Basic realm="x"` }, oauthclient.ProblemNotBearer, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			f.www = `Bearer error="invalid_token"`
			tc.setup(f)
			d := discover(t, f, oauthclient.Config{})
			i := slices.IndexFunc(d.Problems, func(p oauthclient.Problem) bool { return p.Code == tc.want })
			if i < 0 {
				t.Fatalf("problems %v, want %s", codes(d), tc.want)
			}
			if d.Problems[i].Fatal != tc.fatal {
				t.Errorf("%s fatal = %v", tc.want, d.Problems[i].Fatal)
			}
			if tc.fatal {
				c := newClient(t, oauthclient.Config{})
				_, err := c.Login(testCtx(t), f.URL+"/mcp")
				mustContain(t, err, "discovery: ")
			}
		})
	}
}

// TestDiscoveryHangs: a server that never answers costs one timeout per request, not a hang.
func TestDiscoveryHangs(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	c := newClient(t, oauthclient.Config{Timeout: 200 * time.Millisecond})
	start := time.Now()
	d, err := c.Discover(testCtx(t), srv.URL+"/mcp")
	if err != nil {
		t.Fatal(err)
	}
	if !hasProblem(d, oauthclient.ProblemProbeFailed) {
		t.Fatalf("problems %v", codes(d))
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("took %v", el)
	}
}

func TestDiscoveryJSON(t *testing.T) {
	f := newFake(t)
	f.www = fmt.Sprintf(`Bearer resource_metadata="%s/prm", scope="a b"`, f.URL)
	f.json("/prm", map[string]any{"resource": f.URL + "/mcp", "authorization_servers": []string{f.URL}})
	f.json("/.well-known/oauth-authorization-server", f.asMetadata(f.URL))
	d := discover(t, f, oauthclient.Config{})
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	w := m["www_authenticate"].(map[string]any)
	if w["scope"] != "a b" || w["resource_metadata"] != f.URL+"/prm" || w["scheme"] != "Bearer" {
		t.Errorf("www_authenticate %v", w)
	}
	if pr := m["protected_resource"].(map[string]any); pr["url"] != f.URL+"/prm" || pr["document"].(map[string]any)["resource"] != f.URL+"/mcp" {
		t.Errorf("protected_resource %v", pr)
	}
	if phases := m["phases"].([]any); len(phases) != 3 || phases[0].(map[string]any)["name"] != oauthclient.PhaseProbe {
		t.Errorf("phases %v", phases)
	}
}

// FuzzDiscoveryDocuments: whatever a server sends as its WWW-Authenticate, PRM and AS
// metadata, discovery ends, without a panic, with either usable metadata or a problem.
func FuzzDiscoveryDocuments(f *testing.F) {
	f.Add(`Bearer resource_metadata="/prm"`, `{"resource":"R","authorization_servers":["A"]}`, `{"issuer":"A","code_challenge_methods_supported":["S256"]}`)
	f.Add(`Bearer realm="`, `{"resource":1}`, `[]`)
	f.Add(``, `{"resource":"R","authorization_servers":["A"],"scopes_supported":"x"}`, `{"issuer":"A"}{}`)
	f.Add(`Basic, Bearer scope="a b"`, `null`, `{"issuer":"A/","authorization_endpoint":"javascript:x"}`)
	f.Fuzz(func(t *testing.T, www, prm, as string) {
		fs := newFake(t)
		fs.www = www
		// R and A stand for the server's resource and issuer, so that valid documents occur.
		fill := strings.NewReplacer(`"R"`, `"`+fs.URL+`/mcp"`, `"A"`, `"`+fs.URL+`"`, `"A/"`, `"`+fs.URL+`/"`)
		fs.raw("/prm", "application/json", fill.Replace(prm))
		fs.raw("/.well-known/oauth-protected-resource/mcp", "application/json", fill.Replace(prm))
		fs.raw("/.well-known/oauth-authorization-server", "application/json", fill.Replace(as))
		d := discover(t, fs, oauthclient.Config{Timeout: 2 * time.Second})
		if d.AS == nil && d.Fatal() == nil {
			t.Fatalf("no AS metadata and no fatal problem: %v", codes(d))
		}
	})
}
