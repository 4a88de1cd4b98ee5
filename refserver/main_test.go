package refserver_test

import (
	"bufio"
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/muster-test/muster-test/refserver"
	"github.com/muster-test/muster-test/refserver/mountidp"
)

// mainEnv makes the test binary run Main, so that the process tests see real signals.
const mainEnv = "REFSERVER_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(mainEnv) == "1" {
		os.Exit(mountidp.Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestUsageErrors: bad command lines exit 2 before anything listens, --help exits 0 with the
// usage on stdout (it was asked for), a server that cannot start exits 1.
func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	badPolicy := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(badPolicy, []byte("tenants: {t: [echo]}\nunknown_key: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		args []string
		code int
		says string
	}{
		"no command":           {nil, 2, "usage:"},
		"unknown fault":        {[]string{"serve", "--with-as", "--fault", "bogus"}, 2, `unknown fault "bogus"`},
		"no authority":         {[]string{"serve"}, 2, "exactly one of --issuer URL and --with-as"},
		"two authorities":      {[]string{"serve", "--with-as", "--issuer", "http://127.0.0.1:1"}, 2, "exactly one"},
		"jwks and introspect":  {[]string{"serve", "--with-as", "--jwks", "--introspect"}, 2, "exclude each other"},
		"client with as":       {[]string{"serve", "--with-as", "--client-id", "x"}, 2, "are for --issuer"},
		"alg with issuer":      {[]string{"serve", "--issuer", "http://127.0.0.1:1", "--signing-alg", "RS256"}, 2, "--signing-alg is for --with-as"},
		"unknown alg":          {[]string{"serve", "--with-as", "--signing-alg", "HS256"}, 2, `signing algorithm "HS256"`},
		"negative ttl":         {[]string{"serve", "--with-as", "--context-ttl", "-1s"}, 2, "--context-ttl -1s"},
		"unknown context":      {[]string{"serve", "--with-as", "--context", "ldap"}, 2, `--context "ldap": want token or userinfo`},
		"userinfo with as":     {[]string{"serve", "--with-as", "--context", "userinfo"}, 2, "--context userinfo is for --issuer"},
		"unknown clock":        {[]string{"serve", "--issuer", "http://127.0.0.1:1", "--clock", "idp"}, 2, `--clock "idp": want local or issuer`},
		"issuer clock with as": {[]string{"serve", "--with-as", "--clock", "issuer"}, 2, "--clock issuer is for --issuer"},
		"zero upstream wait":   {[]string{"serve", "--with-as", "--upstream-wait", "0s"}, 2, "--upstream-wait 0s"},
		"dead upstream":        {[]string{"serve", "--with-as", "--upstream-issuer", "http://127.0.0.1:1"}, 1, "upstream: issuer metadata"},
		"extra argument":       {[]string{"serve", "--with-as", "extra"}, 2, "unexpected arguments: extra"},
		"missing config":       {[]string{"serve", "--with-as", "--config", filepath.Join(dir, "nope.yaml")}, 2, "no such file"},
		"bad config":           {[]string{"serve", "--with-as", "--config", badPolicy}, 2, "unknown_key"},
		"dead issuer":          {[]string{"serve", "--issuer", "http://127.0.0.1:1"}, 1, "issuer metadata"},
		"CA without TLS":       {[]string{"serve", "--with-as", "--write-ca", filepath.Join(dir, "ca.pem")}, 2, "--write-ca needs --tls-self-signed"},
		"CA unwritable":        {[]string{"serve", "--with-as", "--tls-self-signed", "--write-ca", filepath.Join(dir, "no", "ca.pem")}, 1, "write the CA"},
	}
	for name, c := range cases {
		var out, errOut bytes.Buffer
		code := mountidp.Main(c.args, &out, &errOut)
		if code != c.code || !strings.Contains(errOut.String(), c.says) {
			t.Errorf("%s: exit %d, want %d; stderr %q should say %q", name, code, c.code, errOut.String(), c.says)
		}
		if out.Len() > 0 {
			t.Errorf("%s: printed %q on stdout", name, out.String())
		}
	}
	// A binary that mounts no IdP (muster-test-child) refuses --with-as as a usage error.
	var out, errOut bytes.Buffer
	if code := refserver.Main([]string{"serve", "--with-as"}, &out, &errOut, nil); code != 2 ||
		!strings.Contains(errOut.String(), "--with-as: this binary mounts no IdP") {
		t.Errorf("--with-as without a mount: exit %d, stderr %q", code, errOut.String())
	}
	out.Reset()
	errOut.Reset()
	if code := mountidp.Main([]string{"serve", "--help"}, &out, &errOut); code != 0 || errOut.Len() > 0 {
		t.Errorf("--help: exit %d, stdout %q, stderr %q", code, out.String(), errOut.String())
	}
	for _, f := range refserver.AllFaults {
		if !strings.Contains(out.String(), string(f)) {
			t.Errorf("--help does not list the fault %s", f)
		}
	}
	if !strings.Contains(out.String(), "-context-ttl duration") || !strings.Contains(out.String(), "(default 30s)") {
		t.Errorf("--help does not describe --context-ttl with its default:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "-clock string") || !strings.Contains(out.String(), "Date header") {
		t.Errorf("--help does not describe --clock and where the issuer's clock is read:\n%s", out.String())
	}
}

// TestProcess runs the command as its own process: the readiness line comes once the port
// accepts requests, and SIGTERM or SIGINT stop it with exit 0.
func TestProcess(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			audit := filepath.Join(t.TempDir(), "audit.jsonl")
			cmd := exec.Command(os.Args[0], "serve", "--with-as", "--port", "0", "--audit", audit)
			cmd.Env = append(os.Environ(), mainEnv+"=1")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var waitOnce sync.Once
			var waitErr error
			wait := func() error { waitOnce.Do(func() { waitErr = cmd.Wait() }); return waitErr }
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = wait() })

			url := readinessURL(t, stdout)
			resp, err := http.Post(url, "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("unauthenticated call: %d", resp.StatusCode)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("exit after %s: %v; stderr:\n%s", sig, err, stderr.String())
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("still running 10s after %s", sig)
			}
			if b, err := os.ReadFile(audit); err != nil || !strings.Contains(string(b), `"decision":"deny"`) {
				t.Errorf("audit after exit: %q %v", b, err)
			}
		})
	}
}

// readinessURL reads stdout until the readiness line and returns its URL.
func readinessURL(t *testing.T, stdout interface{ Read([]byte) (int, error) }) string {
	t.Helper()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("stdout closed before the readiness line")
			}
			if url, found := strings.CutPrefix(line, "reference-server listening on "); found {
				go func() {
					for range lines {
					}
				}()
				return url
			}
		case <-deadline:
			t.Fatal("no readiness line within 10s")
		}
	}
}
