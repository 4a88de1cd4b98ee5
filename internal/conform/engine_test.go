package conform

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/muster-test/muster-test/internal/runner"
	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/scenario"
)

// conformRun runs conform in this process against a server and returns the result, the
// exit code and what it printed.
func conformRun(t *testing.T, opts Options) (*Result, int, string) {
	t.Helper()
	var out bytes.Buffer
	opts.Stdout, opts.Stderr, opts.NoColor = &out, &out, true
	if opts.CheckTimeout == 0 {
		opts.CheckTimeout = 20 * time.Second
	}
	res, code := Run(context.Background(), opts)
	if res != nil {
		writeSummary(&out, res, false)
	}
	return res, code, out.String()
}

func verdicts(res *Result) map[string]Verdict {
	out := map[string]Verdict{}
	for _, o := range res.Outcomes {
		out[o.Check.ID] = o.Verdict
	}
	return out
}

// countingServer serves h and counts the requests it got.
func countingServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestBadInputExits2BeforeAnyCheck: a URL nothing listens on, a server that answers a web
// page, a baseline or --check naming no check, a config that does not load: a clear
// message and exit 2, and no check was sent.
func TestBadInputExits2BeforeAnyCheck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/mcp"
	ln.Close()
	html, htmlHits := countingServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<html><body>Welcome</body></html>")
	})
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		name string
		opts Options
		want string
	}{
		{"unreachable", Options{URL: closed}, "cannot be reached"},
		{"html", Options{URL: html.URL + "/mcp"}, "answered an MCP request with a web page"},
		{"baseline names no check", Options{URL: html.URL + "/mcp", Baseline: write("b.yaml", "- prm-resource-match\n")}, `no check "prm-resource-match" (did you mean prm-resource-matches?)`},
		{"baseline not a list", Options{URL: html.URL + "/mcp", Baseline: write("c.yaml", "a: b\n")}, "want a YAML list of check ids"},
		{"check names no check", Options{URL: html.URL + "/mcp", Checks: []string{"nope"}}, `no check "nope"`},
		{"neither target", Options{}, "give exactly one of --sut-url"},
		{"both targets", Options{URL: html.URL, ConfigFile: "x.yaml"}, "give exactly one of --sut-url"},
		{"not a URL", Options{URL: "127.0.0.1:1/mcp"}, "want the http(s) URL"},
		{"gateway and URL", Options{URL: html.URL, Gateway: "builtin"}, "give exactly one of --sut-url"},
		{"unknown gateway", Options{Gateway: "nginx"}, `--gateway "nginx": want builtin`},
		{"gateway-auth without a gateway", Options{URL: html.URL, GatewayAuth: true}, "--gateway-auth goes with --gateway"},
		{"config with steps", Options{ConfigFile: write("s.yaml", "sut: {url: http://127.0.0.1:1/mcp}\nsteps: []\n")}, "a conform config has no steps"},
		{"config without sut", Options{ConfigFile: write("n.yaml", "pre_configuration: {mock_oauth_servers: [{name: idp}]}\n")}, "no sut block"},
		{"config with a bad key", Options{ConfigFile: write("k.yaml", "sut:\n  comand: [x]\n")}, "k.yaml:2:3"},
		// The conform block is read apart; the lines after it keep their numbers.
		{"bad key after a conform block", Options{ConfigFile: write("h.yaml", "conform:\n  multi_scope_tool:\n    name: t\nsut:\n  comand: [x]\n")}, "h.yaml:5:3"},
		{"conform block with a bad key", Options{ConfigFile: write("j.yaml", "conform: {multi_scope_tol: {name: t}}\nsut: {url: http://127.0.0.1:1/mcp}\n")}, "field multi_scope_tol not found"},
		{"multi_scope_tool without a name", Options{ConfigFile: write("m.yaml", "sut: {url: http://127.0.0.1:1/mcp}\nconform:\n  multi_scope_tool: {arguments: {}}\n")}, "m.yaml:2: conform.multi_scope_tool needs a name"},
		{"html report under a file", Options{URL: html.URL + "/mcp", HTMLFile: filepath.Join(write("f", ""), "r.html")}, "--html " + filepath.Join(dir, "f")},
		{"junit is a directory", Options{URL: html.URL + "/mcp", JUnitFile: dir}, "--junit " + dir + ": is a directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := htmlHits.Load()
			res, code, out := conformRun(t, c.opts)
			if res != nil || code != 2 || !strings.Contains(out, c.want) {
				t.Fatalf("exit %d, result %v, output:\n%s\nwant exit 2 and %q", code, res != nil, out, c.want)
			}
			if got := htmlHits.Load() - before; got > 1 {
				t.Errorf("the server got %d requests; want the probe's one at most", got)
			}
		})
	}
}

// TestHangingCheckIsCutAndTheRestRun: a server whose metadata never answers makes the
// discovery check fail by its timeout; the other checks still run and get their verdicts.
func TestHangingCheckIsCutAndTheRestRun(t *testing.T) {
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/.well-known/") {
			<-r.Context().Done()
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer scope="x"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	start := time.Now()
	res, code, out := conformRun(t, Options{URL: srv.URL + "/mcp", CheckTimeout: time.Second,
		Checks: []string{"prm-discoverable", "unauthenticated-401", "challenge-scope"}})
	if res == nil || code != 1 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	v := verdicts(res)
	if v["prm-discoverable"] != Fail || v["unauthenticated-401"] != Pass || v["challenge-scope"] != Pass {
		t.Fatalf("verdicts %v:\n%s", v, out)
	}
	for _, o := range res.Outcomes {
		if o.Check.ID == "prm-discoverable" && !strings.Contains(o.Reason, "timed out") {
			t.Errorf("prm-discoverable: reason %q, want the timeout", o.Reason)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s: the hanging check was not cut at its 1s timeout", d)
	}
}

// TestInterruptStopsTheRun: a signal during the checks stops them; the run exits with the
// signal's code and the summary says it was interrupted instead of grading.
func TestInterruptStopsTheRun(t *testing.T) {
	arrived := make(chan struct{}, 8)
	srv, _ := countingServer(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/.well-known/") {
			select {
			case arrived <- struct{}{}:
			default:
			}
			<-r.Context().Done()
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	})
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var out bytes.Buffer
	done := make(chan int)
	go func() {
		done <- Main(ctx, Options{URL: srv.URL + "/mcp", Checks: []string{"prm-discoverable", "prm-json"},
			CheckTimeout: time.Minute, Stdout: &out, Stderr: &out, NoColor: true})
	}()
	select { // the checks hang on the metadata until the interrupt
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("no check asked for the metadata")
	}
	cancel(&runner.Interrupt{Signal: "SIGINT", Code: runner.ExitInterrupt})
	select {
	case code := <-done:
		if code != runner.ExitInterrupt || !strings.Contains(out.String(), "INTERRUPTED by SIGINT: 2 of 2 checks did not finish") {
			t.Fatalf("exit %d:\n%s", code, out.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the run did not stop after the interrupt")
	}
}

// TestNotApplicable: each check says why it cannot run against a target of the wrong kind
// or without the trusted IdP it needs, and runs where it can.
func TestNotApplicable(t *testing.T) {
	cat := mustLoad(t)
	server, minting, gateway := cat.Find("prm-json"), cat.Find("token-expired-refused"), cat.Find("gateway-state-opaque")
	cfg := &scenario.Scenario{PreConfiguration: &scenario.PreConfiguration{MockOAuthServers: []scenario.MockOAuthServer{{Config: idp.Config{Name: "idp"}}}}}
	var scopedTool hints
	if err := yaml.Unmarshal([]byte("multi_scope_tool: {name: admin_purge}"), &scopedTool); err != nil {
		t.Fatal(err)
	}
	other := &scenario.Scenario{PreConfiguration: &scenario.PreConfiguration{MockOAuthServers: []scenario.MockOAuthServer{{Config: idp.Config{Name: "main"}}}}}
	for _, c := range []struct {
		name  string
		t     *target
		check *Check
		want  string
	}{
		{"server check, URL", &target{url: "http://127.0.0.1:1/mcp"}, server, ""},
		{"minting check, URL", &target{url: "http://127.0.0.1:1/mcp"}, minting, "run with --config"},
		{"minting check, config", &target{config: cfg}, minting, ""},
		{"minting check, config without idp", &target{config: other}, minting, "no mock IdP named idp"},
		{"gateway check, URL", &target{url: "http://127.0.0.1:1/mcp"}, gateway, "run with --gateway"},
		{"gateway check, gateway", &target{gateway: "builtin"}, gateway, ""},
		{"server check, gateway", &target{gateway: "builtin"}, server, "a server check"},
		{"multi-scope check, config without the tool", &target{config: cfg}, cat.Find("insufficient-scope-all-scopes"), "conform.multi_scope_tool"},
		{"multi-scope check, config with it", &target{config: cfg, hints: scopedTool}, cat.Find("insufficient-scope-all-scopes"), ""},
		{"multi-scope check, URL", &target{url: "http://127.0.0.1:1/mcp", hints: scopedTool}, cat.Find("insufficient-scope-all-scopes"), "run with --config"},
		// Sessions are of the 2025 transports; offline_access and RFC 9207 of 2026-07-28.
		{"session check, 2026-07-28", &target{config: cfg, protocol: "2026-07-28"}, cat.Find("session-bound-to-user"), "2026-07-28 has no protocol-level sessions"},
		{"session check, 2025-11-25", &target{config: cfg, protocol: "2025-11-25"}, cat.Find("session-id-not-guessable"), ""},
		{"session check, negotiated", &target{config: cfg}, cat.Find("session-requires-token"), ""},
		{"gateway session check, 2026-07-28", &target{gateway: "builtin", protocol: "2026-07-28"}, cat.Find("gateway-session-id-not-credential"), "no protocol-level sessions"},
		{"offline_access, 2025-11-25", &target{url: "http://127.0.0.1:1/mcp", protocol: "2025-11-25"}, cat.Find("offline-access-not-advertised"), "not a requirement of MCP 2025-11-25"},
		{"offline_access, 2026-07-28", &target{url: "http://127.0.0.1:1/mcp", protocol: "2026-07-28"}, cat.Find("offline-access-not-advertised"), ""},
		{"iss parameter, 2025-06-18", &target{url: "http://127.0.0.1:1/mcp", protocol: "2025-06-18"}, cat.Find("as-iss-parameter"), "do not mention RFC 9207"},
	} {
		got := c.t.notApplicable(c.check)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestProtocolPinGradesByRevision: --protocol 2025-11-25 makes the checks of rules only
// 2026-07-28 states N/A, with the reason, and sends them nothing; unpinned they run.
func TestProtocolPinGradesByRevision(t *testing.T) {
	srv, hits := countingServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("WWW-Authenticate", `Bearer scope="offline_access"`)
		w.WriteHeader(http.StatusUnauthorized)
	})
	checks := []string{"offline-access-not-advertised"}
	res, _, out := conformRun(t, Options{URL: srv.URL + "/mcp", Checks: checks, Protocol: "2025-11-25"})
	if res == nil || res.Outcomes[0].Verdict != NA || !strings.Contains(res.Outcomes[0].Reason, "say nothing of offline_access") {
		t.Fatalf("pinned to 2025-11-25:\n%s", out)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("the server got %d requests; want the probe's one", n)
	}
	res, _, out = conformRun(t, Options{URL: srv.URL + "/mcp", Checks: checks})
	if res == nil || res.Outcomes[0].Verdict != Warn {
		t.Fatalf("unpinned, a challenge naming offline_access:\n%s", out)
	}
}
