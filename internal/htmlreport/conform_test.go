package htmlreport

import (
	"io"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// Checks are grouped by level, each with its spec links and its baseline state; a
// stale entry shows as STALE (it fails the run) and is open, as a FAIL is.
func TestConformPage(t *testing.T) {
	failed := failingResult("unauthenticated-401", loginExchanges())
	run := &ConformRun{Target: "http://127.0.0.1:1/mcp", Grade: "FAIL: 1 of 2 applicable MUSTs not met", Start: t0,
		Levels: []string{"MUST", "SHOULD", "MAY"},
		Checks: []ConformCheck{
			{ID: "unauthenticated-401", Level: "MUST", Verdict: "FAIL", Reason: "got 200", Requirement: "MUST return 401",
				Refs: []string{"https://www.rfc-editor.org/rfc/rfc6750#section-3"}, Result: &failed},
			{ID: "known-bad", Level: "MUST", Verdict: "XFAIL", Baselined: true, Requirement: "r2"},
			{ID: "fixed-since", Level: "SHOULD", Verdict: "PASS", Baselined: true, Stale: true, Requirement: "r3"},
			{ID: "optional", Level: "MAY", Verdict: "N/A", Reason: "needs --config", Requirement: "r4"},
			{ID: "long-reason", Level: "MAY", Verdict: "N/A", Reason: strings.Repeat("r", 1000), Requirement: "r5"},
		}}
	doc, text := renderDoc(t, func(w io.Writer) error { return RenderConform(w, run) })
	for _, want := range []string{"<h2>MUST (2)</h2>", "<h2>SHOULD (1)</h2>", "<h2>MAY (2)</h2>",
		"listed: an expected failure", "listed, but it passes: remove the entry",
		`<a href="https://www.rfc-editor.org/rfc/rfc6750#section-3" rel="noreferrer">`,
		`<label for="vf-stale">STALE (1)</label>`, `<label for="vf-na">N/A (2)</label>`, strings.Repeat("r", maxReason-1) + "…<", "needs --config"} {
		if !strings.Contains(text, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	open := map[string]bool{}
	diagrams := map[string]int{}
	for _, d := range nodes(doc, func(n *html.Node) bool { return n.Data == "details" }) {
		v, _ := attr(d, "data-v")
		_, open[v] = attr(d, "open")
		diagrams[v] = len(nodes(d, func(n *html.Node) bool { return n.Data == "svg" }))
	}
	if !open["fail"] || !open["stale"] || open["xfail"] || open["na"] {
		t.Errorf("open checks %v: want the FAIL and the STALE only", open)
	}
	// A check that ran has its diagram; one that did not run has none.
	if diagrams["fail"] != 1 || diagrams["na"] != 0 {
		t.Errorf("diagrams per verdict %v", diagrams)
	}
}
