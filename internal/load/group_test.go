package load

import (
	"context"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/testtools"
	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// groupWorkload has concurrently groups in its workflows: in together, two roles call a
// slow tool at once on the key an earlier step created, and a later step uses a group
// step's result; in broken, one step of a group fails, so the group, its workflow and
// the step after it fail as after any failed step.
const groupWorkload = `name: groups
virtual_users: {count: 4, name_prefix: u}
pre_configuration:
  mcp_servers:
    - name: m
      config:
        type: streamable-http
        tools:
          - name: create
            store: {op: put, value: {t: x}}
          - name: slow
            responses: [{delay: 300ms, response: {ok: true, k: "{{ k }}"}}]
          - name: hit
            responses: [{response: {ok: true}}]
          - name: fail
            responses: [{error: "boom"}]
workflows:
  - name: together
    roles: [a, b]
    steps:
      - {id: g-create, tool: x_m_create, expected: {success: true}}
      - id: both
        concurrently:
          - {id: slow-a, tool: x_m_slow, as_role: a, args: {k: "{{ g-create.key }}"}, expected: {success: true}}
          - {id: slow-b, tool: x_m_slow, as_role: b, args: {k: "{{ g-create.key }}"}, expected: {success: true}}
      - {id: g-after, tool: x_m_hit, args: {k: "{{ slow-b.k }}"}, expected: {success: true}}
  - name: broken
    steps:
      - id: half
        concurrently:
          - {id: half-ok, tool: x_m_hit, expected: {success: true}}
          - {id: half-fails, tool: x_m_fail, expected: {success: true}}
      - {id: half-after, tool: x_m_hit, expected: {success: true}}
`

// TestWorkflowGroupsRunAtOnce: the steps of a group overlap at the server (the second
// call of an execution arrives before the first one's 300 ms delay is over, which one
// after the other cannot happen), each keeps its own figures, the group itself is no
// call, a later step resolves a group step's result, and a failed group step is an
// error of its workflow that stops it; the figures count exactly the calls at the mock.
func TestWorkflowGroupsRunAtOnce(t *testing.T) {
	o := options(parseWorkload(t, groupWorkload))
	var calls []mcpserver.Call
	o.Observe = func(w *testtools.World) {
		srv, _ := w.Env.Server("m")
		calls = srv.HTTP.Calls()
	}
	r, _, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	together, broken := r.Workflows["together"], r.Workflows["broken"]
	if together == nil || broken == nil || together.Count == 0 || broken.Count == 0 {
		t.Fatalf("workflows %v", r.Workflows)
	}
	if together.Errors != 0 {
		t.Errorf("together: %d errors %v", together.Errors, together.ByKind)
	}
	for _, id := range []string{"g-create", "slow-a", "slow-b", "g-after"} {
		if e := r.Steps[id]; e == nil || e.Count != together.Count || e.Errors != 0 {
			t.Errorf("step %s: %+v, want %d calls without errors", id, e, together.Count)
		}
	}
	if e := r.Steps["slow-a"]; e.P50MS < 300 {
		t.Errorf("slow-a p50 %.1fms, below the tool's delay", e.P50MS)
	}
	if r.Steps["both"] != nil || r.Steps["half"] != nil {
		t.Errorf("a group has figures of its own: %v", r.Steps)
	}
	if broken.Errors != broken.Count || broken.ByKind[KindToolError] != broken.Count {
		t.Errorf("broken: %d errors of %d, %v", broken.Errors, broken.Count, broken.ByKind)
	}
	if e := r.Steps["half-fails"]; e == nil || e.Errors != broken.Count || e.ByKind[KindToolError] != broken.Count {
		t.Errorf("half-fails: %+v", e)
	}
	if e := r.Steps["half-ok"]; e == nil || e.Count != broken.Count || e.Errors != 0 {
		t.Errorf("half-ok: %+v", e)
	}
	if e := r.Steps["half-after"]; e != nil {
		t.Errorf("the step after a failed group ran: %+v", e)
	}
	if int(r.Run.Count) != len(calls) {
		t.Errorf("run count %d, calls at the mock %d", r.Run.Count, len(calls))
	}
	slow := map[string][]time.Time{}
	for _, c := range calls {
		if c.Tool == "slow" {
			k, _ := c.Arguments["k"].(string)
			slow[k] = append(slow[k], c.Time)
		}
	}
	if len(slow) == 0 {
		t.Fatal("no slow calls at the mock")
	}
	for k, at := range slow {
		if len(at) != 2 {
			t.Errorf("key %s: %d slow calls, want the group's 2", k, len(at))
			continue
		}
		if d := at[1].Sub(at[0]).Abs(); d >= 300*time.Millisecond {
			t.Errorf("key %s: the group's calls arrived %s apart, one after the other", k, d)
		}
	}
}

// rolesWorkload: the reference server refuses a note to anyone but its owner, so a
// group's steps pass only when each runs as its own role's user: the owner reads its
// note while, at the same time, the outsider is refused it.
const rolesWorkload = `name: roles
virtual_users: {count: 3, name_prefix: user-, scope: "tools:call", claims: {tenant_id: tenant-a}}
pre_configuration:
  mock_oauth_servers: [{name: idp, scopes: ["tools:call"], sign_tokens: true}]
sut:
  command: ["{{ .self }}", reference-server, serve, --store, --issuer, "{{ .idp.idp.issuer_url }}", --port, "{{ .sut.port }}"]
  ready: {log: "reference-server listening on"}
workflows:
  - name: private
    roles: [owner, outsider]
    steps:
      - {id: p-create, tool: create_note, args: {text: mine}, expected: {success: true}}
      - id: p-reads
        concurrently:
          - {id: p-outsider-reads, tool: read_note, as_role: outsider, args: {id: "{{ p-create.id }}"},
             expected: {success: false, contains: [not found]}}
          - {id: p-owner-reads, tool: read_note, as_role: owner, args: {id: "{{ p-create.id }}"},
             expected: {success: true, json_path: {text: mine, owner: "{{ .roles.owner }}"}}}
      - {id: p-delete, tool: delete_note, args: {id: "{{ p-create.id }}"}, expected: {success: true}}
`

// TestWorkflowGroupStepsRunAsTheirRoles: each step of a group runs with its role's user,
// session and token.
func TestWorkflowGroupStepsRunAsTheirRoles(t *testing.T) {
	o := options(parseWorkload(t, rolesWorkload))
	o.Duration = time.Second
	r, _, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	flows := r.Workflows["private"]
	if flows == nil || flows.Count == 0 || r.Run.Errors != 0 {
		t.Fatalf("workflows %+v, %d errors %v", flows, r.Run.Errors, r.Run.ByKind)
	}
	for _, id := range []string{"p-outsider-reads", "p-owner-reads", "p-delete"} {
		if e := r.Steps[id]; e == nil || e.Count != flows.Count {
			t.Errorf("step %s: %+v, want %d calls", id, e, flows.Count)
		}
	}
}
