package report

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/muster-test/muster-test/internal/event"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/report")

func consoleOutput(t *testing.T, opts ConsoleOptions, run event.Run) string {
	t.Helper()
	var b bytes.Buffer
	c := NewConsole(&b, opts)
	replay(c, run)
	if err := c.Err(); err != nil {
		t.Fatalf("console Err: %v", err)
	}
	return b.String()
}

// TestConsoleGolden compares whole outputs with files a reviewer can read; -update rewrites
// them. TestConsoleKeyLines pins the lines that matter, so a careless -update is caught.
func TestConsoleGolden(t *testing.T) {
	for _, tc := range []struct {
		file string
		opts ConsoleOptions
	}{
		{"console-plain.golden", ConsoleOptions{}},
		{"console-verbose.golden", ConsoleOptions{Verbose: true}},
		{"console-debug.golden", ConsoleOptions{Debug: true}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got := consoleOutput(t, tc.opts, sampleRun())
			path := filepath.Join("..", "..", "testdata", "report", tc.file)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}

func lineSet(out string) map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		m[l] = true
	}
	return m
}

func TestConsoleKeyLines(t *testing.T) {
	plain := consoleOutput(t, ConsoleOptions{}, sampleRun())
	verbose := consoleOutput(t, ConsoleOptions{Verbose: true}, sampleRun())
	debug := consoleOutput(t, ConsoleOptions{Debug: true}, sampleRun())
	for _, tc := range []struct {
		name, out, line string
		want            bool
	}{
		{"header", plain, "muster-test: 5 scenarios from ./scenarios against muster (/usr/local/bin/muster), 4 parallel workers", true},
		{"passed", plain, "PASS      oauth-login-works (1.23s)", true},
		{"failed", plain, "FAIL      token-refresh (2.5s)", true},
		{"failed step", plain, "    step:        read-secret (line 17), tool x_protected_get_secret, user bob, 2 attempts", true},
		{"expectation's own place", plain, "    at:          scenarios/refresh.yaml:19:42", true},
		{"excerpt line", plain, "                   19 |     expected: {success: true, contains: [top-secret]}", true},
		{"excerpt caret under the item", plain, "                      |                                          ^^^^^^^^^^", true},
		{"expectation", plain, "    expectation: contains[0]", true},
		{"expected", plain, `    expected:    "top-secret"`, true},
		{"got first line", plain, "    got:         {", true},
		{"got indented", plain, `                   "value": "nothing here"`, true},
		{"a failed step's message does not repeat the block", plain, `    message:     step "read-secret" (tool x_protected_get_secret): contains[0]: "top-secret" not in the answer`, false},
		{"scenario error equal to step message not repeated", plain, `    error:       step "read-secret" (tool x_protected_get_secret): contains[0]: "top-secret" not in the answer`, false},
		{"errored", plain, "ERROR     sut-crash (3s)", true},
		{"errored step", plain, "    step:    list-tools (line 5), tool core_service_list", true},
		{"errored scenario error", plain, "    error:   SUT exited with status 2", true},
		{"sut log title", plain, "    SUT log (tail):", true},
		{"sut log line", plain, "      | panic: nil map", true},
		{"sut log without ANSI", plain, "      | goroutine 1", true},
		{"skipped", plain, "SKIP      not-ready-yet (0s)", true},
		{"skip reason", plain, "    reason: skip: true", true},
		{"cancelled", plain, "CANCELLED slow one (700ms)", true},
		{"cancel reason", plain, "    reason: cancelled: --fail-fast after token-refresh failed", true},
		{"counts", plain, "  5 scenarios: 1 passed, 1 failed, 1 error, 1 skipped, 1 cancelled", true},
		{"duration", plain, "  duration: 8s", true},
		{"not passed, with outcomes", plain, "  not passed: token-refresh (FAILED), sut-crash (ERROR), slow one (CANCELLED)", true},
		{"one rerun command for all, names quoted", plain, "    muster-test --scenario token-refresh --scenario sut-crash --scenario 'slow one'", true},
		{"verdict", plain, "FAILED", true},
		{"step-cleanup failure reported without verbose", plain, "    FAIL      - core_mcpserver_delete (4ms) [step-cleanup]", true},
		{"no passed steps without verbose", plain, "    PASS      get-info test_get_oauth_server_info (12ms)", false},
		{"verbose step", verbose, "    PASS      get-info test_get_oauth_server_info (12ms)", true},
		{"verbose attempts and user", verbose, "    PASS      call-tool x_protected_get_secret (340ms) 3 attempts as alice", true},
		{"verbose failed step and message", verbose, `              step "read-secret" (tool x_protected_get_secret): contains[0]: "top-secret" not in the answer`, true},
		{"no steps not reached without verbose", plain, "    NOT RUN   read-again x_protected_get_secret", false},
		{"verbose step not reached", verbose, "    NOT RUN   read-again x_protected_get_secret", true},
		{"verbose why not reached", verbose, `              not run: step "read-secret" FAILED`, true},
		{"verbose cleanup phase", verbose, "    PASS      logout test_logout (5ms) [cleanup]", true},
		{"verbose answer of a passed step", verbose, "              answer: {", true},
		{"verbose answer cut to a few lines", verbose, `                  "counters": {`, true},
		{"verbose answer: what was left out", verbose, "                (3 more lines)", true},
		{"no answer without verbose", plain, "              answer: {", false},
		{"no raw trace on the console", debug, `<- result {"value":"nothing here"}`, false},
		{"no requests without debug", verbose, "              browser -> idp:mock-idp  GET /authorize?client_id=muster&state=eyJz... 302 3.0ms", false},
		{"debug: probing while the SUT started in one line", debug, "    start-up: 2 requests of the runner while the SUT started (1 unanswered: not listening yet)", true},
		{"debug: the SUT's own start-up requests", debug, "      SUT -> idp:mock-idp  GET /.well-known/openid-configuration 200 1.0ms", true},
		{"debug: a step's requests under it", debug, "              browser -> idp:mock-idp  GET /authorize?client_id=muster&state=eyJz... 302 3.0ms", true},
		{"debug: grant and subject", debug, "              SUT -> idp:mock-idp  POST /token grant=authorization_code sub=bob 200 4.0ms", true},
		{"debug: bearer shortened, refusal", debug, "              SUT -> mcp:protected  POST /mcp tools/call get_secret (Bearer ory_at_Zx7…) 401 2.0ms", true},
		{"debug: teardown in one line", debug, "    teardown: 1 session closed", true},
		{"debug full log", debug, "    SUT log:", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := lineSet(tc.out)[tc.line]; got != tc.want {
				t.Errorf("line %q present = %v, want %v; output:\n%s", tc.line, got, tc.want, tc.out)
			}
		})
	}
}

// TestConsoleCutsRequestLines: a request line never passes the width, and says it was cut.
func TestConsoleCutsRequestLines(t *testing.T) {
	out := consoleOutput(t, ConsoleOptions{Debug: true, Width: 60}, sampleRun())
	var cut int
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, " -> ") {
			if n := utf8.RuneCountInString(l); n > 60 {
				t.Errorf("line of %d runes: %q", n, l)
			}
			if strings.HasSuffix(l, "…") {
				cut++
			}
		}
	}
	if cut == 0 {
		t.Errorf("no request line was cut at width 60:\n%s", out)
	}
}

// The re-run command keeps the arguments that say where the scenarios are and which SUT
// they ran against, quoted for a shell; a passed or skipped scenario is not in it.
func TestConsoleRerunKeepsConfigAndSUT(t *testing.T) {
	opts := ConsoleOptions{Rerun: []string{"--config", "my scenarios", "--sut-command", "./srv --port {{ .sut.port }}"}}
	out := consoleOutput(t, opts, sampleRun())
	want := `    muster-test --config 'my scenarios' --sut-command './srv --port {{ .sut.port }}' --scenario token-refresh --scenario sut-crash --scenario 'slow one'`
	if !lineSet(out)[want] {
		t.Errorf("missing line %q in:\n%s", want, out)
	}
	if n := strings.Count(out, "muster-test --"); n != 1 {
		t.Errorf("%d re-run commands, want 1:\n%s", n, out)
	}
}

func TestConsoleHeaderAndVerdict(t *testing.T) {
	run := sampleRun()
	run.Info.Parallel = 1
	run.Info.Interrupted = "interrupted by SIGINT"
	run.Results = run.Results[:1]
	run.Summary = event.Summary{}
	out := consoleOutput(t, ConsoleOptions{}, run)
	lines := lineSet(out)
	for _, want := range []string{
		"muster-test: 5 scenarios from ./scenarios against muster (/usr/local/bin/muster), 1 worker",
		// the summary is recounted when the executor left it empty
		"  1 scenario: 1 passed, 0 failed, 0 error, 0 skipped, 0 cancelled",
		"  stopped early: interrupted by SIGINT",
		"PASSED",
	} {
		if !lines[want] {
			t.Errorf("missing line %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "re-run") {
		t.Errorf("re-run list for a passing run:\n%s", out)
	}
}

func TestConsoleColor(t *testing.T) {
	for _, tc := range []struct {
		color bool
		want  bool
	}{{true, true}, {false, false}} {
		t.Run(fmt.Sprint("color=", tc.color), func(t *testing.T) {
			out := consoleOutput(t, ConsoleOptions{Color: tc.color, Verbose: true}, sampleRun())
			if got := strings.Contains(out, "\x1b["); got != tc.want {
				t.Errorf("ANSI escapes present = %v, want %v:\n%q", got, tc.want, out)
			}
			if tc.color && !strings.Contains(out, "\x1b[31;1mFAIL\x1b[") {
				t.Errorf("FAIL mark not red bold:\n%q", out)
			}
		})
	}
}

func TestUseColor(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	for _, tc := range []struct {
		name    string
		w       any
		flag    bool
		noColor string
	}{
		{"buffer is not a terminal", &bytes.Buffer{}, false, ""},
		{"regular file is not a terminal", f, false, ""},
		{"flag", os.Stdout, true, ""},
		{"NO_COLOR", os.Stdout, false, "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("NO_COLOR", tc.noColor)
			w := tc.w.(interface{ Write([]byte) (int, error) })
			if UseColor(w, tc.flag) {
				t.Errorf("UseColor = true, want false")
			}
		})
	}
}

// yieldingWriter gives other goroutines a chance between writes, so a reporter that wrote a
// block in several calls without holding a lock would interleave.
type yieldingWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *yieldingWriter) Write(p []byte) (int, error) {
	for len(p) > 0 {
		n := min(len(p), 7)
		w.mu.Lock()
		w.b.Write(p[:n])
		w.mu.Unlock()
		runtime.Gosched()
		p = p[n:]
	}
	return 0, nil
}

func TestConsoleConcurrentBlocksDoNotInterleave(t *testing.T) {
	const n = 20
	w := &yieldingWriter{}
	c := NewConsole(w, ConsoleOptions{Verbose: true})
	base := sampleRun().Results[1] // failed: a block of many lines
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		r := base
		r.Name = fmt.Sprintf("scn-%02d", i)
		r.SUTLog = strings.Repeat(fmt.Sprintf("log of scn-%02d\n", i), 5)
		r.Status = event.Error // shows the SUT log too
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			c.ScenarioFinished(r)
		}()
	}
	close(start)
	wg.Wait()

	// Every block starts with its mark line and runs until the next mark line; each must
	// hold exactly its own scenario's log lines and its whole length.
	lines := strings.Split(strings.TrimRight(w.b.String(), "\n"), "\n")
	blockLen := len(strings.Split(strings.TrimRight(c.block(&base), "\n"), "\n"))
	seen := map[string]bool{}
	for i := 0; i < len(lines); {
		head := lines[i]
		if !strings.HasPrefix(head, "ERROR     scn-") {
			t.Fatalf("line %d: %q is not a block start; output:\n%s", i, head, w.b.String())
		}
		name := strings.Fields(head)[1]
		seen[name] = true
		j := i + 1
		for j < len(lines) && !strings.HasPrefix(lines[j], "ERROR     ") {
			if strings.Contains(lines[j], "log of scn-") && !strings.Contains(lines[j], "log of "+name) {
				t.Errorf("block %s holds %q", name, lines[j])
			}
			j++
		}
		logLines := 0
		for _, l := range lines[i:j] {
			if strings.Contains(l, "log of "+name) {
				logLines++
			}
		}
		if logLines != 5 {
			t.Errorf("block %s has %d of its 5 log lines contiguous", name, logLines)
		}
		if j-i < blockLen {
			t.Errorf("block %s is %d lines, want at least %d", name, j-i, blockLen)
		}
		i = j
	}
	if len(seen) != n {
		t.Errorf("saw %d blocks, want %d", len(seen), n)
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestConsoleWriteErrorIsKept(t *testing.T) {
	c := NewConsole(failingWriter{}, ConsoleOptions{})
	replay(c, sampleRun())
	if err := c.Err(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Err = %v, want the write error", err)
	}
}

func TestConsoleLongResponseIsTrimmed(t *testing.T) {
	run := sampleRun()
	r := run.Results[1]
	var lines []string
	for i := range 100 {
		lines = append(lines, fmt.Sprintf("line %d", i))
	}
	r.Steps[1].Response = strings.Join(lines, "\n")
	r.Duration = time.Second
	out := NewConsole(nil, ConsoleOptions{}).block(&r)
	set := lineSet(out)
	for line, want := range map[string]bool{
		"    got:         line 0":            true,
		"                 line 19":           true,
		"                 line 20":           false,
		"                 … (80 more lines)": true,
	} {
		if set[line] != want {
			t.Errorf("line %q present = %v, want %v:\n%s", line, set[line], want, out)
		}
	}
}
