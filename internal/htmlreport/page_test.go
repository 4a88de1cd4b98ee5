package htmlreport

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/muster-test/muster-test/internal/event"
)

// nodes returns the elements of doc for which match holds.
func nodes(doc *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

func attr(n *html.Node, name string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val, true
		}
	}
	return "", false
}

func hasClass(n *html.Node, c string) bool {
	v, _ := attr(n, "class")
	return strings.Contains(" "+v+" ", " "+c+" ")
}

func renderRun(t *testing.T, run *event.Run) (*html.Node, string) {
	t.Helper()
	return renderDoc(t, func(w io.Writer) error { return RenderRun(w, run) })
}

// renderDoc renders a page and parses it.
func renderDoc(t *testing.T, render func(io.Writer) error) (*html.Node, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return doc, buf.String()
}

func TestRunPage(t *testing.T) {
	doc, text := renderRun(t, runOf(passingResult("ok-one", nil), failingResult("bad-one", loginExchanges())))
	scs := nodes(doc, func(n *html.Node) bool { return n.Data == "details" && hasClass(n, "sc") })
	if len(scs) != 2 {
		t.Fatalf("%d scenarios on the page, want 2", len(scs))
	}
	for _, sc := range scs {
		v, _ := attr(sc, "data-v")
		_, open := attr(sc, "open")
		if open != (v == "failed") {
			t.Errorf("scenario of verdict %s: open %v (only failures are open)", v, open)
		}
		if len(nodes(sc, func(n *html.Node) bool { return n.Data == "svg" && hasClass(n, "seq") })) != 1 {
			t.Errorf("scenario of verdict %s has no diagram", v)
		}
	}
	hot := nodes(doc, func(n *html.Node) bool { return n.Data == "tr" && hasClass(n, "hot") })
	if len(hot) != 1 {
		t.Fatalf("%d highlighted step rows, want 1", len(hot))
	}
	if s, _ := attr(hot[0], "data-step"); s != "call" {
		t.Errorf("highlighted step %q, want call", s)
	}
	for _, s := range []string{
		`[&#34;found 1&#34;,1]`,                         // expected, as JSON: types visible
		`{&#34;error&#34;:&#34;401 from upstream&#34;}`, // got
		"bad-one.yaml:12",                               // a passed step's line
		"bad-one.yaml:20:25",                            // the unmet expectation's own place
		"success: want true, got false",                 // the step's other unmet expectation
		"upstream search answered 401",                  // SUT log tail
		`<label for="vf-failed">FAILED (1)</label>`,
		`<label for="vf-passed">PASSED (1)</label>`,
		`step call: contains`, // the summary's reason
		"No request was recorded for this scenario",
	} {
		if !strings.Contains(text, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	// The summary lists the failure first.
	rows := nodes(doc, func(n *html.Node) bool { _, ok := attr(n, "data-v"); return n.Data == "tr" && ok })
	if v, _ := attr(rows[0], "data-v"); len(rows) != 2 || v != "failed" {
		t.Errorf("summary rows: first is %q of %d", v, len(rows))
	}
	// Nothing on the page refers to anything outside it.
	for _, n := range nodes(doc, func(n *html.Node) bool { return true }) {
		for _, a := range []string{"src", "href"} {
			if v, ok := attr(n, a); ok && !strings.HasPrefix(v, "#") && v != "data:," {
				t.Errorf("<%s %s=%q> points outside the page", n.Data, a, v)
			}
		}
	}
}

// Hundreds of scenarios of hundreds of requests each stay a file a browser opens.
func TestRunPageSizeBound(t *testing.T) {
	var results []event.ScenarioResult
	for i := range 500 {
		r := passingResult(fmt.Sprintf("scenario-%03d", i), manyExchanges(300))
		if i%50 == 0 {
			r = failingResult(fmt.Sprintf("scenario-%03d", i), manyExchanges(300))
		}
		results = append(results, r)
	}
	_, text := renderRun(t, runOf(results...))
	const bound = 4 << 20
	t.Logf("500 scenarios x 300 requests: %d bytes (%.1f KiB a scenario)", len(text), float64(len(text))/500/1024)
	if len(text) > bound {
		t.Fatalf("page of %d bytes, want at most %d", len(text), bound)
	}
	// 10 failures of MaxArrows each, 490 passes sharing pageArrows (at least minArrows each).
	want := 10*MaxArrows + 490*max(pageArrows/500, minArrows)
	if n := strings.Count(text, `<g class="a`); n != want {
		t.Errorf("%d arrows drawn, want %d (the caps)", n, want)
	}
	// One marker each: a failure's is between its first arrows and its failing step's, last.
	if n := strings.Count(text, "more requests not drawn"); n != 500 {
		t.Errorf("%d markers of arrows left out, want 500", n)
	}
}
