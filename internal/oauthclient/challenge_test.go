package oauthclient

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseWWWAuthenticate(t *testing.T) {
	cases := []struct {
		in      string
		want    []Challenge
		wantErr string
	}{
		{`Bearer`, []Challenge{{Scheme: "Bearer"}}, ""},
		{`Bearer realm="example"`, []Challenge{{Scheme: "Bearer", Params: map[string]string{"realm": "example"}}}, ""},
		{`Bearer resource_metadata="http://h/.well-known/oauth-protected-resource/mcp", scope="a b", error="invalid_token"`,
			[]Challenge{{Scheme: "Bearer", Params: map[string]string{"resource_metadata": "http://h/.well-known/oauth-protected-resource/mcp", "scope": "a b", "error": "invalid_token"}}}, ""},
		{`bearer Error=insufficient_scope ,SCOPE = "x"`, []Challenge{{Scheme: "bearer", Params: map[string]string{"error": "insufficient_scope", "scope": "x"}}}, ""},
		{`Bearer error_description="say \"no\", \\ then", realm=x`,
			[]Challenge{{Scheme: "Bearer", Params: map[string]string{"error_description": `say "no", \ then`, "realm": "x"}}}, ""},
		{`Basic realm="a, b", Bearer scope="s"`, []Challenge{
			{Scheme: "Basic", Params: map[string]string{"realm": "a, b"}},
			{Scheme: "Bearer", Params: map[string]string{"scope": "s"}}}, ""},
		{`Negotiate abc+/==, Bearer`, []Challenge{{Scheme: "Negotiate", Token68: "abc+/=="}, {Scheme: "Bearer"}}, ""},
		{`Bearer ,, realm="x" ,`, []Challenge{{Scheme: "Bearer", Params: map[string]string{"realm": "x"}}}, ""},
		{`Bearer realm="x", Basic`, []Challenge{{Scheme: "Bearer", Params: map[string]string{"realm": "x"}}, {Scheme: "Basic"}}, ""},
		{``, nil, ""},
		{`Bearer realm="unterminated`, []Challenge{{Scheme: "Bearer", Params: map[string]string{}}}, "unterminated quoted-string"},
		{`Bearer realm=`, []Challenge{{Scheme: "Bearer", Token68: "realm="}}, ""}, // a token68, by the grammar
		{`Bearer a="1", b=`, []Challenge{{Scheme: "Bearer", Params: map[string]string{"a": "1"}}}, "has no value"},
		{`Bearer a="1", a="2"`, []Challenge{{Scheme: "Bearer", Params: map[string]string{"a": "1"}}}, "appears twice"},
		{`Bearer realm="x" junk`, []Challenge{{Scheme: "Bearer", Params: map[string]string{"realm": "x"}}}, "expected ','"},
		{`"quoted-scheme"`, nil, "expected an auth-scheme"},
		{"Bearer realm=\"a\x01b\"", []Challenge{{Scheme: "Bearer", Params: map[string]string{}}}, "control character"},
		{`Bearer realm="ends in \`, []Challenge{{Scheme: "Bearer", Params: map[string]string{}}}, "backslash"},
		{`Bearer@`, nil, "expected a space"},
	}
	for _, tc := range cases {
		got, err := ParseWWWAuthenticate(tc.in)
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.wantErr)
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got %#v\nwant %#v", tc.in, got, tc.want)
		}
	}
}

func TestBearerChallenge(t *testing.T) {
	chs, _ := ParseWWWAuthenticate(`Basic realm="r", BEARER scope="s"`)
	b, ok := BearerChallenge(chs)
	if !ok || b.Param("Scope") != "s" {
		t.Fatalf("%+v %v", b, ok)
	}
	if _, ok := BearerChallenge(chs[:1]); ok {
		t.Fatal("found a Bearer challenge in Basic alone")
	}
}

// FuzzParseWWWAuthenticate: any input ends, without a panic, and what parses is stable:
// the parameters of each challenge are found again in a re-rendered header.
func FuzzParseWWWAuthenticate(f *testing.F) {
	for _, s := range []string{`Bearer realm="x", scope="a b"`, `Basic realm="a, b", Bearer`, `Negotiate abc==`,
		`Bearer error_description="a \"q\""`, `,,`, `Bearer realm="`, "Bearer a=b, c=\"\\\x00\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		chs, err := ParseWWWAuthenticate(in)
		if err != nil {
			return
		}
		var parts []string
		for _, c := range chs {
			s := c.Scheme
			if c.Token68 != "" {
				s += " " + c.Token68
			}
			var ps []string
			for k, v := range c.Params {
				ps = append(ps, k+`="`+strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v)+`"`)
			}
			if len(ps) > 0 {
				s += " " + strings.Join(ps, ", ")
			}
			parts = append(parts, s)
		}
		again, err := ParseWWWAuthenticate(strings.Join(parts, ", "))
		if err != nil {
			t.Fatalf("re-rendered %q does not parse: %v", strings.Join(parts, ", "), err)
		}
		if len(again) != len(chs) {
			t.Fatalf("%q: %d challenges, re-rendered %d", in, len(chs), len(again))
		}
		for i := range chs {
			for k, v := range chs[i].Params {
				if again[i].Params[k] != v {
					t.Fatalf("%q: param %s %q became %q", in, k, v, again[i].Params[k])
				}
			}
		}
	})
}
