package testtools

import (
	"net/http"
	"testing"
)

// answers is a RoundTripper that replies with the given statuses in turn.
type answers struct {
	statuses []int
	n        int
}

func (a *answers) RoundTrip(r *http.Request) (*http.Response, error) {
	st := a.statuses[a.n]
	a.n++
	h := http.Header{}
	if st >= 400 {
		h.Set("WWW-Authenticate", "Bearer error=\"e"+http.StatusText(st)+"\"")
	}
	return &http.Response{StatusCode: st, Header: h, Body: http.NoBody, Request: r}, nil
}

func TestHTTPStatusReportsWhatDecidedTheCall(t *testing.T) {
	tests := []struct {
		name          string
		statuses      []int
		wantStatus    int
		wantChallenge string
	}{
		{"streamable call", []int{200, 202, 200}, 200, ""},
		{"sse session: stream, then accepted posts", []int{200, 202, 202, 202}, 200, ""},
		{"refused at once", []int{401}, 401, `Bearer error="eUnauthorized"`},
		{"first refusal kept", []int{200, 403, 401}, 403, `Bearer error="eForbidden"`},
		{"no response", nil, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &httpStatus{next: &answers{statuses: tc.statuses}}
			for range tc.statuses {
				req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/mcp", nil)
				if _, err := rec.RoundTrip(req); err != nil {
					t.Fatal(err)
				}
			}
			if st, ch := rec.get(); st != tc.wantStatus || ch != tc.wantChallenge {
				t.Errorf("got (%d, %q), want (%d, %q)", st, ch, tc.wantStatus, tc.wantChallenge)
			}
		})
	}
}
