package scenario_test

import (
	"strings"
	"testing"

	"github.com/muster-test/muster-test/scenario"
)

const goodWorkload = `name: share
virtual_users: {count: 4, name_prefix: lt-, claims: {tenant: "t{{ .n }}"}}
pre_configuration:
  mock_oauth_servers: [{name: idp}]
sut:
  command: ["{{ .self }}", reference-server, serve, --issuer, "{{ .idp.idp.issuer_url }}", --port, "{{ .sut.port }}"]
workflows:
  - name: note_share
    weight: 3
    roles: [owner, reader]
    think_time: 10ms
    steps:
      - {id: create, tool: echo, args: {message: hi}, expected: {success: true}}
      - {id: read, tool: echo, as_role: reader, args: {message: "{{ create.text }}", to: "{{ .roles.reader }}"}, expected: {success: true, contains: ["{{ .roles.owner }}"]}}
  - name: solo
    steps:
      - {id: ping, tool: echo, expected: {success: true}}
thresholds:
  "step:create p95": "< 200ms"
  "workflow:note_share error_rate": "< 1%"
  rps: "> 100"
`

func TestWorkloadParses(t *testing.T) {
	w, diags := scenario.Loader{}.ParseWorkload("w.yaml", []byte(goodWorkload))
	if w == nil {
		t.Fatalf("not loaded: %v", diags)
	}
	if w.VirtualUsers.Count != 4 || len(w.Workflows) != 2 || w.Workflows[1].W() != 1 || w.Workflows[0].W() != 3 {
		t.Fatalf("decoded %+v", w)
	}
	if got := w.Workflows[1].RoleNames(); len(got) != 1 || got[0] != "user" {
		t.Errorf("default roles = %v", got)
	}
	if len(w.Parsed) != 3 {
		t.Fatalf("thresholds %+v", w.Parsed)
	}
	p95 := w.Parsed[0]
	if p95.Scope != "step" || p95.Name != "create" || p95.Metric != "p95" || p95.Op != "<" || p95.Bound != 200 || p95.Pos.Line != 19 {
		t.Errorf("p95 threshold %+v", p95)
	}
	if er := w.Parsed[1]; er.Bound != 0.01 || er.Holds(0.01) || !er.Holds(0.009) {
		t.Errorf("error_rate threshold %+v", er)
	}
}

func TestWorkloadErrors(t *testing.T) {
	cases := []badEdit{
		{"unknown key", "think_time: 10ms", "thinktime: 10ms", `w.yaml:11:5: workflows[0]: unknown key "thinktime" (did you mean "think_time"?)`},
		{"undeclared role", "as_role: reader", "as_role: writer", `w.yaml:14:41: workflows[0].steps[1].as_role: "writer" is not a role of workflow "note_share"`},
		{"bad threshold", `"< 200ms"`, `"fast"`, `w.yaml:19:22: thresholds: threshold "step:create p95": value "fast": start with <`},
		{"unknown step in threshold", `"step:create p95"`, `"step:creat p95"`, `w.yaml:19:3: thresholds: threshold "step:creat p95": no workflow step has id "creat" (did you mean "create"?)`},
		{"as_user", "as_role: reader", "as_user: reader", `w.yaml:14:41: workflows[0].steps[1].as_user: a workload's users are its virtual users`},
		{"duplicate id", "{id: ping,", "{id: create,", `w.yaml:17:14: workflows[1].steps[0].id: step id "create" is used twice`},
		{"too few users", "count: 4", "count: 1", `w.yaml:2:24: virtual_users.count: 1 users cannot fill a workflow of 2 roles`},
		{"unknown role in a template", `to: "{{ .roles.reader }}"`, `to: "{{ .roles.writer }}"`,
			`w.yaml:14:90: workflows[0].steps[1].args: template {{ .roles.writer }}: "writer" is not a role of workflow "note_share" (defined: owner, reader)`},
		{"roles template without a role", `to: "{{ .roles.reader }}"`, `to: "{{ .roles }}"`,
			`w.yaml:14:90: workflows[0].steps[1].args: template {{ .roles }}: write {{ .roles.ROLE }} with ROLE one of owner, reader`},
		{"role of another workflow", `{id: ping, tool: echo,`, `{id: ping, tool: echo, args: {a: "{{ .roles.owner }}"},`,
			`w.yaml:17:42: workflows[1].steps[0].args: template {{ .roles.owner }}: "owner" is not a role of workflow "solo" (defined: user)`},
		{"role in a login step", `claims: {tenant: "t{{ .n }}"}}`, `claims: {tenant: "t{{ .n }}"}, login: [{id: li, tool: echo, args: {a: "{{ .roles.owner }}"}, expected: {success: true}}]}`,
			`w.yaml:2:115: virtual_users.login[0].args: template {{ .roles.owner }}: login steps run for each user alone, without roles`},
		{"step id roles", `{id: ping,`, `{id: roles,`, `w.yaml:17:14: workflows[1].steps[0].id: "roles" names the workflow's roles`},
	}
	checkBadEdits(t, goodWorkload, cases)
}

func TestWorkloadZeroWeights(t *testing.T) {
	src := strings.Replace(goodWorkload, "weight: 3", "weight: 0", 1)
	src = strings.Replace(src, "  - name: solo\n", "  - name: solo\n    weight: 0\n", 1)
	_, diags := scenario.Loader{}.ParseWorkload("w.yaml", []byte(src))
	want := "w.yaml:8:3: workflows: the weights sum to 0"
	for _, d := range diags {
		if strings.HasPrefix(d.String(), want) {
			return
		}
	}
	t.Errorf("no %q in %v", want, diags)
}

func TestScenarioRejectsAsRole(t *testing.T) {
	src := "name: x\nsteps:\n  - {id: a, tool: echo, as_role: r, expected: {success: true}}\n"
	_, diags := scenario.Loader{}.Parse("s.yaml", []byte(src))
	if len(diags) == 0 || !strings.Contains(diags[0].String(), "s.yaml:3:34: steps[0].as_role: roles belong to a workload") {
		t.Errorf("diags %v", diags)
	}
}

// groupWorkload has a concurrently group in each workflow: in note_share each step names
// its role; in solo, a workflow of one role, a step may leave it out.
const groupWorkload = `name: edit
virtual_users: {count: 3}
workflows:
  - name: note_share
    roles: [owner, reader]
    steps:
      - {id: create, tool: echo, expected: {success: true}}
      - id: both-read
        concurrently:
          - {id: owner-reads, tool: echo, as_role: owner, args: {m: "{{ create.text }}"}, expected: {success: true}}
          - {id: reader-reads, tool: echo, as_role: reader, args: {m: "{{ .roles.owner }}"}, expected: {success: true}}
      - {id: verify, tool: echo, args: {m: "{{ reader-reads.text }}"}, expected: {success: true, contains: ["{{ owner-reads.text }}"]}}
  - name: solo
    steps:
      - id: pings
        concurrently:
          - {id: ping-1, tool: echo, expected: {success: true}}
          - {id: ping-2, tool: echo, expected: {success: true}}
thresholds:
  "step:reader-reads p95": "< 200ms"
`

func TestWorkloadConcurrentlyGroup(t *testing.T) {
	w, diags := scenario.Loader{}.ParseWorkload("w.yaml", []byte(groupWorkload))
	if w == nil {
		t.Fatalf("not loaded: %v", diags)
	}
	g := w.Workflows[0].Steps[1]
	if !g.IsGroup() || len(g.Concurrently) != 2 || g.Concurrently[1].AsRole != "reader" {
		t.Errorf("group decoded as %+v", g)
	}
	if len(w.Parsed) != 1 || w.Parsed[0].Name != "reader-reads" {
		t.Errorf("thresholds %+v", w.Parsed)
	}
}

func TestWorkloadConcurrentlyErrors(t *testing.T) {
	cases := []badEdit{
		{"member without a role", "{id: reader-reads, tool: echo, as_role: reader,", "{id: reader-reads, tool: echo,",
			`w.yaml:11:13: workflows[0].steps[1].concurrently[1]: missing required key "as_role": a step of a concurrently group in workflow "note_share", which has roles owner, reader`},
		{"member of an undeclared role", "as_role: reader,", "as_role: editor,",
			`w.yaml:11:53: workflows[0].steps[1].concurrently[1].as_role: "editor" is not a role of workflow "note_share" (defined: owner, reader)`},
		{"group with a role", "      - id: both-read\n", "      - id: both-read\n        as_role: owner\n",
			`w.yaml:9:18: workflows[0].steps[1].as_role: a concurrently group has no as_role of its own`},
		{"nested group", "          - {id: ping-2, tool: echo, expected: {success: true}}",
			"          - {id: ping-2, concurrently: [{id: ping-3, tool: echo, expected: {success: true}}]}",
			`w.yaml:18:40: workflows[1].steps[0].concurrently[1].concurrently: a group can only stand in steps[], not inside a group`},
		{"sibling's result", `args: {m: "{{ .roles.owner }}"}`, `args: {m: "{{ owner-reads.text }}"}`,
			`w.yaml:11:71: workflows[0].steps[1].concurrently[1].args: template refers to step "owner-reads" of the same concurrently group, which runs at the same time`},
		{"the group's result", `contains: ["{{ owner-reads.text }}"]`, `contains: ["{{ both-read.text }}"]`,
			`w.yaml:12:109: workflows[0].steps[2].expected: template refers to "both-read", a concurrently group, which has no result of its own`},
		{"group without an id", "      - id: both-read\n", "      - description: both read\n",
			`w.yaml:8:9: workflows[0].steps[1]: missing required key "id"`},
		{"threshold on a group", `"step:reader-reads p95"`, `"step:both-read p95"`,
			`w.yaml:20:3: thresholds: threshold "step:both-read p95": "both-read" is a concurrently group, which has no figures of its own`},
		{"duplicate member id", "{id: ping-2,", "{id: create,",
			`w.yaml:18:18: workflows[1].steps[0].concurrently[1].id: step id "create" is used twice`},
	}
	checkBadEdits(t, groupWorkload, cases)
}

// badEdit turns a good workload into a bad one: edit replaced by from must load with a
// diagnostic starting with want.
type badEdit struct{ name, edit, from, want string }

func checkBadEdits(t *testing.T, good string, cases []badEdit) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(good, tc.edit, tc.from, 1)
			if src == good {
				t.Fatal("edit did not apply")
			}
			w, diags := scenario.Loader{}.ParseWorkload("w.yaml", []byte(src))
			if w != nil {
				t.Fatal("loaded a bad workload")
			}
			for _, d := range diags {
				if strings.HasPrefix(d.String(), tc.want) {
					return
				}
			}
			t.Errorf("no diagnostic %q in %v", tc.want, diags)
		})
	}
}
