package oauthclient

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/net/html"
)

// maxHops bounds the redirects and form posts of one headless login.
const maxHops = 12

// browse plays the user agent: it opens the authorization URL and follows redirects and
// login or consent forms until the authorization server redirects to redirectURI, which
// it does not open. It returns that URL.
func (c *Client) browse(ctx context.Context, authURL, redirectURI string) (*url.URL, error) {
	target, err := url.Parse(redirectURI)
	if err != nil {
		return nil, fmt.Errorf("redirect URI %q: %w", redirectURI, err)
	}
	jar, _ := cookiejar.New(nil)
	agent := &http.Client{Transport: c.http.Transport, Jar: jar, Timeout: c.cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(withPhase(ctx, PhaseAuthorize), http.MethodGet, authURL, nil)
	if err != nil {
		return nil, fmt.Errorf("authorization URL: %w", err)
	}
	for hop := 0; hop < maxHops; hop++ {
		resp, err := agent.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", req.Method, RedactURL(req.URL.String()), err)
		}
		body, rerr := readCapped(resp.Body)
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode >= 300 && resp.StatusCode < 400 && loc != "" {
			next, err := req.URL.Parse(loc)
			if err != nil {
				return nil, fmt.Errorf("redirect to %q: %w", loc, err)
			}
			if sameEndpoint(next, target) {
				return next, nil
			}
			if next.Scheme != "http" && next.Scheme != "https" {
				return nil, fmt.Errorf("the authorization server redirected to %s, not to the redirect URI %s", RedactURL(next.String()), redirectURI)
			}
			if req, err = http.NewRequestWithContext(withPhase(ctx, PhaseLoginForm), http.MethodGet, next.String(), nil); err != nil {
				return nil, err
			}
			continue
		}
		if rerr != nil {
			return nil, fmt.Errorf("%s %s: %w", req.Method, RedactURL(req.URL.String()), rerr)
		}
		mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if resp.StatusCode != http.StatusOK || (mt != "text/html" && mt != "application/xhtml+xml") {
			return nil, fmt.Errorf("%s %s answered %d %s instead of redirecting to the client%s",
				req.Method, RedactURL(req.URL.String()), resp.StatusCode, mt, oauthErrorSuffix(body))
		}
		next, err := c.submitForm(ctx, req.URL, body)
		if err != nil {
			return nil, err
		}
		req = next
	}
	return nil, fmt.Errorf("no redirect to the client after %d requests", maxHops)
}

// sameEndpoint compares scheme, host, port and path (the query carries the response).
func sameEndpoint(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(hostPort(a), hostPort(b)) &&
		strings.TrimSuffix(a.EscapedPath(), "/") == strings.TrimSuffix(b.EscapedPath(), "/")
}

// form is one parsed HTML form.
type form struct {
	action, method string
	fields         []field
	buttons        []field
}

type field struct {
	name, value, typ string
	label            string // a button's text
	checked          bool
}

// subjectFields receive User.Subject when Credentials does not name them.
var subjectFields = []string{"subject", "username", "login", "email", "user", "login_hint"}

var (
	approveWords = []string{"approve", "allow", "accept", "authorize", "consent", "continue", "sign in", "log in", "login", "submit", "yes", "ok"}
	denyWords    = []string{"deny", "reject", "cancel", "decline", "no"}
)

// submitForm fills and submits the login or consent form of an HTML page.
func (c *Client) submitForm(ctx context.Context, page *url.URL, body []byte) (*http.Request, error) {
	forms, err := parseForms(string(body))
	if err != nil {
		return nil, fmt.Errorf("page %s: %w", RedactURL(page.String()), err)
	}
	if len(forms) == 0 {
		return nil, fmt.Errorf("page %s has no form to log in with and does not redirect: %s", RedactURL(page.String()), trimBody(body))
	}
	u := c.cfg.User
	f := chooseForm(forms, u)
	values := url.Values{}
	for _, fl := range f.fields {
		switch fl.typ {
		case "checkbox", "radio":
			if fl.checked {
				values.Add(fl.name, fl.value)
			}
		default:
			values.Add(fl.name, fl.value)
		}
	}
	for k, v := range u.Credentials {
		values.Set(k, v)
	}
	if u.Subject != "" {
		for _, name := range subjectFields {
			if _, declared := u.Credentials[name]; !declared && values.Has(name) {
				values.Set(name, u.Subject)
			}
		}
	}
	for _, fl := range f.fields {
		if fl.typ == "password" && values.Get(fl.name) == "" {
			return nil, fmt.Errorf("the login form at %s needs the password field %q: declare the user's credentials", RedactURL(page.String()), fl.name)
		}
	}
	if b, ok := chooseButton(f.buttons, u.Deny); ok && b.name != "" {
		values.Set(b.name, b.value)
	}
	action, err := page.Parse(f.action)
	if err != nil {
		return nil, fmt.Errorf("form action %q: %w", f.action, err)
	}
	pctx := withPhase(ctx, PhaseLoginForm)
	if f.method == http.MethodGet {
		action.RawQuery = values.Encode()
		return http.NewRequestWithContext(pctx, http.MethodGet, action.String(), nil)
	}
	req, err := http.NewRequestWithContext(pctx, http.MethodPost, action.String(), strings.NewReader(values.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

// chooseForm prefers a login form (one with a password field), then one with fields the
// user's declarations fill, then the first.
func chooseForm(forms []form, u User) form {
	score := func(f form) int {
		s := 0
		for _, fl := range f.fields {
			if fl.typ == "password" {
				s += 4
			}
			if _, ok := u.Credentials[fl.name]; ok {
				s += 2
			}
			if u.Subject != "" && slices.Contains(subjectFields, fl.name) {
				s++
			}
		}
		return s
	}
	best := forms[0]
	for _, f := range forms[1:] {
		if score(f) > score(best) {
			best = f
		}
	}
	return best
}

// chooseButton picks the submit button whose label or value says approve (or deny).
func chooseButton(buttons []field, deny bool) (field, bool) {
	words := approveWords
	if deny {
		words = denyWords
	}
	for _, w := range words {
		for _, b := range buttons {
			if strings.Contains(strings.ToLower(b.value+" "+b.label+" "+b.name), w) {
				return b, true
			}
		}
	}
	if len(buttons) > 0 && !deny {
		return buttons[0], true
	}
	return field{}, false
}

// parseForms reads every form of an HTML page with its fields and submit buttons.
func parseForms(page string) ([]form, error) {
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		return nil, fmt.Errorf("HTML: %w", err)
	}
	var forms []form
	var walk func(n *html.Node, f *form)
	walk = func(n *html.Node, f *form) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "form":
				nf := form{action: attr(n, "action"), method: strings.ToUpper(attr(n, "method"))}
				if nf.method != http.MethodGet {
					nf.method = http.MethodPost
				}
				for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
					walk(ch, &nf)
				}
				forms = append(forms, nf)
				return
			case "input", "button", "select", "textarea":
				if f != nil {
					addField(n, f)
				}
			}
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch, f)
		}
	}
	walk(doc, nil)
	if len(forms) > 32 {
		return nil, errors.New("more than 32 forms on the page")
	}
	return forms, nil
}

func addField(n *html.Node, f *form) {
	name := attr(n, "name")
	typ := strings.ToLower(attr(n, "type"))
	switch n.Data {
	case "button":
		if typ == "" || typ == "submit" {
			f.buttons = append(f.buttons, field{name: name, value: attr(n, "value"), label: strings.TrimSpace(text(n)), typ: "submit"})
		}
		return
	case "select":
		if name != "" {
			f.fields = append(f.fields, field{name: name, value: selectedOption(n), typ: "select"})
		}
		return
	case "textarea":
		if name != "" {
			f.fields = append(f.fields, field{name: name, value: text(n), typ: "textarea"})
		}
		return
	}
	switch typ {
	case "submit", "image":
		f.buttons = append(f.buttons, field{name: name, value: attr(n, "value"), typ: "submit"})
	case "button", "reset", "file":
	default:
		if name != "" {
			_, checked := attrOK(n, "checked")
			value, hasValue := attrOK(n, "value")
			if !hasValue && (typ == "checkbox" || typ == "radio") {
				value = "on"
			}
			f.fields = append(f.fields, field{name: name, value: value, typ: typ, checked: checked})
		}
	}
}

func selectedOption(sel *html.Node) string {
	first, found := "", false
	var walk func(n *html.Node) (string, bool)
	walk = func(n *html.Node) (string, bool) {
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			if ch.Type == html.ElementNode && ch.Data == "option" {
				v, ok := attrOK(ch, "value")
				if !ok {
					v = strings.TrimSpace(text(ch))
				}
				if _, sel := attrOK(ch, "selected"); sel {
					return v, true
				}
				if !found {
					first, found = v, true
				}
			}
			if v, ok := walk(ch); ok {
				return v, true
			}
		}
		return "", false
	}
	if v, ok := walk(sel); ok {
		return v
	}
	return first
}

func attr(n *html.Node, key string) string {
	v, _ := attrOK(n, key)
	return v
}

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if strings.EqualFold(a.Key, key) {
			return a.Val, true
		}
	}
	return "", false
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(n)
	return b.String()
}
