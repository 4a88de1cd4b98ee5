package htmlreport

import "testing"

func TestShortenSecrets(t *testing.T) {
	for in, want := range map[string]string{
		`{"token":"ory_at_qPQuEmmI4FPkJsgpQV99rwNUxDOOwyvr2YQah8MQWV4.YTjlrunDta4LYEvW_pLEV9ePzmx1wtNzPG5TNbYF5oo"}`: `{"token":"ory_at_qPQu…"}`,
		"refresh ory_rt_abcdefgh and code ory_ac_12345678.x":                                                         "refresh ory_rt_abcd… and code ory_ac_1234…",
		"Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl rest":                               "Authorization: Bearer eyJhbGc… rest",
		"subject test-user-123, no token here":                                                                       "subject test-user-123, no token here",
	} {
		if got := shortenSecrets(in); got != want {
			t.Errorf("shortenSecrets(%q) = %q, want %q", in, got, want)
		}
	}
}
