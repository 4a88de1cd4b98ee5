package conform

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

const mcpSite = "https://modelcontextprotocol.io"

// specAnchor is one row of testdata/spec-anchors.txt: a reference, the page source it
// names and the heading it must land on.
type specAnchor struct {
	url, source, heading string
	line                 int
}

func readSpecAnchors(t *testing.T) map[string]specAnchor {
	t.Helper()
	f, err := os.Open("testdata/spec-anchors.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := map[string]specAnchor{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 3 {
			t.Fatalf("spec-anchors.txt:%d: want URL, source and heading separated by tabs, got %q", n, line)
		}
		if _, dup := rows[cols[0]]; dup {
			t.Fatalf("spec-anchors.txt:%d: %s listed twice", n, cols[0])
		}
		rows[cols[0]] = specAnchor{url: cols[0], source: cols[1], heading: cols[2], line: n}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// mintlifyAnchor is the id modelcontextprotocol.io gives a heading: lower case, spaces
// as hyphens, other punctuation dropped. The spec's own links follow it (its pages link
// #step-up-authorization-flow, #server-side-request-forgery-ssrf, ...).
func mintlifyAnchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// pageURL is where the site serves a page source: the path under docs/ without .mdx,
// an index page at its directory.
func pageURL(source string) string {
	p := strings.TrimSuffix(strings.TrimPrefix(source, "docs/"), ".mdx")
	return mcpSite + "/" + strings.TrimSuffix(p, "/index")
}

// The revisions the catalogue cites, and where each keeps its authorization text.
var citedPage = regexp.MustCompile(`^docs/(specification/(2025-11-25/basic/authorization|2026-07-28/basic/authorization/(index|authorization-server-discovery|client-registration|security-considerations))|docs/(2025-11-25|2026-07-28)/tutorials/security/security_best_practices)\.mdx$`)

func TestMintlifyAnchor(t *testing.T) {
	for heading, want := range map[string]string{
		"Step-Up Authorization Flow":            "step-up-authorization-flow",
		"Server-Side Request Forgery (SSRF)":    "server-side-request-forgery-ssrf",
		"Token Audience Binding and Validation": "token-audience-binding-and-validation",
		"Client ID Metadata Documents":          "client-id-metadata-documents",
	} {
		if got := mintlifyAnchor(heading); got != want {
			t.Errorf("mintlifyAnchor(%q) = %q, want %q", heading, got, want)
		}
	}
}

// TestSpecAnchors: every MCP reference of the catalogue is in the table of checked
// references, its page is the one its source is served at and its anchor is its heading's;
// no row of the table is left unused. A reference added or moved without reading the page
// again fails here.
func TestSpecAnchors(t *testing.T) {
	rows := readSpecAnchors(t)
	cat := mustLoad(t)
	used := map[string]bool{}
	check := func(who string, refs []string) {
		for _, r := range refs {
			if !strings.HasPrefix(r, mcpSite+"/") {
				continue
			}
			used[r] = true
			if _, ok := rows[r]; !ok {
				t.Errorf("%s: %s is not in testdata/spec-anchors.txt: read the page's source, add its row", who, r)
			}
		}
	}
	for _, c := range cat.Checks {
		check("check "+c.ID, c.Refs)
	}
	for _, u := range cat.NotCovered {
		check("not_covered "+u.Requirement, u.Refs)
	}
	for url, row := range rows {
		if !used[url] {
			t.Errorf("spec-anchors.txt:%d: %s is cited nowhere in the catalogue", row.line, url)
		}
		if !citedPage.MatchString(row.source) {
			t.Errorf("spec-anchors.txt:%d: %s is no page of the cited revisions' authorization text", row.line, row.source)
		}
		page, anchor, _ := strings.Cut(url, "#")
		if want := pageURL(row.source); page != want {
			t.Errorf("spec-anchors.txt:%d: %s serves %s at %s, not %s", row.line, url, row.source, want, page)
		}
		if want := mintlifyAnchor(row.heading); anchor != want {
			t.Errorf("spec-anchors.txt:%d: %s: the heading %q has the anchor #%s", row.line, url, row.heading, want)
		}
	}
}
