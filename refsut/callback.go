package refsut

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// Callback failure messages (docs/muster-contract.md §4.5).
const (
	msgDenied   = "Authentication was denied or failed. Please try again."
	msgMissing  = "Invalid callback: missing required parameters"
	msgExpired  = "Authentication session expired. Please try again."
	msgInvalid  = "Authentication session invalid. Please try again."
	msgExchange = "Failed to complete authentication. Please try again."
)

var successPage = newPage(`<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>Authentication Successful - Muster</title>
<style>body{font-family:sans-serif;margin:3em}.server-name{font-weight:bold}</style>
</head>
<body>
<h1>Authentication Successful</h1>
<p>You have been authenticated to <span class="server-name">{{.}}</span>.</p>
<p>You can close this window and return to your MCP client.</p>
</body>
</html>
`)

var failurePage = newPage(`<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>Authentication Failed - Muster</title>
<style>body{font-family:sans-serif;margin:3em}.message{color:#a00}</style>
</head>
<body>
<h1>Authentication Failed</h1>
<p class="message">{{.}}</p>
</body>
</html>
`)

// page is an HTML page with one text slot, {{.}}, filled with escaped text. It is not an
// html/template: executing a template calls methods by name, so the linker then keeps every
// exported method of every linked type (4,000 more functions, 17.8 instead of 14.1 MB), and
// every SUT process pays for mapping them at start.
type page struct{ head, tail string }

func newPage(src string) page {
	head, tail, ok := strings.Cut(src, "{{.}}")
	if !ok {
		panic("page without a {{.}} slot")
	}
	return page{head, tail}
}

func writePage(w http.ResponseWriter, status int, page page, data string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store, no-cache, must-revalidate")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, page.head+html.EscapeString(data)+page.tail)
}

func fail(w http.ResponseWriter, msg string) { writePage(w, http.StatusBadRequest, failurePage, msg) }

// handleCallback finishes a login: it checks the state, exchanges the code and stores the
// token under (session, issuer); the next login call connects (docs/muster-contract.md §4.5).
func (a *Aggregator) handleCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	code, state := q.Get("code"), q.Get("state")
	if q.Get("error") != "" {
		a.log.Info("OAuth callback carried an error", "error", q.Get("error"), "subsystem", "oauth")
		if a.faults.has(FaultIgnoreCallbackError) {
			p, _ := decodeState(state)
			writePage(w, http.StatusOK, successPage, p.ServerName)
			return
		}
		fail(w, msgDenied)
		return
	}
	if code == "" || state == "" {
		fail(w, msgMissing)
		return
	}
	ok := false
	var p pendingLogin
	if a.cfg.Server.Enabled {
		msg := ""
		if p, msg = a.takeBound(w, r, state); msg != "" {
			fail(w, msg)
			return
		}
	} else if p, ok = a.lookupState(state); !ok {
		fail(w, msgExpired)
		return
	}
	if p.issuer == "" || (p.verifier == "" && !a.faults.has(FaultSkipPKCE) && !a.faults.has(FaultSkipStateCheck)) {
		fail(w, msgInvalid)
		return
	}
	tok, err := a.exchange(r.Context(), p, code)
	if err != nil {
		a.log.Info("OAuth token exchange failed", "server", p.server, "error", err, "subsystem", "oauth")
		fail(w, msgExchange)
		return
	}
	a.tokens.put(a.tokenKey(p.sessionID, p.issuer), tok)
	a.log.Info("OAuth token stored", "server", p.server, "issuer", p.issuer, "subsystem", "oauth")
	writePage(w, http.StatusOK, successPage, p.server)
}

// lookupState consumes the challenge the state names. Under skip-state-check it accepts
// whatever it can make sense of instead.
func (a *Aggregator) lookupState(state string) (pendingLogin, bool) {
	sp, err := decodeState(state)
	if err == nil {
		if p, ok := a.challenges.take(sp.Nonce); ok && p.sessionID == sp.SessionID && p.server == sp.ServerName {
			return p, true
		}
	}
	if !a.faults.has(FaultSkipStateCheck) {
		return pendingLogin{}, false
	}
	if p, ok := a.challenges.only(sp.ServerName); ok {
		return p, true
	}
	if sp.ServerName != "" && sp.Issuer != "" {
		return pendingLogin{sessionID: sp.SessionID, server: sp.ServerName, issuer: sp.Issuer}, true
	}
	return pendingLogin{}, false
}

func (a *Aggregator) exchange(ctx context.Context, p pendingLogin, code string) (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	md, err := a.metadata(ctx, p.issuer)
	if err != nil {
		return nil, err
	}
	var opts []oauth2.AuthCodeOption
	if p.verifier != "" && !a.faults.has(FaultSkipPKCE) {
		opts = append(opts, oauth2.VerifierOption(p.verifier))
	}
	if p.resource != "" && !a.faults.has(FaultNoResourceToken) {
		opts = append(opts, oauth2.SetAuthURLParam("resource", p.resource)) // RFC 8707
	}
	return a.oauthConfig(md, "").Exchange(a.oauthCtx(ctx), code, opts...)
}

// handleCIMD serves the client metadata document client_id names (docs/muster-contract.md §4.4).
func (a *Aggregator) handleCIMD(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	o := a.cfg.OAuth
	doc := struct {
		ClientID                string   `json:"client_id"`
		ClientName              string   `json:"client_name"`
		ClientURI               string   `json:"client_uri"`
		RedirectURIs            []string `json:"redirect_uris"`
		GrantTypes              []string `json:"grant_types"`
		ResponseTypes           []string `json:"response_types"`
		TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
		Scope                   string   `json:"scope"`
		SoftwareID              string   `json:"software_id"`
		SoftwareVersion         string   `json:"software_version"`
	}{
		ClientID:                o.ClientID,
		ClientName:              "Muster MCP Aggregator",
		ClientURI:               "https://github.com/giantswarm/muster",
		RedirectURIs:            []string{o.PublicURL + o.CallbackPath},
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		ResponseTypes:           []string{"code"},
		TokenEndpointAuthMethod: "none",
		Scope:                   "openid profile email",
		SoftwareID:              "giantswarm-muster",
		SoftwareVersion:         "1.0.0",
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	b, _ := json.Marshal(doc)
	_, _ = w.Write(b)
}
