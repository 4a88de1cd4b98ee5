package traffic

import (
	"strings"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// Party names of the mocks: "idp:NAME" and "mcp:NAME" after their pre_configuration
// entries, so that an IdP and a server of the same name stay apart.
func IdPParty(name string) string { return "idp:" + name }
func MCPParty(name string) string { return "mcp:" + name }

// AddIdP adds what the IdP called party answered to callers other than the runner.
func (l *Log) AddIdP(party string, reqs []idp.Request) {
	for _, r := range reqs {
		if IsRunner(r.UserAgent) {
			continue
		}
		var d []string
		if g := GrantDetail(r.Grant); g != "" {
			d = append(d, g)
		}
		if r.Subject != "" {
			d = append(d, "sub="+r.Subject)
		}
		l.Add(event.Exchange{Time: r.Time, Duration: r.Duration, From: event.PartySUT, To: party,
			Method: r.Method, Path: r.Path, Detail: strings.Join(d, " "), Status: r.Status})
	}
}

// AddMCP adds what the mock MCP server called party answered to callers other than the
// runner.
func (l *Log) AddMCP(party string, reqs []mcpserver.Request) {
	for _, r := range reqs {
		if IsRunner(r.UserAgent) {
			continue
		}
		ex := event.Exchange{Time: r.Time, Duration: r.Duration, From: event.PartySUT, To: party,
			Method: r.Method, Path: r.Path, Detail: RPCDetail(r.RPCMethod, r.Tool), Status: r.Status}
		if r.Bearer != "" {
			ex.Bearer = Secret(r.Bearer)
		}
		l.Add(ex)
	}
}

// Attribute ties each exchange to the step that was running when it started (by
// event.StepResult.Key): the one step whose run covers that time; when several do, the
// concurrently group they all belong to, else the one that started last. Start-up and
// teardown traffic keeps Step "".
func Attribute(ex []event.Exchange, steps []event.StepResult) {
	for i := range ex {
		t := ex[i].Time
		var covering []*event.StepResult
		for j := range steps {
			s := &steps[j]
			if s.Tool == event.GroupTool || s.Start.IsZero() || t.Before(s.Start) || t.After(s.Start.Add(s.Duration)) {
				continue
			}
			covering = append(covering, s)
		}
		switch {
		case len(covering) == 0:
			continue
		case len(covering) == 1:
			ex[i].Step = covering[0].Key()
		default:
			ex[i].Step = shared(covering)
		}
	}
}

// shared is the group all of steps ran in, or the key of the one that started last.
func shared(steps []*event.StepResult) string {
	group := steps[0].Group
	last := steps[0]
	for _, s := range steps[1:] {
		if s.Group != group {
			group = ""
		}
		if s.Start.After(last.Start) {
			last = s
		}
	}
	if group != "" {
		return group
	}
	return last.Key()
}
