package features

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cucumber/godog"

	"github.com/muster-test/muster-test/internal/testbin"
)

// world is one feature scenario's state: a work directory, a private TMPDIR for the run
// (so "nothing left behind" can be checked), and the last command's outcome.
type world struct {
	dir, tmp       string
	cmd            *exec.Cmd
	stdout, stderr lockedBuffer
	exitCode       int
	done           chan struct{}
	heard          time.Time // when muster-test last said it heard a signal
}

// lockedBuffer is a bytes.Buffer that a running command writes while a step reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}

func (l *lockedBuffer) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Reset()
}

func initScenario(sc *godog.ScenarioContext) {
	w := &world{}
	sc.Before(func(ctx context.Context, _ *godog.Scenario) (context.Context, error) {
		var err error
		if w.dir, err = os.MkdirTemp("", "muster-test-feature-"); err != nil {
			return ctx, err
		}
		w.tmp = filepath.Join(w.dir, ".tmp")
		return ctx, os.Mkdir(w.tmp, 0o755)
	})
	sc.After(func(ctx context.Context, _ *godog.Scenario, err error) (context.Context, error) {
		// The rule every feature serves: whatever a scenario did to muster-test short of
		// SIGKILL, nothing of its runs remains, checked here even where it is not a step.
		var left error
		if err == nil && w.done != nil {
			left = w.nothingLeft()
		}
		if w.cmd != nil && w.cmd.Process != nil && w.done != nil {
			select {
			case <-w.done:
			default:
				_ = syscall.Kill(w.cmd.Process.Pid, syscall.SIGKILL)
				<-w.done
			}
		}
		// A failed scenario may leave processes of the run (a frozen SUT): they carry
		// this world's TMPDIR on their command line, so they are ours.
		for _, pid := range w.sutPIDs() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		return ctx, errors.Join(left, os.RemoveAll(w.dir))
	})
	sc.Step(`^a scenario file "([^"]*)":$`, w.writeFile)
	sc.Step(`^a file "([^"]*)":$`, w.writeFile)
	sc.Step(`^I run muster-test with "([^"]*)"$`, w.run)
	sc.Step(`^I start muster-test with "([^"]*)"$`, w.start)
	sc.Step(`^I wait until a SUT process of the run is running$`, func() error { return w.waitForSUTs(1) })
	sc.Step(`^I wait until (\d+) SUT processes of the run are running at once$`, w.waitForSUTs)
	sc.Step(`^I kill the SUT process of the run$`, w.killSUT)
	sc.Step(`^I wait until the SUT of the run has logged "(.*)"$`, w.waitForSUTLog)
	sc.Step(`^an executable file "([^"]*)":$`, w.writeExecutable)
	sc.Step(`^I send (SIGINT|SIGTERM|SIGKILL) to muster-test$`, w.signal)
	sc.Step(`^I run muster-test under "timeout ([^"]*)" with "([^"]*)"$`, w.runUnderTimeout)
	sc.Step(`^I send (SIGINT|SIGTERM) to muster-test every (\d+) ms until it exits$`, w.signalUntilExit)
	sc.Step(`^muster-test has said it is stopping$`, w.waitStopping)
	sc.Step(`^(\d+) temp dirs? of the run (?:is|are) left behind$`, w.tempDirsLeft)
	sc.Step(`^muster-test exits with code (\d+)$`, w.waitExit)
	sc.Step(`^the exit code is (\d+)$`, w.exitCodeIs)
	// Quoted arguments may contain \" for a literal quote.
	sc.Step(`^the output contains "(.*)"$`, unquoted(w.outputContains))
	sc.Step(`^the output does not contain "(.*)"$`, unquoted(w.outputLacks))
	sc.Step(`^the output matches "(.*)"$`, unquoted(w.outputMatches))
	sc.Step(`^the error output contains "(.*)"$`, unquoted(w.stderrContains))
	sc.Step(`^the error output matches "(.*)"$`, unquoted(w.stderrMatches))
	sc.Step(`^the error output does not contain "(.*)"$`, unquoted(w.stderrLacks))
	sc.Step(`^"([^"]*)" is a JUnit report with (\d+) tests? and (\d+) failures?$`, w.junitReport)
	sc.Step(`^the directory "([^"]*)" holds one JSON report with (\d+) scenarios?$`, w.jsonReport)
	sc.Step(`^nothing of the run is left behind$`, w.nothingLeft)
	w.inputSteps(sc)
}

func unquoted(f func(string) error) func(string) error {
	return func(s string) error { return f(strings.ReplaceAll(s, `\"`, `"`)) }
}

func (w *world) writeFile(name string, body *godog.DocString) error {
	p := filepath.Join(w.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(body.Content), 0o644)
}

func (w *world) command(args string) error {
	return w.commandUnder(nil, args)
}

// commandUnder prepares muster-test with args, run by the program and arguments in wrapper
// when there are any.
func (w *world) commandUnder(wrapper []string, args string) error {
	words, err := splitArgs(args)
	if err != nil {
		return err
	}
	argv := append(append(wrapper, binary), words...)
	w.cmd = exec.Command(argv[0], argv[1:]...)
	w.cmd.Dir = w.dir
	w.cmd.Env = append(os.Environ(), "NO_COLOR=1", "TMPDIR="+w.tmp)
	w.stdout.Reset()
	w.stderr.Reset()
	w.cmd.Stdout, w.cmd.Stderr = &w.stdout, &w.stderr
	return nil
}

// splitArgs splits on spaces, keeping single-quoted parts together; enough for features.
func splitArgs(s string) ([]string, error) {
	var out []string
	for s = strings.TrimSpace(s); s != ""; s = strings.TrimSpace(s) {
		if s[0] == '\'' {
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unclosed quote in %q", s)
			}
			out, s = append(out, s[1:end+1]), s[end+2:]
			continue
		}
		word, rest, _ := strings.Cut(s, " ")
		out, s = append(out, word), rest
	}
	return out, nil
}

func (w *world) run(args string) error {
	if err := w.start(args); err != nil {
		return err
	}
	return w.wait(3 * time.Minute)
}

func (w *world) start(args string) error {
	if err := w.command(args); err != nil {
		return err
	}
	return w.startCommand()
}

// runUnderTimeout runs muster-test under GNU timeout, which on expiry signals muster-test
// and then the whole process group: muster-test gets the signal twice within milliseconds.
func (w *world) runUnderTimeout(timeoutArgs, args string) error {
	targs, err := splitArgs(timeoutArgs)
	if err != nil {
		return err
	}
	if err := w.commandUnder(append([]string{"timeout"}, targs...), args); err != nil {
		return err
	}
	if err := w.startCommand(); err != nil {
		return err
	}
	return w.wait(3 * time.Minute)
}

func (w *world) startCommand() error {
	if err := w.cmd.Start(); err != nil {
		return err
	}
	w.done = make(chan struct{})
	go func() {
		err := w.cmd.Wait()
		w.exitCode = 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			w.exitCode = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				w.exitCode = 128 + int(ws.Signal())
			}
		}
		close(w.done)
	}()
	return nil
}

func (w *world) wait(limit time.Duration) error {
	select {
	case <-w.done:
		return nil
	case <-time.After(limit):
		return fmt.Errorf("muster-test still running after %s\nstdout:\n%s\nstderr:\n%s", limit, w.stdout.String(), w.stderr.String())
	}
}

// sutPIDs lists the processes of the run: those whose command line mentions this world's
// TMPDIR (every SUT and stdio mock of the run is started with a config path below it), and
// those that carry the runner's process tag (a spare that waits for a SUT start shows no
// path).
func (w *world) sutPIDs() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, []byte(w.tmp)) {
			pids = append(pids, pid)
		}
	}
	if w.cmd != nil && w.cmd.Process != nil {
		for _, pid := range testbin.Tagged(w.cmd.Process.Pid) {
			if !slices.Contains(pids, pid) {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

func (w *world) writeExecutable(name string, body *godog.DocString) error {
	if err := w.writeFile(name, body); err != nil {
		return err
	}
	return os.Chmod(filepath.Join(w.dir, name), 0o755)
}

// sutProcesses are the SUT processes of the run (not the stdio mocks they start).
func (w *world) sutProcesses() []int {
	var out []int
	for _, pid := range w.sutPIDs() {
		b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if bytes.Contains(b, []byte("serve")) {
			out = append(out, pid)
		}
	}
	return out
}

// waitForSUTLog polls the SUT logs the runner writes into the run's temp dirs.
func (w *world) waitForSUTLog(text string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		logs, _ := filepath.Glob(filepath.Join(w.tmp, "*", "sut.log"))
		for _, l := range logs {
			if b, err := os.ReadFile(l); err == nil && bytes.Contains(b, []byte(text)) {
				return nil
			}
		}
		select {
		case <-w.done:
			return fmt.Errorf("muster-test exited before the SUT logged %q\n%s", text, w.stdout.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return fmt.Errorf("the SUT did not log %q within 60s", text)
}

func (w *world) killSUT() error {
	pids := w.sutProcesses()
	if len(pids) != 1 {
		return fmt.Errorf("want one SUT process, found %v", pids)
	}
	return syscall.Kill(pids[0], syscall.SIGKILL)
}

func (w *world) waitForSUTs(n int) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if len(w.sutProcesses()) >= n {
			return nil
		}
		select {
		case <-w.done:
			return fmt.Errorf("muster-test exited (%d) before a SUT ran\n%s%s", w.exitCode, w.stdout.String(), w.stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return fmt.Errorf("%d SUT processes did not run at once within 60s", n)
}

var signals = map[string]syscall.Signal{"SIGINT": syscall.SIGINT, "SIGTERM": syscall.SIGTERM, "SIGKILL": syscall.SIGKILL}

func (w *world) signal(name string) error {
	return w.cmd.Process.Signal(signals[name])
}

// signalUntilExit repeats a signal until muster-test has exited: the run decides which of
// them is the first outside the window in which signals count as one, so the test needs
// no guess of when that window closes.
func (w *world) signalUntilExit(name string, ms int) error {
	tick := time.NewTicker(time.Duration(ms) * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case <-w.done:
			return nil
		case <-deadline:
			return fmt.Errorf("muster-test did not exit within 30s of repeated %s:\n%s", name, w.stderr.String())
		case <-tick.C:
			if err := w.signal(name); err != nil && !errors.Is(err, os.ErrProcessDone) {
				return err
			}
		}
	}
}

func (w *world) waitStopping() error {
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(w.stderr.String(), "stopping") {
		if time.Now().After(deadline) {
			return fmt.Errorf("muster-test did not say it is stopping:\n%s", w.stderr.String())
		}
		select {
		case <-w.done:
			return fmt.Errorf("muster-test exited before it said it is stopping:\n%s", w.stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	w.heard = time.Now()
	return nil
}

func (w *world) tempDirsLeft(n int) error {
	dirs, _ := filepath.Glob(filepath.Join(w.tmp, "muster-test-*"))
	if len(dirs) != n {
		return fmt.Errorf("%d temp dirs left (%v), want %d", len(dirs), dirs, n)
	}
	return nil
}

func (w *world) waitExit(code int) error {
	if err := w.wait(30 * time.Second); err != nil {
		return err
	}
	return w.exitCodeIs(code)
}

func (w *world) exitCodeIs(code int) error {
	if w.exitCode != code {
		return fmt.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", w.exitCode, code, w.stdout.String(), w.stderr.String())
	}
	return nil
}

func (w *world) outputContains(s string) error {
	if !strings.Contains(w.stdout.String(), s) {
		return fmt.Errorf("stdout lacks %q:\n%s\nstderr:\n%s", s, w.stdout.String(), w.stderr.String())
	}
	return nil
}

func (w *world) outputLacks(s string) error {
	if strings.Contains(w.stdout.String(), s) {
		return fmt.Errorf("stdout has %q:\n%s\nstderr:\n%s", s, w.stdout.String(), w.stderr.String())
	}
	return nil
}

func (w *world) outputMatches(re string) error {
	return matches(re, w.stdout.String(), "stdout")
}

func (w *world) stderrContains(s string) error {
	if !strings.Contains(w.stderr.String(), s) {
		return fmt.Errorf("stderr lacks %q:\n%s", s, w.stderr.String())
	}
	return nil
}

func (w *world) stderrLacks(s string) error {
	if strings.Contains(w.stderr.String(), s) {
		return fmt.Errorf("stderr has %q:\n%s", s, w.stderr.String())
	}
	return nil
}

func (w *world) stderrMatches(re string) error {
	return matches(re, w.stderr.String(), "stderr")
}

func matches(re, s, what string) error {
	ok, err := regexp.MatchString(re, s)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s does not match %q:\n%s", what, re, s)
	}
	return nil
}

func (w *world) junitReport(name string, tests, failures int) error {
	b, err := os.ReadFile(filepath.Join(w.dir, name))
	if err != nil {
		return err
	}
	var doc struct {
		XMLName xml.Name `xml:"testsuites"`
		Suites  []struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
			Cases    []struct {
				Name string `xml:"name,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("%s is not valid XML: %w", name, err)
	}
	if len(doc.Suites) != 1 || doc.Suites[0].Tests != tests || doc.Suites[0].Failures != failures || len(doc.Suites[0].Cases) != tests {
		return fmt.Errorf("%s: %+v, want %d tests and %d failures", name, doc.Suites, tests, failures)
	}
	return nil
}

func (w *world) jsonReport(dir string, scenarios int) error {
	files, _ := filepath.Glob(filepath.Join(w.dir, dir, "muster-test-report-*.json"))
	if len(files) != 1 {
		return fmt.Errorf("want one report in %s, found %v", dir, files)
	}
	if !regexp.MustCompile(`muster-test-report-\d{8}-\d{6}\.json$`).MatchString(files[0]) {
		return fmt.Errorf("report name %s", files[0])
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		return err
	}
	var doc struct {
		Total   *int              `json:"total_scenarios"`
		Results []json.RawMessage `json:"scenario_results"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("report is not JSON: %w", err)
	}
	if doc.Total == nil || *doc.Total != scenarios || len(doc.Results) != scenarios {
		return fmt.Errorf("report has total %v and %d results, want %d", doc.Total, len(doc.Results), scenarios)
	}
	return nil
}

// nothingLeft asserts that no process of the run survives and the run's temp dirs are gone.
func (w *world) nothingLeft() error {
	if err := w.wait(30 * time.Second); err != nil {
		return err
	}
	if pids := w.sutPIDs(); len(pids) > 0 {
		return fmt.Errorf("processes of the run still alive: %v", pids)
	}
	left, err := os.ReadDir(w.tmp)
	if err != nil {
		return err
	}
	if len(left) > 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		return fmt.Errorf("temp entries left behind: %v", names)
	}
	return nil
}
