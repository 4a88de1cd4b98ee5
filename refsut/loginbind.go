package refsut

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
)

// Login binding (protected mode). A login's URL is a start URL on the gateway, newer
// muster's /oauth/proxy/start. The first browser to open it gets a random secret in a
// cookie, and the gateway keeps the secret's hash with the pending login; the callback
// completes the login only when the browser presents that cookie. A code and state
// captured from one browser and replayed from another (login CSRF: someone else's login
// completed into a session, or a victim's into the attacker's) is refused.
//
// Why a cookie set at the start redirect, and not a PKCE-style proof: the callback is a
// plain top-level navigation from the IdP, and a cookie is the one thing a browser brings
// along unasked. SameSite=Lax still sends it on that navigation; HttpOnly keeps scripts
// from reading it; its path is the callback's only. What it cannot tell is who opened the
// start URL first: the URL is handed to the session's owner only, works once and for 10
// minutes (challengeTTL).

const loginStartPath = "/oauth/proxy/start"

// Messages of the start endpoint and the binding check (muster's wording where it has one).
const (
	msgStartMissing = "Invalid sign-in link: missing required parameters"
	msgOtherBrowser = "Authentication session invalid. Please try again."
)

func (a *Aggregator) loginStartURL(nonce string) string {
	return a.cfg.OAuth.PublicURL + loginStartPath + "?state=" + url.QueryEscape(nonce)
}

// loginCookie is the binding cookie's name for one login: several logins may run in one
// browser at once.
func loginCookie(state string) string {
	sum := sha256.Sum256([]byte(state))
	return "muster_login_" + hex.EncodeToString(sum[:8])
}

func bindingOf(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// handleLoginStart binds the login to the browser and sends it on to the IdP.
func (a *Aggregator) handleLoginStart(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	state := r.URL.Query().Get("state")
	if state == "" {
		fail(w, msgStartMissing)
		return
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	secret := base64.RawURLEncoding.EncodeToString(raw)
	p, ok := a.challenges.bind(state, bindingOf(secret))
	if !ok {
		// Unknown, expired, or already opened by a browser: a start URL works once.
		fail(w, msgExpired)
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: loginCookie(state), Value: secret, Path: a.cfg.OAuth.CallbackPath,
		MaxAge: int(challengeTTL.Seconds()), HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: strings.HasPrefix(a.cfg.OAuth.PublicURL, "https://"),
	})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, p.authURL, http.StatusFound)
}

// takeBound consumes the login the state names when the request comes from the browser
// that started it; otherwise it returns the failure message and leaves the login pending,
// so a stray callback cannot spoil the real one.
func (a *Aggregator) takeBound(w http.ResponseWriter, r *http.Request, state string) (pendingLogin, string) {
	p, ok := a.challenges.peek(state)
	if !ok && a.faults.has(FaultSkipStateCheck) {
		// The fault in protected mode: a state never issued still completes the only
		// pending login.
		if state, ok = a.challenges.onlyNonce(); ok {
			p, ok = a.challenges.peek(state)
		}
	}
	if !ok {
		return pendingLogin{}, msgExpired
	}
	c, err := r.Cookie(loginCookie(state))
	bound := p.binding != "" && err == nil && subtle.ConstantTimeCompare([]byte(bindingOf(c.Value)), []byte(p.binding)) == 1
	if !bound && !a.faults.has(FaultUnboundLogin) {
		a.log.Warn("OAuth callback from a browser that did not start the login; refused", "server", p.server, "subsystem", "oauth")
		return pendingLogin{}, msgOtherBrowser
	}
	if p, ok = a.challenges.take(state); !ok {
		return pendingLogin{}, msgExpired // a concurrent callback took it
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie(state), Path: a.cfg.OAuth.CallbackPath, MaxAge: -1, HttpOnly: true})
	return p, ""
}
