package idp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/x/errorsx"
)

// consentFields are the form fields the consent page adds to the echoed request.
const (
	FieldSubject = "subject"
	FieldAction  = "action"
	// FieldCSRF holds the consent form's CSRF token (with Config.ConsentCSRF only).
	FieldCSRF   = "csrf_token"
	ActionAllow = "approve"
	ActionDeny  = "deny"
)

func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", "malformed request")
		return
	}
	entry := entryFrom(ctx)
	clientID := r.Form.Get("client_id")
	entry.client = clientID
	if uri := r.Form.Get("redirect_uri"); s.clients.isAnyLoopback(clientID) && isLoopbackRedirect(uri) {
		ctx = withLoopbackRedirect(ctx, uri)
	}
	original := maps.Clone(r.Form)
	resourceAsAudience(r.Form)

	ar, err := s.provider.NewAuthorizeRequest(ctx, r)
	if err != nil {
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	subject := r.Form.Get("login_hint")
	if subject == "" {
		subject = s.cfg.Users[0].Subject
	}
	if !s.cfg.AutoApprove {
		if r.Method != http.MethodPost || r.PostForm.Get(FieldAction) == "" {
			s.writeConsentPage(w, r, original, subject)
			return
		}
		if s.cfg.ConsentCSRF && !s.validCSRF(r) {
			// No redirect: the request may come from any page, and its client learns nothing.
			writeOAuthError(w, http.StatusForbidden, "access_denied",
				"the consent form's CSRF token is missing or was not issued to this browser")
			return
		}
		if r.PostForm.Get(FieldAction) != ActionAllow {
			s.denyNext.Store(false)
			s.provider.WriteAuthorizeError(ctx, w, ar, errorsx.WithStack(fosite.ErrAccessDenied.WithHint("The user denied the request.")))
			return
		}
		if sub := r.PostForm.Get(FieldSubject); sub != "" {
			subject = sub
		}
	}
	// A real IdP refuses to log in someone it does not know; accepting any subject would
	// let a scenario pass with a user its IdP never declared.
	user, known := s.users.lookup(subject)
	if !known {
		s.provider.WriteAuthorizeError(ctx, w, ar, errorsx.WithStack(fosite.ErrAccessDenied.WithHintf("Unknown subject %q: the IdP declares no such user.", subject)))
		return
	}
	if s.denyNext.CompareAndSwap(true, false) {
		s.provider.WriteAuthorizeError(ctx, w, ar, errorsx.WithStack(fosite.ErrAccessDenied.WithHint("The IdP was told to deny this request.")))
		return
	}
	entry.subject = subject
	// Scopes and audiences are validated against the client by fosite's handlers when the
	// response is built; the user grants what was asked, within the user's own scopes.
	for _, sc := range ar.GetRequestedScopes() {
		if user.mayHave(sc) {
			ar.GrantScope(sc)
		}
	}
	for _, a := range ar.GetRequestedAudience() {
		ar.GrantAudience(a)
	}

	sess := newSession(subject, user.Claims, s.signKey.KeyID)
	sess.Claims.AuthTime = time.Now().UTC().Truncate(time.Second)
	sess.Claims.RequestedAt = ar.GetRequestedAt()
	resp, err := s.provider.NewAuthorizeResponse(ctx, ar, sess)
	if err != nil {
		s.provider.WriteAuthorizeError(ctx, w, ar, err)
		return
	}
	s.provider.WriteAuthorizeResponse(ctx, w, ar, resp)
}

// isLoopbackRedirect accepts http URLs on localhost, 127.0.0.1 or [::1] (any port).
func isLoopbackRedirect(uri string) bool {
	return strings.HasPrefix(uri, "http://") && isLoopbackHTTPURL(uri)
}

// resourceAsAudience maps RFC 8707 resource parameters onto fosite's audience.
func resourceAsAudience(form map[string][]string) {
	if res := form["resource"]; len(res) > 0 {
		form["audience"] = append(slices.Clone(form["audience"]), res...)
	}
}

var consentTemplate = template.Must(template.New("consent").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Sign in - {{.Issuer}}</title></head>
<body>
<h1>Sign in to {{.Issuer}}</h1>
<p>Client <code>{{.ClientID}}</code> asks for: <code>{{.Scope}}</code></p>
<form id="consent" method="POST" action="/authorize">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}{{if .CSRF}}<input type="hidden" name="csrf_token" value="{{.CSRF}}">
{{end}}<label>Subject <input type="text" name="subject" value="{{.Subject}}"></label>
<button type="submit" name="action" value="approve">Approve</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>
</body></html>
`))

type hiddenField struct{ Name, Value string }

func (s *Server) writeConsentPage(w http.ResponseWriter, r *http.Request, form url.Values, subject string) {
	var csrf string
	if s.cfg.ConsentCSRF {
		csrf = s.csrfToken(s.browserID(w, r))
	}
	var hidden []hiddenField
	keys := make([]string, 0, len(form))
	for k := range form {
		if k != FieldSubject && k != FieldAction && k != FieldCSRF {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		for _, v := range form[k] {
			hidden = append(hidden, hiddenField{k, v})
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Frame-Options", "DENY")
	_ = consentTemplate.Execute(w, map[string]any{
		"Issuer": s.issuer, "ClientID": form.Get("client_id"), "Scope": form.Get("scope"),
		"Hidden": hidden, "Subject": subject, "CSRF": csrf,
	})
}

// consentCookie names the cookie that identifies a browser to the consent form. Cookies
// ignore ports, so the name carries the IdP's: two IdPs on localhost keep theirs apart.
func (s *Server) consentCookie() string { return "mock_idp_browser_" + strconv.Itoa(s.port) }

// browserID returns the browser's id from its cookie, setting a new one when it has none.
func (s *Server) browserID(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(s.consentCookie()); err == nil && c.Value != "" {
		return c.Value
	}
	id := randomID(32)
	http.SetCookie(w, &http.Cookie{Name: s.consentCookie(), Value: id, Path: "/authorize",
		HttpOnly: true, Secure: s.cfg.UseTLS, SameSite: http.SameSiteStrictMode})
	return id
}

// csrfToken is the consent form's token for a browser: only the IdP can derive it from the
// cookie, and a page elsewhere can neither read the cookie nor the form.
func (s *Server) csrfToken(browser string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(browser))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validCSRF reports whether a consent POST carries exactly one token, the one of the
// browser whose cookie it sends.
func (s *Server) validCSRF(r *http.Request) bool {
	c, err := r.Cookie(s.consentCookie())
	got := r.PostForm[FieldCSRF]
	if err != nil || c.Value == "" || len(got) != 1 {
		return false
	}
	return hmac.Equal([]byte(got[0]), []byte(s.csrfToken(c.Value)))
}
