package runner

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"syscall"

	"github.com/muster-test/muster-test/internal/child"
	"github.com/muster-test/muster-test/internal/env"
	"github.com/muster-test/muster-test/internal/executor"
	"github.com/muster-test/muster-test/internal/sut"
	"github.com/muster-test/muster-test/scenario"
)

// directBlock is the sut block a scenario runs against: its own, with --sut-command and
// --sut-url taking its place; nil for a muster-shaped scenario without either. --sut-args
// are appended to the command it starts, as they are to muster's, so one flag can start
// every scenario's server differently (a mutation test injects its faults that way).
func directBlock(sc *scenario.SUT, o SUTOptions) *scenario.SUT {
	if len(o.Command) == 0 && o.URL == "" && sc == nil {
		return nil
	}
	b := &scenario.SUT{}
	if sc != nil {
		*b = *sc
	}
	if len(o.Command) > 0 || o.URL != "" {
		b.Command, b.URL = o.Command, o.URL
		if len(o.Command) == 0 {
			b.Files, b.Env, b.Ready = nil, nil, nil // nothing is started
		}
	}
	if len(b.Command) > 0 && len(o.Args) > 0 {
		// A new slice: the scenario's own command is shared by every run of it.
		b.Command = append(slices.Clip(b.Command), o.Args...)
	}
	return b
}

var portRef = regexp.MustCompile(`\{\{-?\s*\.ports\.([A-Za-z0-9_-]+)\s*-?\}\}`)

// directSpec resolves a sut block's templates over the scenario's world. It adds the SUT's
// roots to world: sut.port (a free loopback port, when a command is started), sut.url and
// ports.NAME for every port the block names.
func directSpec(b *scenario.SUT, e *env.Env, world map[string]any) (*sut.DirectSpec, error) {
	ports := map[string]any{}
	var texts []string
	texts = append(texts, b.Command...)
	texts = append(texts, b.URL)
	texts = slices.AppendSeq(texts, maps.Values(b.Env))
	texts = slices.AppendSeq(texts, maps.Values(b.Files))
	for _, t := range texts {
		for _, m := range portRef.FindAllStringSubmatch(t, -1) {
			if _, done := ports[m[1]]; !done {
				p, err := sut.FreePort()
				if err != nil {
					return nil, err
				}
				ports[m[1]] = p
			}
		}
	}
	world["ports"] = ports
	self := map[string]any{}
	world["sut"] = self
	if len(b.Command) > 0 {
		p, err := sut.FreePort()
		if err != nil {
			return nil, err
		}
		self["port"] = p
	}
	str := func(s string) (string, error) {
		v, err := executor.ResolveWorld(s, world)
		if err != nil {
			return "", fmt.Errorf("sut: %w", err)
		}
		return fmt.Sprint(v), nil
	}
	d := &sut.DirectSpec{Files: map[string]string{}}
	var err error
	switch {
	case b.URL != "":
		if d.URL, err = str(b.URL); err != nil {
			return nil, err
		}
	case self["port"] != nil:
		d.URL = fmt.Sprintf("http://127.0.0.1:%d/mcp", self["port"])
	}
	self["url"] = d.URL
	// The endpoint's path lets a check send a raw request with a query string to whatever
	// path the server's MCP endpoint has.
	if u, err := url.Parse(d.URL); err == nil {
		self["path"] = u.EscapedPath()
	}
	for _, a := range b.Command {
		w, err := str(a)
		if err != nil {
			return nil, err
		}
		d.Command = append(d.Command, w)
	}
	// muster-test's own reference server ({{ .self }} reference-server serve) runs from the
	// slim child binary when that plays the role alike (no IdP mounted): the same server,
	// without the package init of what muster-test links, which is most of its start.
	if len(d.Command) > 0 && d.Command[0] == world["self"] && child.Serves(d.Command[1:]) {
		d.Command[0] = e.ChildBinary()
	}
	for _, k := range slices.Sorted(maps.Keys(b.Env)) {
		v, err := str(b.Env[k])
		if err != nil {
			return nil, err
		}
		d.Env = append(d.Env, k+"="+v)
	}
	for name, content := range b.Files {
		if d.Files[name], err = str(content); err != nil {
			return nil, err
		}
	}
	if d.CAFile, err = str(b.CAFile); err != nil {
		return nil, err
	}
	if o := b.OnTimeout; o != nil {
		d.OnTimeout = timeoutSignals[o.Signal] // one of them: the loader checked
	}
	if r := b.Ready; r != nil {
		if d.ReadyHTTP, err = str(r.HTTP); err != nil {
			return nil, err
		}
		if r.Log != "" {
			d.ReadyLog = regexp.MustCompile(r.Log) // compiled once already by the loader
		}
	}
	if !strings.HasPrefix(d.URL, "http://") && !strings.HasPrefix(d.URL, "https://") {
		return nil, fmt.Errorf("sut: url %q is not an http(s) URL", d.URL)
	}
	return d, nil
}

// timeoutSignals are scenario.TimeoutSignals by name.
var timeoutSignals = map[string]syscall.Signal{"QUIT": syscall.SIGQUIT, "ABRT": syscall.SIGABRT,
	"USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2, "HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "TERM": syscall.SIGTERM}
