package htmlreport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/muster-test/muster-test/internal/testbin"
)

// artifactsEnv names the directory where the browser test keeps its screenshot, for a CI
// job to keep as an artifact; MUSTER_TEST_ARTIFACTS=$PWD/docs, from the repository root,
// regenerates the README's (a relative path is taken from this package's directory).
const artifactsEnv = "MUSTER_TEST_ARTIFACTS"

// screenshotName is the file the browser test writes into the artifacts directory.
const screenshotName = "html-report.png"

// chromium finds Debian's chromium (or Chrome); "" when there is none.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserLog keeps what the page did that the test forbids: console errors, exceptions,
// and requests for anything but the page.
type browserLog struct {
	mu       sync.Mutex
	page     string
	errors   []string
	requests []string
}

func (b *browserLog) listen(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range e.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			b.errors = append(b.errors, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		b.errors = append(b.errors, fmt.Sprintf("exception: %s line %d", e.ExceptionDetails.Text, e.ExceptionDetails.LineNumber))
	case *log.EventEntryAdded:
		if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
			b.errors = append(b.errors, fmt.Sprintf("browser log %s: %s %s", e.Entry.Level, e.Entry.Text, e.Entry.URL))
		}
	case *network.EventRequestWillBeSent:
		if e.Request.URL != b.page {
			b.requests = append(b.requests, e.Request.Method+" "+e.Request.URL)
		}
	}
}

// A real run with a failing scenario, its report opened in headless Chromium: the page
// loads with no console error and no request but its own, every scenario has its
// diagram, the failing step is highlighted, the verdict filter works; the screenshot
// is kept.
func TestReportInBrowser(t *testing.T) {
	exe := chromium()
	if exe == "" {
		t.Skip("skipped: no chromium on PATH (Debian: apt-get install chromium; .ci/run installs it)")
	}
	report := realRunReport(t)

	// The page comes from a server on loopback that serves it and nothing else: any
	// other request would show in its log as well as in the browser's.
	var served []string
	var servedMu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		servedMu.Lock()
		served = append(served, r.Method+" "+r.URL.Path)
		servedMu.Unlock()
		if r.URL.Path != "/report.html" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(report)
	}))
	defer srv.Close()
	bl := &browserLog{page: srv.URL + "/report.html"}

	profile := t.TempDir()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile), chromedp.WindowSize(1280, 1000))
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithListener(bl.listen))
	defer func() {
		cancel()
		cancelAlloc()
		// Every chromium process of the test has the profile dir on its command line.
		testbin.WaitNoneLeft(t, 10*time.Second, func() []string { return processesWith(profile) })
	}()
	if err := chromedp.Do(ctx, chromedp.Navigate(bl.page)); err != nil {
		t.Fatal(err)
	}
	tctx, tcancel := context.WithTimeout(ctx, time.Minute)
	defer tcancel()

	title, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.readyState === "complete" ? document.title : ""`))
	if err != nil || !strings.HasPrefix(title, "muster-test: FAILED") {
		t.Fatalf("page title %q (%v)", title, err)
	}
	checkDiagrams(t, tctx)
	checkHighlight(t, tctx)
	keepScreenshot(t, tctx)
	checkFilter(t, tctx)

	bl.mu.Lock()
	defer bl.mu.Unlock()
	if len(bl.errors) > 0 {
		t.Errorf("console errors: %q", bl.errors)
	}
	if len(bl.requests) > 0 {
		t.Errorf("the page made requests: %q", bl.requests)
	}
	servedMu.Lock()
	defer servedMu.Unlock()
	if len(served) != 1 {
		t.Errorf("the server was asked for %q, want the page alone", served)
	}
}

// realRunReport runs muster-test on a built-in scenario and a failing one and returns
// the HTML report.
func realRunReport(t *testing.T) []byte {
	t.Helper()
	bin := testbin.Build(t)
	dir := t.TempDir()
	for src, dst := range map[string]string{"../../scenarios/oauth-protected-mcp-server.yaml": "builtin.yaml", "testdata/failing-call.yaml": "failing.yaml"} {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, dst), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	page := filepath.Join(t.TempDir(), "report.html")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--sut", "builtin", "--config", dir, "--html", page, "--no-color")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("the run: %v (want exit 1: one scenario fails)\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "HTML report: "+page) {
		t.Errorf("the run does not say where the report went:\n%s", out.String())
	}
	data, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// diagramFacts is what the page shows of one scenario.
type diagramFacts struct {
	Verdict  string `json:"v"`
	Requests int    `json:"requests"`
	Cap      int    `json:"cap"`
	Diagrams int    `json:"diagrams"`
	Arrows   int    `json:"arrows"`
	// Folded is the requests that start-up arrows stand for ("6 requests while the SUT
	// started"), Folds those arrows; Omitted the requests the cap left out.
	Folded, Folds, Omitted int
	Ran                    int  `json:"ran"`
	Shown                  bool `json:"shown"`
}

// checkDiagrams: every scenario has one diagram, with an arrow per recorded request (up
// to the cap) or, when none was recorded, an arrow per step that ran.
func checkDiagrams(t *testing.T, ctx context.Context) {
	facts, err := chromedp.Run(ctx, chromedp.Evaluate[[]diagramFacts](`[...document.querySelectorAll("details.sc")].map(d => {
		const svg = d.querySelector("svg.seq");
		const texts = [...d.querySelectorAll("svg.seq text")].map(t => t.textContent);
		const r = {v: d.dataset.v, requests: +d.dataset.requests, cap: +d.dataset.cap,
			diagrams: d.querySelectorAll("svg.seq").length, arrows: d.querySelectorAll("svg.seq g.a").length,
			Folded: 0, Folds: 0, Omitted: 0,
			ran: [...d.querySelectorAll("tr.st")].filter(r => !/NOT_RUN|SKIPPED/.test(r.cells[2].textContent) && r.cells[1].textContent !== "concurrently").length,
			shown: !!svg && d.open && svg.getBoundingClientRect().height > 50};
		for (const t of texts) {
			let m = /^(\d+) requests? while the SUT started/.exec(t);
			if (m) { r.Folded += +m[1]; r.Folds++; }
			m = /^… (\d+) more requests? not drawn/.exec(t);
			if (m) r.Omitted += +m[1];
		}
		return r;
	})`))
	if err != nil {
		t.Fatal(err)
	}
	verdicts := map[string]int{}
	for _, f := range facts {
		verdicts[f.Verdict]++
		if f.Diagrams != 1 || f.Arrows == 0 {
			t.Errorf("scenario %+v: want 1 diagram with arrows", f)
		}
		switch {
		case f.Requests == 0 && f.Arrows != f.Ran:
			t.Errorf("scenario %+v: no request recorded, want an arrow per step that ran (%d)", f, f.Ran)
		case f.Requests > 0 && (f.Arrows-f.Folds+f.Folded+f.Omitted != f.Requests || f.Arrows > f.Cap || (f.Omitted > 0) != (f.Arrows == f.Cap)):
			t.Errorf("scenario %+v: the arrows (%d, %d of them folding %d requests) and the %d left out do not make the %d recorded (cap %d)",
				f, f.Arrows, f.Folds, f.Folded, f.Omitted, f.Requests, f.Cap)
		}
		if f.Verdict == "failed" && !f.Shown {
			t.Errorf("the failure's diagram is not on screen: %+v", f)
		}
		t.Logf("scenario %s: %d requests recorded, %d arrows drawn (%d start-up requests folded into %d)", f.Verdict, f.Requests, f.Arrows, f.Folded, f.Folds)
	}
	if verdicts["failed"] != 1 || verdicts["passed"] != 1 {
		t.Errorf("verdicts on the page %v, want one failed and one passed", verdicts)
	}
}

// checkHighlight: the failing step's row and arrows are drawn in the highlight colour.
func checkHighlight(t *testing.T, ctx context.Context) {
	type hot struct {
		Rows      []string `json:"rows"`
		RowColour string   `json:"rowColour"`
		Band      string   `json:"band"`
		Arrows    int      `json:"arrows"`
		Stroke    string   `json:"stroke"`
	}
	h, err := chromedp.Run(ctx, chromedp.Evaluate[hot](`(() => {
		const d = document.querySelector('details.sc[data-v="failed"]');
		const rows = [...d.querySelectorAll("tr.st.hot")];
		const arrows = d.querySelectorAll("svg.seq g.a.hot");
		const band = d.querySelector("svg.seq g.band.hot text");
		return {rows: rows.map(r => r.dataset.step), rowColour: rows.length ? getComputedStyle(rows[0].cells[0]).backgroundColor : "",
			band: band ? band.textContent : "", arrows: arrows.length,
			stroke: arrows.length ? getComputedStyle(arrows[0].querySelector("line,path")).stroke : ""};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Rows) != 1 || h.Rows[0] != "call" || h.RowColour != "rgb(255, 235, 238)" {
		t.Errorf("highlighted step rows %q in %s, want [call] in rgb(255, 235, 238)", h.Rows, h.RowColour)
	}
	if h.Band != "step call" || h.Arrows == 0 || h.Stroke != "rgb(198, 40, 40)" {
		t.Errorf("diagram highlight: band %q, %d arrows stroked %s; want step call, arrows in rgb(198, 40, 40)", h.Band, h.Arrows, h.Stroke)
	}
}

// checkFilter: choosing a verdict hides the scenarios of the others.
func checkFilter(t *testing.T, ctx context.Context) {
	visible, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`document.querySelector('label[for="vf-passed"]').click(),
		[...document.querySelectorAll("details.sc")].filter(d => d.offsetParent !== null).map(d => d.dataset.v)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(visible) != 1 || visible[0] != "passed" {
		t.Errorf("with the filter PASSED, scenarios shown: %q", visible)
	}
}

// keepScreenshot writes the whole page as a PNG into $MUSTER_TEST_ARTIFACTS, else into
// the test's temp dir, and logs where.
func keepScreenshot(t *testing.T, ctx context.Context) {
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv(artifactsEnv)
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, screenshotName)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", p, len(png))
}

// processesWith lists the pids whose command line contains s.
func processesWith(s string) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte(s)) {
			out = append(out, e.Name())
		}
	}
	return out
}
