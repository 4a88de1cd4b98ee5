package oauthclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const loginPage = `<!DOCTYPE html><html><body>
<form action="/search" method="get"><input name="q"><button>Search</button></form>
<form id="login" action="/login" method="post">
  <input type="hidden" name="csrf" value="tok-123">
  <input type="hidden" name="next" value="NEXT">
  <label>User <input type="text" name="username"></label>
  <label>Password <input type="password" name="password"></label>
  <input type="checkbox" name="remember" checked>
  <input type="checkbox" name="newsletter" value="yes">
  <select name="tenant"><option value="a">A</option><option value="b" selected>B</option></select>
  <textarea name="note">hi</textarea>
  <button type="submit" name="action" value="cancel">Cancel</button>
  <button type="submit" name="action" value="login">Sign in</button>
</form></body></html>`

// loginServer is an authorization endpoint behind a cookie-session login form.
func loginServer(t *testing.T, redirect string) *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/authorize":
			if c, err := r.Cookie("sid"); err != nil || c.Value != "alice" {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.String()), http.StatusFound)
				return
			}
			http.Redirect(w, r, redirect+"?code=c0de&state="+url.QueryEscape(r.URL.Query().Get("state")), http.StatusFound)
		case "/login":
			if r.Method == http.MethodGet {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				_, _ = w.Write([]byte(strings.Replace(loginPage, "NEXT", r.URL.Query().Get("next"), 1)))
				return
			}
			_ = r.ParseForm()
			f := r.PostForm
			if f.Get("csrf") != "tok-123" || f.Get("username") != "alice" || f.Get("password") != "pw" ||
				f.Get("remember") != "on" || f.Has("newsletter") || f.Get("tenant") != "b" || f.Get("note") != "hi" || f.Get("action") != "login" {
				http.Error(w, "bad login form: "+f.Encode(), http.StatusBadRequest)
				return
			}
			http.SetCookie(w, &http.Cookie{Name: "sid", Value: "alice", Path: "/"})
			http.Redirect(w, r, f.Get("next"), http.StatusSeeOther)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestBrowserLoginForm: the headless browser follows the redirect to a login page, picks
// the form with the password field, keeps hidden, checked, selected and textarea values,
// fills the declared credentials, presses the sign-in button, keeps the session cookie and
// stops at the redirect URI without opening it.
func TestBrowserLoginForm(t *testing.T) {
	const redirect = "http://127.0.0.1:1/callback"
	srv := loginServer(t, redirect)
	c, err := New(Config{User: User{Credentials: map[string]string{"username": "alice", "password": "pw"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, err := c.browse(ctx, srv.URL+"/authorize?state=s1", redirect)
	if err != nil {
		t.Fatalf("browse: %v\n%v", err, c.Phases())
	}
	if got.Query().Get("code") != "c0de" || got.Query().Get("state") != "s1" {
		t.Fatalf("callback %s", got)
	}
	if names := phaseNamesOf(c.Phases()); strings.Join(names, ",") != "authorize,login,login,login" {
		t.Errorf("phases %v", names)
	}
}

func TestBrowserMissingPassword(t *testing.T) {
	srv := loginServer(t, "http://127.0.0.1:1/callback")
	c, _ := New(Config{User: User{Subject: "alice"}})
	defer c.Close()
	_, err := c.browse(context.Background(), srv.URL+"/authorize", "http://127.0.0.1:1/callback")
	if err == nil || !strings.Contains(err.Error(), `needs the password field "password"`) {
		t.Fatalf("error %v", err)
	}
}

// TestBrowserDeadEnds: pages that neither redirect nor offer a form, endless redirects
// and error pages end with a clear error.
func TestBrowserDeadEnds(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/text":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<p>nothing to do here</p>"))
		case "/error":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_request","error_description":"no client_id"}`))
		}
	}))
	defer srv.Close()
	c, _ := New(Config{})
	defer c.Close()
	for path, want := range map[string]string{
		"/loop": "no redirect to the client after", "/text": "has no form", "/error": "answered 400 application/json instead of redirecting to the client: invalid_request: no client_id",
	} {
		if _, err := c.browse(context.Background(), srv.URL+path, "http://127.0.0.1:1/cb"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", path, err, want)
		}
	}
}

// TestCallbackChecks: the RFC 9207 iss rules and the state check, and their faults.
func TestCallbackChecks(t *testing.T) {
	d := &Discovery{AS: &ServerMetadata{Issuer: "http://as.example"}}
	advertised := &Discovery{AS: &ServerMetadata{Issuer: "http://as.example", AuthorizationResponseIssParameterSupported: true}}
	cases := []struct {
		name   string
		d      *Discovery
		query  string
		faults Faults
		want   string // error substring; "" for success
	}{
		{"plain success", d, "code=c&state=S", Faults{}, ""},
		{"iss matches", advertised, "code=c&state=S&iss=http%3A%2F%2Fas.example", Faults{}, ""},
		{"iss sent unasked, wrong", d, "code=c&state=S&iss=http%3A%2F%2Fevil.example", Faults{}, "mix-up"},
		{"iss advertised, missing", advertised, "code=c&state=S", Faults{}, "has no iss"},
		{"iss wrong but ignored", advertised, "code=c&state=S&iss=x", Faults{IgnoreIss: true}, ""},
		{"state mismatch", d, "code=c&state=T", Faults{}, "is not the state sent"},
		{"state missing", d, "code=c", Faults{}, "is not the state sent"},
		{"state forged", d, "code=c&state=S", Faults{WrongState: true}, "is not the state sent"},
		{"state ignored", d, "code=c&state=T", Faults{IgnoreState: true}, ""},
		{"error response", d, "error=access_denied&error_description=no&state=S", Faults{}, "error=access_denied: no"},
		{"neither", d, "state=S", Faults{}, "neither code nor error"},
	}
	for _, tc := range cases {
		c, _ := New(Config{Faults: tc.faults})
		u, _ := url.Parse("http://127.0.0.1:1/cb?" + tc.query)
		code, err := c.checkCallback(tc.d, u, "S")
		switch {
		case tc.want == "" && (err != nil || code != "c"):
			t.Errorf("%s: %q %v", tc.name, code, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
		if ps := c.Phases(); len(ps) != 1 || ps[0].Name != PhaseCallback || (ps[0].Error != "") != (tc.want != "") {
			t.Errorf("%s: phases %v", tc.name, ps)
		}
		c.Close()
	}
}

func phaseNamesOf(ps []Phase) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

func TestRedactURL(t *testing.T) {
	got := RedactURL("http://h/cb?code=abcdefghij&state=xyz&scope=a+b")
	if !strings.Contains(got, "code=abcd...") || strings.Contains(got, "abcdefghij") || !strings.Contains(got, "state=%2A%2A%2A") || !strings.Contains(got, "scope=a+b") {
		t.Fatalf("%s", got)
	}
	p := Phase{Name: PhaseAuthorize, Method: "GET", URL: "http://h/a?code_verifier=0123456789", Status: 302, Duration: time.Millisecond}
	if s := p.String(); strings.Contains(s, "0123456789") || !strings.Contains(s, "-> 302") {
		t.Fatalf("%s", s)
	}
}
