package oauthclient

import (
	"fmt"
	"strings"
)

// Challenge is one challenge of a WWW-Authenticate header (RFC 9110 §11.6.1).
type Challenge struct {
	Scheme string `json:"scheme"`
	// Token68 is the challenge's token68 form (e.g. `Negotiate abc==`), rare with Bearer.
	Token68 string `json:"token68,omitempty"`
	// Params holds the auth-params with lower-cased names and unquoted values.
	Params map[string]string `json:"params,omitempty"`
}

// Param returns the value of a parameter, "" when absent.
func (c Challenge) Param(name string) string { return c.Params[strings.ToLower(name)] }

// ParseWWWAuthenticate parses the values of one or more WWW-Authenticate header fields
// (joined as a list) into challenges. Parameter names are case-insensitive; quoted-string
// values are unescaped. On a syntax error it returns the challenges read up to it together
// with an error naming the offset.
func ParseWWWAuthenticate(header string) ([]Challenge, error) {
	p := &authParser{s: header}
	var out []Challenge
	for {
		p.skipListSeparators()
		if p.done() {
			return out, nil
		}
		scheme := p.token()
		if scheme == "" {
			return out, p.errorf("expected an auth-scheme")
		}
		ch := Challenge{Scheme: scheme}
		if p.done() || p.peek() == ',' {
			out = append(out, ch)
			continue
		}
		if !p.skipSpaces() {
			return out, p.errorf("expected a space after the scheme %q", scheme)
		}
		if t68, ok := p.token68(); ok {
			ch.Token68 = t68
			out = append(out, ch)
			continue
		}
		err := p.params(&ch)
		out = append(out, ch)
		if err != nil {
			return out, err
		}
	}
}

// BearerChallenge returns the first challenge with the Bearer scheme (case-insensitive).
func BearerChallenge(chs []Challenge) (Challenge, bool) {
	for _, c := range chs {
		if strings.EqualFold(c.Scheme, "Bearer") {
			return c, true
		}
	}
	return Challenge{}, false
}

type authParser struct {
	s string
	i int
}

func (p *authParser) done() bool { return p.i >= len(p.s) }
func (p *authParser) peek() byte { return p.s[p.i] }

func (p *authParser) errorf(format string, a ...any) error {
	return fmt.Errorf("WWW-Authenticate: at offset %d: %s", p.i, fmt.Sprintf(format, a...))
}

// skipSpaces skips OWS and reports whether there was any.
func (p *authParser) skipSpaces() bool {
	start := p.i
	for !p.done() && (p.peek() == ' ' || p.peek() == '\t') {
		p.i++
	}
	return p.i > start
}

// skipListSeparators skips OWS and empty list elements (RFC 9110 §5.6.1 allows ", ,").
func (p *authParser) skipListSeparators() {
	for !p.done() && (p.peek() == ' ' || p.peek() == '\t' || p.peek() == ',') {
		p.i++
	}
}

func isTChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func (p *authParser) token() string {
	start := p.i
	for !p.done() && isTChar(p.peek()) {
		p.i++
	}
	return p.s[start:p.i]
}

// token68 reads a token68 when one stands here alone (followed by the end or a comma); it
// leaves the position unchanged otherwise, so that auth-params are read instead.
func (p *authParser) token68() (string, bool) {
	start := p.i
	j := p.i
	for j < len(p.s) && (isTChar(p.s[j]) && strings.IndexByte("!#$%&'*^`|", p.s[j]) < 0 || p.s[j] == '/') {
		j++
	}
	if j == start {
		return "", false
	}
	for j < len(p.s) && p.s[j] == '=' {
		j++
	}
	k := j
	for k < len(p.s) && (p.s[k] == ' ' || p.s[k] == '\t') {
		k++
	}
	if k < len(p.s) && p.s[k] != ',' {
		return "", false
	}
	// `name=,` is an auth-param with an empty token value only in broken headers; a
	// token68 is the reading RFC 9110's grammar allows.
	p.i = k
	return p.s[start:j], true
}

// params reads the comma-separated auth-params of ch up to the next challenge.
func (p *authParser) params(ch *Challenge) error {
	ch.Params = map[string]string{}
	for {
		p.skipListSeparators()
		if p.done() {
			return nil
		}
		save := p.i
		name := p.token()
		if name == "" {
			return p.errorf("expected an auth-param name")
		}
		p.skipSpaces()
		if p.done() || p.peek() != '=' {
			// A token not followed by '=' begins the next challenge.
			p.i = save
			return nil
		}
		p.i++ // '='
		p.skipSpaces()
		var value string
		if !p.done() && p.peek() == '"' {
			v, err := p.quoted()
			if err != nil {
				return err
			}
			value = v
		} else {
			value = p.token()
			if value == "" {
				return p.errorf("auth-param %q has no value", name)
			}
		}
		key := strings.ToLower(name)
		if _, dup := ch.Params[key]; dup {
			return p.errorf("auth-param %q appears twice in one challenge", name)
		}
		ch.Params[key] = value
		p.skipSpaces()
		if !p.done() && p.peek() != ',' {
			return p.errorf("expected ',' after auth-param %q", name)
		}
	}
}

// quoted reads a quoted-string (RFC 9110 §5.6.4) and returns it unescaped.
func (p *authParser) quoted() (string, error) {
	start := p.i
	p.i++ // opening quote
	var b strings.Builder
	for !p.done() {
		c := p.peek()
		switch {
		case c == '"':
			p.i++
			return b.String(), nil
		case c == '\\':
			p.i++
			if p.done() {
				return "", p.errorf("quoted-string ends in a backslash")
			}
			if q := p.peek(); q < 0x20 && q != '\t' || q == 0x7f {
				return "", p.errorf("control character 0x%02x in a quoted-pair", q)
			}
			b.WriteByte(p.peek())
		case c < 0x20 && c != '\t' || c == 0x7f:
			return "", p.errorf("control character 0x%02x in a quoted-string", c)
		default:
			b.WriteByte(c)
		}
		p.i++
	}
	p.i = start
	return "", p.errorf("unterminated quoted-string")
}
