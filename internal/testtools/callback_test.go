package testtools

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestTrimPage(t *testing.T) {
	long := strings.Repeat("word ", 200)
	tests := []struct {
		name, page, want string
	}{
		{"tags dropped and space folded", "<h1>Authentication\n  Failed</h1>\n<p class=\"message\">Try again.</p>",
			"Authentication Failed Try again."},
		{"style and script content dropped",
			"<html><head><title>T</title><style>body{margin:3em}</style><SCRIPT type=\"x\">alert(1)</SCRIPT></head><body>ok</body></html>",
			"T ok"},
		{"plain text kept", "Invalid callback: missing required parameters", "Invalid callback: missing required parameters"},
		{"cut after 500 bytes", long, strings.TrimSpace(long)[:500] + "..."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := trimPage(tc.page); got != tc.want {
				t.Errorf("trimPage(%q)\n got %q\nwant %q", tc.page, got, tc.want)
			}
		})
	}
}

func TestRequireLoopback(t *testing.T) {
	cases := []struct {
		u, port string
		ok      bool
	}{
		{"http://localhost:8080/cb?code=1", "8080", true},
		{"http://127.0.0.1:8080/cb", "8080", true},
		{"http://[::1]:8080/cb", "", true},
		{"http://localhost:9090/cb", "8080", false},
		{"http://example.com:8080/cb", "8080", false},
		{"https://10.0.0.1/authorize", "", false},
	}
	for _, c := range cases {
		if err := requireLoopback(c.u, c.port, "url"); (err == nil) != c.ok {
			t.Errorf("requireLoopback(%q, %q) = %v, want ok=%v", c.u, c.port, err, c.ok)
		}
	}
}

func TestConsentForm(t *testing.T) {
	page := `<!DOCTYPE html><html><body>
<form id="search" action="/search"><input name="q" value="x"></form>
<input type="hidden" name="stray" value="1">
<form id="consent" method="POST" action="/authorize">
<input type="hidden" name="state" value="a&amp;b">
<input type="hidden" name="scope" value="openid">
<input type="hidden" name="scope" value="mcp:read">
<input type="hidden" name="csrf_token" value="tok">
<label>Subject <input type="text" name="subject" value="alice"></label>
<input type="submit" name="action" value="go">
<button type="submit" name="action" value="approve">Approve</button>
</form></body></html>`
	action, fields, ok := consentForm(page)
	want := url.Values{"state": {"a&b"}, "scope": {"openid", "mcp:read"}, "csrf_token": {"tok"}, "subject": {"alice"}}
	if !ok || action != "/authorize" || !reflect.DeepEqual(fields, want) {
		t.Errorf("consentForm = %q %v %v, want /authorize %v", action, fields, ok, want)
	}
	if _, _, ok := consentForm(`<html><body><form id="other"></form></body></html>`); ok {
		t.Error("a page without the consent form was read as one")
	}
}
