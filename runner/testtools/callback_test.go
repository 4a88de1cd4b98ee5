package testtools

import (
	"context"
	"testing"

	"github.com/muster-test/muster-test/runner/executor"
	"github.com/muster-test/muster-test/runner/result"
	"github.com/muster-test/muster-test/runner/scenario"
)

// loginSession is a SUT session whose login tools answer fixed texts.
type loginSession struct {
	tools  []string
	answer map[string]*result.Result
	called []string
}

func (s *loginSession) CallTool(_ context.Context, name string, _ map[string]any) (*result.Result, error) {
	s.called = append(s.called, name)
	if r, ok := s.answer[name]; ok {
		return r, nil
	}
	return result.Failure("tool '" + name + "' not found: tool not found"), nil
}

func (s *loginSession) ListTools(context.Context) ([]string, error) { return s.tools, nil }

type noEnv struct{}

func (noEnv) NewSession(context.Context, string, string) (executor.Session, error) { return nil, nil }
func (noEnv) Fault() error                                                         { return nil }

const challenge = "Authentication Required\n\nServer: alpha\n\nPlease sign in to connect to this server:\n\n" +
	"http://localhost:1234/authorize?client_id=x&state=abc\n\nAfter signing in, run this tool again to complete the connection."

func TestAuthorizationURLPicksTheLoginTool(t *testing.T) {
	cases := []struct {
		name     string
		sess     *loginSession
		wantTool string
		wantURL  string
	}{
		{"older muster: synthetic authenticate tool",
			&loginSession{tools: []string{"x_alpha_authenticate"}, answer: map[string]*result.Result{
				"x_alpha_authenticate": {Texts: []string{challenge}}}},
			"x_alpha_authenticate", "http://localhost:1234/authorize?client_id=x&state=abc"},
		{"core_auth_login when the SUT has it",
			&loginSession{tools: []string{"core_auth_login", "x_alpha_authenticate"}, answer: map[string]*result.Result{
				"core_auth_login": {Texts: []string{`{"auth_url":"http://localhost:9/oauth/proxy/start?state=s"}`}}}},
			"core_auth_login", "http://localhost:9/oauth/proxy/start?state=s"},
		{"already connected: no URL",
			&loginSession{tools: []string{"core_auth_login"}, answer: map[string]*result.Result{
				"core_auth_login": {Texts: []string{"Successfully connected to alpha!"}}}},
			"core_auth_login", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := executor.NewRun(&scenario.Scenario{Name: "s"}, noEnv{}, c.sess)
			_, u, err := (&World{}).authorizationURL(context.Background(), run, "alpha")
			if err != nil {
				t.Fatal(err)
			}
			if len(c.sess.called) != 1 || c.sess.called[0] != c.wantTool {
				t.Errorf("called %v, want %s", c.sess.called, c.wantTool)
			}
			if u != c.wantURL {
				t.Errorf("url %q, want %q", u, c.wantURL)
			}
		})
	}
}

func TestAuthorizationURLRefusedLogin(t *testing.T) {
	sess := &loginSession{tools: []string{"core_auth_login"}, answer: map[string]*result.Result{
		"core_auth_login": result.Failure("Server 'pub' does not require authentication")}}
	run := executor.NewRun(&scenario.Scenario{Name: "s"}, noEnv{}, sess)
	if _, _, err := (&World{}).authorizationURL(context.Background(), run, "pub"); err == nil {
		t.Fatal("a refused login must fail the tool")
	}
}

func TestDurationArg(t *testing.T) {
	cases := map[any]string{3600: "1h0m0s", 90.0: "1m30s", "15m": "15m0s", "120": "2m0s"}
	for in, want := range cases {
		d, err := durationArg(map[string]any{"d": in}, "d")
		if err != nil || d.String() != want {
			t.Errorf("%v: %v %v, want %s", in, d, err, want)
		}
	}
	if _, err := durationArg(map[string]any{"d": "soon"}, "d"); err == nil {
		t.Error("a word is not a duration")
	}
}
