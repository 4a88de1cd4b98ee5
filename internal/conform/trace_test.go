package conform

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/muster-test/muster-test/refserver"
	"github.com/muster-test/muster-test/refsut"
)

var update = flag.Bool("update", false, "rewrite the generated traceability file")

const traceFile = "../../docs/conform-traceability.md"

// traceability renders requirement -> checks -> status: every requirement of the
// catalogue with the checks that test it and how each is proven here (passes against the
// healthy reference server, fails with the faults named), then the requirements no check
// tests, untested or excluded, with the reason.
func traceability(cat *Catalogue) string {
	caught := map[string][]string{}
	for _, f := range refserver.AllFaults {
		for _, id := range faultChecks[f] {
			caught[id] = append(caught[id], "`"+string(f)+"` (reference server)")
		}
	}
	for _, f := range refsut.AllFaults {
		for _, id := range gatewayFaultChecks[f] {
			caught[id] = append(caught[id], "`"+string(f)+"` (reference SUT)")
		}
		for _, id := range protectedFaultChecks[f] {
			caught[id] = append(caught[id], "`"+string(f)+"` (reference SUT, protected mode)")
		}
	}
	var b strings.Builder
	b.WriteString("# Traceability of `muster-test conform`\n\n")
	b.WriteString("Generated from `conform/catalogue.yaml` by `go test ./internal/conform -run TestTraceability -update`;\n")
	b.WriteString("`TestTraceability` fails when this file is not current. Each requirement, the checks that\n")
	b.WriteString("test it, and how each check is proven: the server checks run against the healthy reference\n")
	b.WriteString("server (`TestReferenceServerProof`), the gateway checks against the reference SUT\n")
	b.WriteString("in its default and its protected mode (`TestReferenceSUTGatewayProof`), and the faults\n")
	b.WriteString("named make them fail there.\n\n")
	b.WriteString("| requirement | level | spec | checks | status |\n|---|---|---|---|---|\n")
	var order []string
	byReq := map[string][]*Check{}
	for _, c := range cat.Checks {
		req := c.requirementText()
		if _, ok := byReq[req]; !ok {
			order = append(order, req)
		}
		byReq[req] = append(byReq[req], c)
	}
	for _, req := range order {
		checks := byReq[req]
		var ids, status, refs []string
		for _, c := range checks {
			ids = append(ids, "`"+c.ID+"`")
			for _, r := range c.Refs {
				if !slices.Contains(refs, r) {
					refs = append(refs, r)
				}
			}
			s := "tested, passes healthy; no fault breaks it"
			if slices.Contains(gatewayPredicted, c.ID) {
				s = "tested, fails against the reference SUT's default mode (predicted), passes in its protected mode"
			}
			if f := caught[c.ID]; len(f) > 0 {
				s += "; fails with " + strings.Join(f, ", ")
			}
			status = append(status, fmt.Sprintf("`%s`: %s", c.ID, s))
		}
		links := make([]string, len(refs))
		for i, r := range refs {
			links[i] = fmt.Sprintf("[%d](%s)", i+1, r)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", cell(req), checks[0].Level, strings.Join(links, " "),
			strings.Join(ids, "<br>"), strings.Join(status, "<br>"))
	}
	b.WriteString("\n## Not covered\n\n| requirement | spec | status | reason |\n|---|---|---|---|\n")
	for _, u := range cat.NotCovered {
		links := make([]string, len(u.Refs))
		for i, r := range u.Refs {
			links[i] = fmt.Sprintf("[%d](%s)", i+1, r)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(u.Requirement), strings.Join(links, " "), u.Status, cell(u.Reason))
	}
	return b.String()
}

func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// TestTraceability keeps the generated file current.
func TestTraceability(t *testing.T) {
	want := traceability(mustLoad(t))
	if *update {
		if err := os.WriteFile(traceFile, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(traceFile)
	if err != nil || string(got) != want {
		t.Fatalf("%s is not current (%v): run go test ./internal/conform -run TestTraceability -update", traceFile, err)
	}
}
