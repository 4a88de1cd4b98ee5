package scenario_test

import (
	"github.com/muster-test/muster-test/internal/testtools"
	"github.com/muster-test/muster-test/scenario"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

const testdata = "../testdata/scenarios"

// want is one diagnostic a fixture must produce: its position ("line:col", or "line" for
// YAML syntax errors, which carry no column) and a fragment of its message.
type want struct {
	at, msg string
}

// checkDiags requires exactly the wanted diagnostics, in order, each at its position.
func checkDiags(t *testing.T, file string, got []scenario.Diagnostic, wants []want) {
	t.Helper()
	for i, w := range wants {
		if i >= len(got) {
			t.Errorf("missing diagnostic %s:%s: ...%s...", file, w.at, w.msg)
			continue
		}
		g := got[i]
		if g.Pos.File != file {
			t.Errorf("diagnostic %d: file %q, want %q", i, g.Pos.File, file)
		}
		if pos := strings.TrimPrefix(g.Pos.String(), file+":"); pos != w.at || !strings.Contains(g.Msg, w.msg) {
			t.Errorf("diagnostic %d:\n got %s\nwant %s:%s: ...%s...", i, g, file, w.at, w.msg)
		}
	}
	for _, g := range got[min(len(wants), len(got)):] {
		t.Errorf("unexpected diagnostic %s", g)
	}
}

func TestBadFixtures(t *testing.T) {
	tests := []struct {
		file string
		errs []want
	}{
		{"unknown-key-top.yaml", []want{{"2:1", `unknown key "descripton" (did you mean "description"?)`}}},
		{"unknown-key-step.yaml", []want{
			{"5:5", `steps[0]: unknown key "expcted" (did you mean "expected"?)`},
		}},
		{"unknown-key-expected.yaml", []want{{"7:7", `steps[0].expected: unknown key "contain" (did you mean "contains"?)`}}},
		{"unknown-key-mock.yaml", []want{
			{"11:11", `mcp_servers[0].config.oauth: unknown key "mock_oauth_server_rf" (did you mean "mock_oauth_server_ref"?)`},
			{"14:13", `mcp_servers[0].config.tools[0]: unknown key "respones" (did you mean "responses"?)`},
		}},
		{"duration-bare-number.yaml", []want{
			{"2:10", `timeout: bare number 30 is not a duration: write it with a unit, e.g. "30s"`},
			{"6:14", `steps[0].timeout: invalid duration "ten seconds"`},
		}},
		{"missing-success.yaml", []want{
			{"7:7", `steps[0].expected: missing required key "success"`},
			{"15:7", `cleanup[0].expected: missing required key "success"`},
		}},
		{"missing-id.yaml", []want{{"7:5", `steps[1]: missing required key "id"`}}},
		{"undefined-idp-ref.yaml", []want{
			{"7:29", `trusted_issuers[0].oauth_server_ref: "github-idp" is not a mock_oauth_servers entry of this scenario (defined: corp-idp)`},
			{"14:34", `oauth.mock_oauth_server_ref: "corp-ipd" is not a mock_oauth_servers entry of this scenario (did you mean "corp-idp"?)`},
		}},
		{"undefined-server-callback.yaml", []want{{"17:15", `steps[0].args.server: "ghost" is not an mcp_servers entry`}}},
		{"wrong-namespace-clock.yaml", []want{{"17:34", `"protected" is an mcp_servers entry, but the server of test_advance_oauth_clock names a mock_oauth_servers entry (defined: idp)`}}},
		{"unknown-as-user.yaml", []want{
			{"5:14", `steps[0].as_user: unknown user "alice"`},
			{"20:18", `steps[3].args.name: unknown user "carol"`},
		}},
		{"later-tool.yaml", []want{{"4:11", "test_broker_token_exchange is not supported yet"}}},
		{"test-tool-args.yaml", []want{
			{"9:11", `steps[0].args: test_advance_oauth_clock needs argument "duration" (test_advance_oauth_clock {duration, server?})`},
			{"13:22", `steps[1].args.duration: "soon" is neither seconds nor a duration like "15m"`},
			{"17:18", `steps[2].args.name: must be a string, got a list`},
		}},
		{"mock-store.yaml", []want{
			{"9:20", `config.tools[0].store: op get needs a "key"`},
			{"11:25", `config.tools[1].store.op: unknown op "fetch" (put, get, delete, list or append)`},
			{"15:20", `config.tools[2].store.key: op list takes no "key" (use "prefix")`},
			{"17:71", `config.tools[3].store.if_version: "if_version" needs a "key"`},
			{"19:59", `config.tools[4].store.if_version: only ops put and delete take "if_version"`},
			{"19:67", `config.tools[4].store: unknown key "opp" (did you mean "op"?)`},
		}},
		{"protected-stdio.yaml", []want{{"8:7", "a stdio mock cannot be protected"}}},
		{"unknown-test-tool.yaml", []want{{"4:11", `unknown test tool "test_simulate_oauth_callbak" (did you mean "test_simulate_oauth_callback"?)`}}},
		{"template-repeated-id.yaml", []want{{"14:21", `template refers to step id "run", which is repeated`}}},
		{"template-later-id.yaml", []want{{"6:21", `template refers to step "run" (line 10), which runs later`}}},
		{"wrong-type.yaml", []want{
			{"2:7", `tags: expected a list, got a string ("oauth")`},
			{"6:11", `steps[0].args: expected a map, got a string`},
			{"7:15", `steps[0].parallel: expected an integer, got a string ("many")`},
			{"9:16", `steps[0].expected.success: expected true or false, got a string ("yes")`},
			{"10:17", `steps[0].expected.contains: expected a list, got a string ("found")`},
		}},
		{"several-errors.yaml", []want{
			{"2:10", "bare number 5 is not a duration"},
			{"6:7", `unknown key "token_lifetme" (did you mean "token_lifetime"?)`},
			{"8:5", `steps[0]: missing required key "id"`},
			{"13:20", `"no-such-idp" is not a mock_oauth_servers entry`},
			{"14:15", "steps[1].parallel: must be from 1 to 1000, got 0"},
			{"15:20", "steps[1].retry.count: must be from 0 to 1000, got -1"},
			{"16:16", `unknown key "succes" (did you mean "success"?)`},
		}},
		{"sut-block.yaml", []want{
			// With an unknown key in the block its node is not kept: the first error falls
			// back to the document, and the block's templates are checked once it loads.
			{"1:1", "sut: a scenario with its own SUT cannot use pre_configuration.workflows"},
			{"6:17", `sut.ready.http: "health" is not a path`},
			{"7:3", `sut: unknown key "colour"`},
			{"15:9", `steps[0].id: "self" names the scenario's world in templates`},
			{"17:20", `template {{ .idp.mian.issuer_url }}: "mian" is not an entry of mock_oauth_servers of this scenario (did you mean "main"?)`},
			{"18:55", `steps[0].expected: template {{ .mcp.x.url }}: "x" is not an HTTP mock among mcp_servers`},
		}},
		{"sut-template.yaml", []want{{"3:90", `sut: template {{ .idp.main.issuer_ur }}: "issuer_ur" is not a field of idp.main`}}},
		{"sut-protocol.yaml", []want{{"5:13", `sut.protocol: "2025-03-26" is not an MCP protocol revision muster-test speaks (valid: 2026-07-28, 2025-11-25, 2025-06-18)`}}},
		{"sut-empty.yaml", []want{{"2:6", `sut: needs "command"`}}},
		{"concurrently.yaml", []want{
			{"8:19", "steps[1].concurrently: a group needs at least one step"},
			{"10:11", "steps[2].tool: a concurrently group has no tool of its own"},
			{"17:11", "steps[3].concurrently[0].concurrently: a group can only stand in steps[]"},
			{"26:18", `steps[4].concurrently[1].as_user: unknown user "bob"`},
			{"27:19", `template refers to step "make" of the same concurrently group, which runs at the same time`},
			{"28:49", `steps[4].concurrently[1].expected.max_duration: bare number 2 is not a duration`},
			{"28:66", "steps[4].concurrently[1].expected.p95_duration: needs parallel of 2 or more"},
			{"32:37", `template refers to "siblings", a concurrently group, which has no result of its own`},
		}},
		{"idp-fault.yaml", []want{
			{"6:22", `faults[0]: fault endpoint "tokn": want one of authorize, token, introspect, revoke, register, userinfo, jwks, metadata (did you mean "token"?)`},
			{"7:39", `faults[1]: fault grant "refresh_token": only a token endpoint fault has a grant`},
		}},
		{"sut-on-timeout.yaml", []want{{"4:24", `sut.on_timeout.signal: "QUITE": want one of QUIT, ABRT, USR1, USR2, HUP, INT, TERM (did you mean "QUIT"?)`}}},
		{"sut-on-timeout-url.yaml", []want{{"4:15", "sut.on_timeout: needs a started server (command)"}}},
		{"syntax-error.yaml", []want{{"5:4", "YAML syntax error: did not find expected '-' indicator"}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			file := filepath.Join(testdata, "bad", tt.file)
			set := loader.LoadPaths(file)
			checkDiags(t, file, set.Errors, tt.errs)
			if len(set.Scenarios) != 0 {
				t.Errorf("a file with errors yielded %d scenarios", len(set.Scenarios))
			}
		})
	}
}

// TestAllFilesReported: loading stops at no file; every bad file contributes its errors.
func TestAllFilesReported(t *testing.T) {
	set := loader.LoadPaths(filepath.Join(testdata, "bad", "later-tool.yaml"),
		filepath.Join(testdata, "good"), filepath.Join(testdata, "bad", "missing-id.yaml"))
	if len(set.Errors) != 2 {
		t.Fatalf("got %d errors, want 2: %v", len(set.Errors), set.Errors)
	}
	for i, file := range []string{"later-tool.yaml", "missing-id.yaml"} {
		if got := filepath.Base(set.Errors[i].Pos.File); got != file {
			t.Errorf("error %d is about %s, want %s", i, got, file)
		}
	}
	if len(set.Scenarios) != 1 || set.Scenarios[0].Name != "full-format" {
		t.Errorf("want the one good scenario loaded, got %d", len(set.Scenarios))
	}

	dir := loader.LoadPaths(filepath.Join(testdata, "bad"))
	files := map[string]bool{}
	for _, e := range dir.Errors {
		files[filepath.Base(e.Pos.File)] = true
	}
	all, _ := filepath.Glob(filepath.Join(testdata, "bad", "*.yaml"))
	if len(files) != len(all) {
		t.Errorf("errors came from %d files of testdata/scenarios/bad, want all %d: %v", len(files), len(all), files)
	}
}

func TestWarnings(t *testing.T) {
	set := loader.LoadPaths(filepath.Join(testdata, "warn"))
	if len(set.Errors) != 0 {
		t.Fatalf("unexpected errors: %v", set.Errors)
	}
	if len(set.Scenarios) != 5 {
		t.Errorf("got %d scenarios, want 5 (duplicates are kept)", len(set.Scenarios))
	}
	dir := filepath.Join(testdata, "warn")
	checkWarn := func(i int, file, at, msg string) {
		t.Helper()
		if i >= len(set.Warnings) {
			t.Errorf("missing warning %s:%s %s", file, at, msg)
			return
		}
		w := set.Warnings[i]
		if w.Pos.String() != filepath.Join(dir, file)+":"+at || !strings.Contains(w.Msg, msg) || !w.Warning {
			t.Errorf("warning %d: got %s, want %s:%s: warning: ...%s...", i, w, file, at, msg)
		}
	}
	checkWarn(0, "dup-name-b.yaml", "2:7", `scenario name "same-name" is also used at `+filepath.Join(dir, "dup-name-a.yaml")+":1:7")
	checkWarn(1, "repeated-id.yaml", "6:9", `steps[1]: step id "check" is repeated (first at line 3)`)
	checkWarn(2, "unread-arg.yaml", "5:33", `steps[0].args.subjet: test_create_user does not read this argument (did you mean "subject"?) (test_create_user {name, subject?})`)
	const fwd = "pre_configuration.mcp_servers[0].config.oauth."
	checkWarn(3, "z-forwarding.yaml", "9:76", fwd+"forward_token: muster (newer than January 2026) forwards the user's token to this server; the reference SUT does not")
	checkWarn(4, "z-forwarding.yaml", "9:98", fwd+"token_exchange: muster (newer than January 2026) exchanges the user's token")
	if len(set.Warnings) != 5 {
		t.Errorf("got %d warnings, want 5: %v", len(set.Warnings), set.Warnings)
	}
	if got := set.Warnings[0].String(); !strings.Contains(got, ":2:7: warning: scenario name") {
		t.Errorf("warning string %q lacks the file:line:col: warning: form", got)
	}
}

func TestLoadPathsMissing(t *testing.T) {
	set := loader.LoadPaths(filepath.Join(testdata, "no-such-dir"), filepath.Join(testdata, "warn", "repeated-id.yaml"))
	if len(set.Errors) != 1 || set.Errors[0].String() != filepath.Join(testdata, "no-such-dir")+": no such file or directory" {
		t.Errorf("got %v, want one no-such-file error", set.Errors)
	}
	if len(set.Scenarios) != 1 {
		t.Errorf("the existing file must still load, got %d scenarios", len(set.Scenarios))
	}
}

func TestLoadFS(t *testing.T) {
	ok := "name: ok\nsteps:\n  - id: a\n    tool: t\n    expected: {success: true}\n"
	fsys := fstest.MapFS{
		"suite/b/second.yml": {Data: []byte(ok)},
		"suite/a.yaml":       {Data: []byte(ok)},
		"suite/notes.txt":    {Data: []byte("not a scenario")},
		"suite/c/bad.yaml":   {Data: []byte("name: bad\nstep: []\n")},
	}
	set := loader.LoadFS(fsys, "suite")
	var files []string
	for _, s := range set.Scenarios {
		files = append(files, s.Pos.File)
	}
	if strings.Join(files, ",") != "suite/a.yaml,suite/b/second.yml" {
		t.Errorf("scenarios from %v, want suite/a.yaml then suite/b/second.yml", files)
	}
	checkDiags(t, "suite/c/bad.yaml", set.Errors, []want{
		{"1:1", "steps: at least one step is required"},
		{"2:1", `unknown key "step" (did you mean "steps"?)`},
	})
	if len(set.Warnings) != 1 || set.Warnings[0].Pos.String() != "suite/b/second.yml:1:7" {
		t.Errorf("want one duplicate-name warning at suite/b/second.yml:1:7, got %v", set.Warnings)
	}
	if missing := loader.LoadFS(fsys, "nope"); len(missing.Errors) != 1 {
		t.Errorf("a missing root must be an error, got %v", missing.Errors)
	}
}

func TestDiagnosticString(t *testing.T) {
	tests := []struct {
		d    scenario.Diagnostic
		want string
	}{
		{scenario.Diagnostic{Pos: scenario.Pos{File: "a.yaml", Line: 3, Col: 5}, Msg: "bad"}, "a.yaml:3:5: bad"},
		{scenario.Diagnostic{Pos: scenario.Pos{File: "a.yaml", Line: 3, Col: 5}, Msg: "odd", Warning: true}, "a.yaml:3:5: warning: odd"},
		{scenario.Diagnostic{Pos: scenario.Pos{File: "a.yaml", Line: 3}, Msg: "syntax"}, "a.yaml:3: syntax"},
		{scenario.Diagnostic{Pos: scenario.Pos{File: "a.yaml"}, Msg: "empty"}, "a.yaml: empty"},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

// loader loads as the runner does: against the runner's table of test tools.
var loader = testtools.Loader()

// TestDiagnosticsInReadingOrder: errors and warnings come together, file by file in load
// order and by position in each, not all warnings first.
func TestDiagnosticsInReadingOrder(t *testing.T) {
	step := func(id string) string { return "  - {id: " + id + ", tool: t, expected: {success: true}}\n" }
	fs := fstest.MapFS{
		// a.yaml: an error at line 2, a warning (a repeated id) at line 5.
		"a.yaml": {Data: []byte("name: a\ntimout: 1m\nsteps:\n" + step("s") + step("s"))},
		// b.yaml: a warning at line 4, an error at line 5.
		"b.yaml": {Data: []byte("name: b\nsteps:\n" + step("s") + step("s") + "  - {id: u, tool: t, expected: {sucess: true}}\n")},
	}
	set := testtools.Loader().LoadFS(fs, ".")
	var got []string
	for _, d := range set.Diagnostics() {
		kind := "error"
		if d.Warning {
			kind = "warning"
		}
		got = append(got, d.Pos.File+":"+itoa(d.Pos.Line)+" "+kind)
	}
	want := "a.yaml:2 error, a.yaml:5 warning, b.yaml:4 warning, b.yaml:5 error"
	if strings.Join(got, ", ") != want {
		t.Errorf("order %s\nwant  %s", strings.Join(got, ", "), want)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestTokenExchangeRefNamesAnIdP: token_exchange.oauth_server_ref, which the runner
// resolves to an IdP's token endpoint for the SUT, must name a mock IdP of the scenario.
func TestTokenExchangeRefNamesAnIdP(t *testing.T) {
	doc := `name: x
pre_configuration:
  mock_oauth_servers:
    - {name: dex, scopes: [openid]}
  mcp_servers:
    - name: s
      config:
        type: streamable-http
        oauth: {required: true, mock_oauth_server_ref: dex, token_exchange: {oauth_server_ref: dexx}}
        tools: [{name: op, responses: [{response: ok}]}]
steps:
  - {id: a, tool: core_service_list, expected: {success: true}}
`
	_, diags := loader.Parse("f.yaml", []byte(doc))
	var errs []scenario.Diagnostic
	for _, d := range diags {
		if !d.Warning {
			errs = append(errs, d)
		}
	}
	checkDiags(t, "f.yaml", errs, []want{{"9:96", `pre_configuration.mcp_servers[0].config.oauth.token_exchange.oauth_server_ref: "dexx" is not a mock_oauth_servers entry of this scenario (did you mean "dex"?)`}})
}
