package htmlreport

import "regexp"

// tokenShapes match the secrets an answer or a log may carry: fosite's access tokens,
// refresh tokens and authorization codes, and JWTs. The report keeps a prefix, enough to
// tell two apart, as the console's --debug lines do.
var tokenShapes = []*regexp.Regexp{
	regexp.MustCompile(`\bory_(?:at|rt|ac)_[A-Za-z0-9_-]{4}[A-Za-z0-9_.-]+`),
	regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{4}[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+`),
}

// shortenSecrets replaces every token in s by its first characters and an ellipsis.
func shortenSecrets(s string) string {
	for _, re := range tokenShapes {
		s = re.ReplaceAllStringFunc(s, func(tok string) string {
			n := 7 // "eyJhbGc"
			if tok[0] == 'o' {
				n = len("ory_at_") + 4
			}
			return tok[:n] + "…"
		})
	}
	return s
}
