package sut

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"
)

// DirectSpec is a SUT of any kind (direct mode): a command to start, or a server already
// running at URL. Its templates are resolved; the runner is its MCP and OAuth client.
type DirectSpec struct {
	Command []string          // argv; empty for a server that is already running
	Env     []string          // KEY=VALUE, added to the runner's environment
	Files   map[string]string // written into the scenario's temp dir before the start
	URL     string            // the MCP endpoint
	// ReadyHTTP is a path that must answer below 500; ReadyLog a pattern a line of the
	// output must match. Neither: the URL's port accepts connections.
	ReadyHTTP string
	ReadyLog  *regexp.Regexp
	// CAFile is a PEM file of CAs the SUT's certificate is trusted by. A file that does
	// not exist when the command starts is read once the server is ready: it may write it.
	CAFile string
	// OnTimeout is the signal (e.g. syscall.SIGQUIT) SignalOnTimeout sends; 0: none.
	OnTimeout syscall.Signal
}

// Direct drives a DirectSpec: no configuration is written, no tools are awaited.
type Direct struct {
	Label string // for the run's first line; default: the scenarios' own sut blocks
}

// Describe implements Driver.
func (d Direct) Describe() string {
	if d.Label != "" {
		return d.Label
	}
	return "each scenario's own SUT (its sut block)"
}

// Start implements Driver.
func (Direct) Start(ctx context.Context, spec *Spec) (*Instance, error) {
	d := spec.Direct
	if d == nil {
		return nil, fmt.Errorf("direct SUT driver without a sut block")
	}
	u, err := url.Parse(d.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("sut url %q is not an absolute URL", d.URL)
	}
	inst := &Instance{Endpoint: d.URL, PublicURL: u.Scheme + "://" + u.Host, spec: spec, started: time.Now(),
		readyDeadline: time.Now().Add(spec.readyTimeout())}
	if _, err := os.Stat(d.CAFile); d.CAFile != "" && (len(d.Command) == 0 || err == nil) {
		if inst.tls, err = TLSConfig(d.CAFile); err != nil {
			return nil, fmt.Errorf("sut.ca_file: %w", err)
		}
	}
	if len(d.Command) == 0 {
		return inst, nil // a running server: nothing to start or wait for
	}
	for name, content := range d.Files {
		path := filepath.Join(spec.Dir, name)
		if !strings.HasPrefix(path, filepath.Clean(spec.Dir)+string(filepath.Separator)) {
			return nil, fmt.Errorf("sut.files: %q leaves the scenario's temp dir", name)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			return nil, err
		}
	}
	inst.proc, err = startProcess(d.Command, slices.Concat(spec.Env, d.Env), spec.Dir, filepath.Join(spec.Dir, "sut.log"), "", spec.Spares)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithDeadline(ctx, inst.readyDeadline)
	defer cancel()
	if err := inst.waitDirectReady(ctx, d, u); err != nil {
		inst.Stop()
		if strings.Contains(inst.proc.log.String(), "address already in use") {
			// The ports are in the command, which the runner resolved: it retries.
			return nil, fmt.Errorf("%w: %v", ErrPortTaken, err)
		}
		return nil, err
	}
	inst.StartDur = time.Since(inst.started)
	if d.CAFile != "" && inst.tls == nil {
		if inst.tls, err = TLSConfig(d.CAFile); err != nil {
			inst.Stop()
			return nil, fmt.Errorf("sut.ca_file: %w (the file did not exist when the SUT started, and the SUT was ready without it)", err)
		}
	}
	return inst, nil
}

// waitDirectReady polls the readiness condition until it holds, the process exits or ctx
// ends.
func (i *Instance) waitDirectReady(ctx context.Context, d *DirectSpec, u *url.URL) error {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	client := &http.Client{Timeout: time.Second, Transport: ExplainingTransport{tr}}
	defer client.CloseIdleConnections()
	trusted := d.CAFile == ""
	ready := func() (bool, string) {
		switch {
		case d.ReadyLog != nil:
			return d.ReadyLog.MatchString(i.proc.log.String()), "no output line matches " + d.ReadyLog.String()
		case d.ReadyHTTP != "":
			if !trusted {
				// The server may write its CA at its start: until it has, it is not ready.
				cfg, err := TLSConfig(d.CAFile)
				if err != nil {
					return false, "sut.ca_file: " + err.Error()
				}
				tr.TLSClientConfig, trusted = cfg, true
			}
			resp, err := client.Get(u.Scheme + "://" + u.Host + d.ReadyHTTP)
			if err != nil {
				return false, err.Error()
			}
			resp.Body.Close()
			return resp.StatusCode < 500, fmt.Sprintf("GET %s answered %d", d.ReadyHTTP, resp.StatusCode)
		default:
			c, err := net.DialTimeout("tcp", u.Host, time.Second)
			if err != nil {
				return false, err.Error()
			}
			c.Close()
			return true, ""
		}
	}
	poll := readyPollStart
	for {
		ok, detail := ready()
		if ok {
			return nil
		}
		t := time.NewTimer(poll)
		poll = min(poll*2, readyPollMax)
		// Servers tend to say when they listen: any output is worth a look at once, rather
		// than up to a backed-off poll interval later.
		select {
		case <-i.proc.log.wrote:
			t.Stop()
		case <-t.C:
		case <-i.proc.done:
			t.Stop()
			return fmt.Errorf("SUT %s before it was ready\n--- last lines of the SUT log ---\n%s",
				i.proc.exitDescription(), i.LogTail(20))
		case <-ctx.Done():
			t.Stop()
			return i.notReady(ctx, "last check: "+detail)
		}
	}
}
