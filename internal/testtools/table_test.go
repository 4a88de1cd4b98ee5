package testtools

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/muster-test/muster-test/scenario"
)

func TestTableIsConsistent(t *testing.T) {
	reg := Registry() // panics on a duplicate or an implementation that does not match Later
	for _, tool := range Catalogue() {
		if !scenario.IsTestTool(tool.Name) {
			t.Errorf("%s lacks the test_ prefix", tool.Name)
		}
		if _, ok := reg[tool.Name]; ok == tool.Later {
			t.Errorf("%s: in the registry = %v, Later = %v", tool.Name, ok, tool.Later)
		}
		if !tool.Later && !slices.Contains(tool.Answer, "success") {
			t.Errorf("%s: every answer has success", tool.Name)
		}
	}
}

// TestGuideListsEveryTool holds the scenario-writing guide to the table: each implemented
// tool is documented with its exact signature, and the guide documents no other tool.
// TestEnumArgumentsAreLoadErrors: a literal value a tool does not take is reported at its
// file:line:col before anything starts, not as a step failure after the SUT started.
func TestEnumArgumentsAreLoadErrors(t *testing.T) {
	src := "name: s\npre_configuration:\n  mock_oauth_servers: [{name: idp}]\nsteps:\n" +
		"  - {id: f, tool: test_set_oauth_fault, args: {server: idp, endpoint: tokn, status: 500}, expected: {success: true}}\n" +
		"  - {id: m, tool: test_mint_token, args: {server: idp, name: t, sub: a, sign_with: foreing}, expected: {success: true}}\n"
	_, diags := Loader().Parse("s.yaml", []byte(src))
	got := fmt.Sprint(diags)
	for _, want := range []string{
		`s.yaml:5:71: steps[0].args.endpoint: "tokn": want one of authorize, token,`,
		`(did you mean "token"?)`,
		`s.yaml:6:84: steps[1].args.sign_with: "foreing": want one of idp, foreign, none (did you mean "foreign"?)`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, got)
		}
	}
}

func TestGuideListsEveryTool(t *testing.T) {
	guide, err := os.ReadFile("../../scenarios/README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{}
	for _, m := range regexp.MustCompile("\\*\\*`(test_\\w+) \\{([^}]*)\\}`\\*\\*").FindAllStringSubmatch(string(guide), -1) {
		documented[m[1]] = m[1] + " {" + m[2] + "}"
	}
	for _, tool := range Catalogue() {
		sig, ok := documented[tool.Name]
		switch {
		case tool.Later && ok:
			t.Errorf("the guide documents %s, which is not supported yet", tool.Name)
		case tool.Later:
		case !ok:
			t.Errorf("the guide does not document %s (write **`%s`**)", tool.Name, tool.Signature())
		case sig != tool.Signature():
			t.Errorf("the guide writes %s, the table declares %s", sig, tool.Signature())
		}
		delete(documented, tool.Name)
	}
	for name := range documented {
		t.Errorf("the guide documents %s, which is not in the table", name)
	}
}

// TestSuiteAndFixturesLoad: every built-in scenario and every good fixture loads against
// the table, and no built-in scenario passes an argument the runner does not read.
func TestSuiteAndFixturesLoad(t *testing.T) {
	set := Loader().LoadPaths("../../scenarios", "../../testdata/scenarios/good", "../../testdata/scenarios/muster-format")
	for _, d := range set.Errors {
		t.Error(d)
	}
	for _, d := range set.Warnings {
		if strings.HasPrefix(d.Pos.File, "../../scenarios/") {
			t.Error(d)
		}
	}
	if len(set.Scenarios) < 30 {
		t.Errorf("loaded only %d scenarios", len(set.Scenarios))
	}
}

// TestGuideAnswerShapes holds the guide's table of answer shapes to the table's Answer and
// JSONFailure: json_path is checked against the same fields at load time, so the guide and
// the loader cannot disagree. On a mismatch the test prints the table to paste.
func TestGuideAnswerShapes(t *testing.T) {
	guide, err := os.ReadFile("../../scenarios/README.md")
	if err != nil {
		t.Fatal(err)
	}
	want := answerShapes(Catalogue())
	if !strings.Contains(string(guide), want) {
		t.Errorf("scenarios/README.md lacks the table of answer shapes; it reads, from the table:\n%s", want)
	}
}

// answerShapes is the guide's table: one row per implemented tool, the fields of its
// answer (fields under one object grouped: requests.{token, refresh}) and what a failed
// call answers.
func answerShapes(tools []scenario.TestTool) string {
	var b strings.Builder
	b.WriteString("| Tool | Answer | A failed call |\n|---|---|---|\n")
	for _, tool := range tools {
		if tool.Later {
			continue
		}
		var fields []string
		for i := 0; i < len(tool.Answer); {
			head, _, nested := strings.Cut(tool.Answer[i], ".")
			j := i + 1
			if nested {
				var inner []string
				for j = i; j < len(tool.Answer); j++ {
					h, rest, ok := strings.Cut(tool.Answer[j], ".")
					if !ok || h != head {
						break
					}
					inner = append(inner, rest)
				}
				if len(inner) > 1 {
					fields = append(fields, "`"+head+".{"+strings.Join(inner, ", ")+"}`")
					i = j
					continue
				}
				j = i + 1
			}
			fields = append(fields, "`"+tool.Answer[i]+"`")
			i = j
		}
		failure := "its error text (not JSON)"
		if tool.JSONFailure {
			failure = "the same object, `success: false`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", tool.Name, strings.Join(fields, ", "), failure)
	}
	return b.String()
}
