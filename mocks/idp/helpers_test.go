package idp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

const testRedirect = "http://localhost:41577/oauth/proxy/callback"

func startIdP(t testing.TB, cfg Config) *Server {
	t.Helper()
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// httpClient does not follow redirects: the tests read the authorization response from
// the Location header, as the SUT's browser would deliver it.
func httpClient(s *Server) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if pem := s.CACertPEM(); pem != nil {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	return &http.Client{
		Transport:     tr,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func oauthConfig(s *Server, clientID, secret, redirect string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: clientID, ClientSecret: secret, RedirectURL: redirect, Scopes: scopes,
		Endpoint: oauth2.Endpoint{AuthURL: s.URL() + "/authorize", TokenURL: s.URL() + "/token", AuthStyle: oauth2.AuthStyleInHeader},
	}
}

func clientCtx(s *Server) context.Context {
	return context.WithValue(context.Background(), oauth2.HTTPClient, httpClient(s))
}

// authorizeResult is where /authorize sent the user agent (or what it answered).
type authorizeResult struct {
	status   int
	location *url.URL
	body     string
}

func (a authorizeResult) param(k string) string {
	if a.location == nil {
		return ""
	}
	return a.location.Query().Get(k)
}

func getAuthorize(t testing.TB, s *Server, authURL string) authorizeResult {
	t.Helper()
	resp, err := httpClient(s).Get(authURL)
	if err != nil {
		t.Fatalf("GET authorize: %v", err)
	}
	return readAuthorize(t, resp)
}

func readAuthorize(t testing.TB, resp *http.Response) authorizeResult {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	res := authorizeResult{status: resp.StatusCode, body: string(b)}
	if loc := resp.Header.Get("Location"); loc != "" {
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatalf("bad Location %q: %v", loc, err)
		}
		res.location = u
	}
	return res
}

// codeFor runs /authorize (auto-approve) and returns the code, failing on anything else.
func codeFor(t testing.TB, s *Server, cfg *oauth2.Config, opts ...oauth2.AuthCodeOption) string {
	t.Helper()
	res := getAuthorize(t, s, cfg.AuthCodeURL("state-12345678", opts...))
	code := res.param("code")
	if code == "" {
		t.Fatalf("no code: status %d location %v body %s", res.status, res.location, res.body)
	}
	if got := res.param("state"); got != "state-12345678" {
		t.Fatalf("state = %q", got)
	}
	return code
}

// oauthErr is a token-endpoint style answer.
type oauthErr struct {
	status int
	code   string
	body   map[string]any
}

func postForm(t testing.TB, s *Server, path string, form url.Values, user, pass string) oauthErr {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL()+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	return send(t, s, req)
}

// send does req and reads the answer as JSON; a 401's challenge is kept as body["www-authenticate"].
func send(t testing.TB, s *Server, req *http.Request) oauthErr {
	t.Helper()
	resp, err := httpClient(s).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	out := oauthErr{status: resp.StatusCode, body: map[string]any{}}
	_ = json.NewDecoder(resp.Body).Decode(&out.body)
	out.code, _ = out.body["error"].(string)
	if resp.StatusCode == http.StatusUnauthorized {
		out.body["www-authenticate"] = resp.Header.Get("WWW-Authenticate")
	}
	return out
}

func getJSON(t testing.TB, s *Server, path, bearer string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL()+path, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := httpClient(s).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

func mustIntrospect(t testing.TB, s *Server, token string) Introspection {
	t.Helper()
	in, err := s.Introspect(context.Background(), token)
	if err != nil {
		t.Fatalf("Introspect: %v", err)
	}
	return in
}
