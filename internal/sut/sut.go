// Package sut launches and watches the system under test: it writes the SUT's
// configuration so it points at the scenario's mocks, starts it as a subprocess in its own
// process group, waits until it is ready without fixed sleeps, opens MCP sessions to it,
// and tears it down. It knows the mocks only through the URLs and commands in a Spec.
package sut

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/muster-test/muster-test/internal/mcpclient"
)

// Upstream is one MCP server of the SUT's configuration.
type Upstream struct {
	Name string
	// Spec is the MCPServer spec written for the SUT (type, url or command/args, ...).
	Spec map[string]any
	// Tools are the mock's tool names; nil for a real server definition the runner cannot
	// predict, which readiness then does not wait for.
	Tools []string
	// Protected means the SUT must show the server's authenticate tool instead of its tools.
	Protected bool
}

// Spec is what a scenario asks of its SUT.
type Spec struct {
	Dir       string // the scenario's temp dir; the driver writes below it
	Upstreams []Upstream
	OAuth     bool   // the scenario has mock IdPs: switch the SUT's OAuth proxy on
	CAFile    string // PEM file of CAs the SUT must trust (mock IdPs with TLS)
	// Env is KEY=VALUE added to the environment of the SUT process the driver starts (a
	// DirectSpec's own Env comes after it, and wins).
	Env            []string
	Workflows      namedConfigs
	Services       namedConfigs
	ServiceClasses []map[string]any
	MainConfig     map[string]any
	Debug          bool
	// Trace receives the MCP traffic of every session (nil: none kept).
	Trace func(string)
	// Record wraps the transport of every session the runner opens without a transport of
	// its own (nil: none recorded).
	Record       func(http.RoundTripper) http.RoundTripper
	ReadyTimeout time.Duration
	// Protocol pins the MCP protocol revision of every session to the SUT ("" negotiates).
	Protocol string
	// Direct, when set, is a SUT of any kind from a scenario's sut block (Direct driver).
	Direct *DirectSpec
	// Spares, when set, has processes of the SUT's binary started ahead of need (nil: each
	// start execs afresh).
	Spares *Spares
	// Gateway, when set, makes a muster-shaped SUT protect its own endpoint
	// (aggregator.oauth.server): every session, readiness's included, needs a token.
	Gateway *GatewayAuth
}

// GatewayAuth is the IdP a SUT's own endpoint trusts (a mock IdP with
// use_as_muster_oauth_server), and how the runner's sessions log in through it.
type GatewayAuth struct {
	Issuer   string
	ClientID string // the IdP's pre-registered client
	// Login logs subject in to the SUT at endpoint ("" for the IdP's default user) and
	// returns a transport whose requests carry the token, and what releases the login
	// once its sessions are closed.
	Login func(ctx context.Context, endpoint, subject string) (http.RoundTripper, func(), error)
}

// Driver starts one kind of SUT. Every driver starts a Spec with Direct set (a scenario's
// own SUT) through the Direct driver.
type Driver interface {
	// Describe names the SUT and its binary for the run's first line.
	Describe() string
	Start(ctx context.Context, spec *Spec) (*Instance, error)
}

// ServeDriver drives muster's `serve --config-path DIR` contract: real muster, or the reference
// SUT through `muster-test reference-sut`.
type ServeDriver struct {
	Label   string   // e.g. "muster" or "builtin reference SUT"
	Command []string // binary and the words before `serve`
	Args    []string // appended after muster's own arguments (--sut-args)
	// RestartStalled restarts a start that answers MCP but does not show every configured
	// server within the settle window. It works around muster af5d3ca1's start-up race
	// (see settleWindow) and is off for the reference SUT, whose start-up bugs must fail
	// the scenario rather than be retried away.
	RestartStalled bool
}

// Describe implements Driver.
func (m *ServeDriver) Describe() string {
	return fmt.Sprintf("%s (%s)", m.Label, strings.Join(m.Command, " "))
}

// startAttempts bounds the SUT starts of one scenario. A start is retried when another
// process took the SUT's port between our probe and the SUT's bind (muster then exits 0, so
// its log decides), and when the SUT answers but does not settle within settleWindow.
const startAttempts = 3

// Start writes the config, starts the SUT and waits until every configured server has
// settled. A SUT that exits or stalls before that is an error carrying its log tail. All
// attempts together take at most the spec's ready timeout; the last one may use all of
// the time left.
func (m *ServeDriver) Start(ctx context.Context, spec *Spec) (*Instance, error) {
	if spec.Direct != nil {
		return Direct{}.Start(ctx, spec) // a scenario with its own SUT (sut block)
	}
	readyDeadline := time.Now().Add(spec.readyTimeout())
	ctx, cancel := context.WithDeadline(ctx, readyDeadline)
	defer cancel()
	var lastErr error
	note := ""
	var notes []string
	for attempt := 1; attempt <= startAttempts; attempt++ {
		settle := settleWindow
		if attempt == startAttempts || !m.RestartStalled {
			settle = 0
		}
		inst, err := m.startOnce(ctx, spec, settle, note, readyDeadline)
		if err == nil {
			inst.notes = notes
			return inst, nil
		}
		lastErr = err
		if ctx.Err() != nil || !(errors.Is(err, ErrPortTaken) || errors.Is(err, errStalled)) {
			break
		}
		why := strings.SplitN(err.Error(), "\n", 2)[0]
		note = fmt.Sprintf("--- muster-test: start %d of the SUT failed, starting it again: %s ---\n", attempt, why)
		notes = append(notes, fmt.Sprintf("SUT start %d failed and was retried: %s", attempt, why))
	}
	return nil, lastErr
}

// ErrPortTaken is a start that failed because another process took the SUT's port
// between the runner's pick and the SUT's bind; a new start on a new port may succeed.
var ErrPortTaken = errors.New("the SUT's port was taken by another process")

// startOnce starts one SUT process. note, when set, is written at the head of its log so
// an earlier failed start stays visible.
func (m *ServeDriver) startOnce(ctx context.Context, spec *Spec, settle time.Duration, note string, readyDeadline time.Time) (*Instance, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	cfgDir := filepath.Join(spec.Dir, "muster")
	// A fresh directory per start: muster writes events/ into it and watches it.
	if err := os.RemoveAll(cfgDir); err != nil {
		return nil, fmt.Errorf("write SUT config: %w", err)
	}
	musterPrefix, err := writeMusterConfig(cfgDir, port, spec)
	if err != nil {
		return nil, fmt.Errorf("write SUT config: %w", err)
	}
	argv := slices.Concat(m.Command, []string{"serve", "--config-path", cfgDir}, m.Args)
	if spec.Debug {
		argv = slices.Insert(argv, len(m.Command)+3, "--debug")
	}
	env := slices.Clone(spec.Env)
	if spec.CAFile != "" {
		// muster has no CA flag; Go's TLS stack reads this variable.
		env = append(env, "SSL_CERT_FILE="+spec.CAFile)
	}
	inst := &Instance{
		Endpoint:      fmt.Sprintf("http://127.0.0.1:%d/mcp", port),
		PublicURL:     fmt.Sprintf("http://localhost:%d", port),
		spec:          spec,
		musterPrefix:  musterPrefix,
		started:       time.Now(),
		readyDeadline: readyDeadline,
	}
	inst.proc, err = startProcess(argv, env, spec.Dir, filepath.Join(spec.Dir, "sut.log"), note, spec.Spares)
	if err != nil {
		return nil, err
	}
	if err := inst.waitReady(ctx, settle); err != nil {
		inst.Stop()
		if strings.Contains(inst.proc.log.String(), "address already in use") {
			return nil, fmt.Errorf("%w: %v", ErrPortTaken, err)
		}
		return nil, err
	}
	return inst, nil
}

// FreePort asks the OS for a free loopback port. The SUT binds it moments later; Start
// retries on the rare lost race.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Instance is a running SUT.
type Instance struct {
	Endpoint  string // MCP endpoint the runner connects to
	PublicURL string // the SUT's public base URL (OAuth callback, client metadata)

	spec          *Spec
	musterPrefix  string    // in front of every upstream tool name
	notes         []string  // earlier failed starts of this scenario's SUT
	readyDeadline time.Time // when --ready-timeout ends for this scenario's starts
	proc          *process
	tls           *tls.Config // trust of the SUT's ca_file (nil: Go's defaults)
	started       time.Time
	StartDur      time.Duration // exec until the first MCP initialize answered
	ReadyDur      time.Duration // first answer until every server settled
}

// Connect opens an MCP session to the SUT. opts.Trace and opts.Protocol default to the
// spec's, opts.TLS to the trust of the SUT's ca_file.
func (i *Instance) Connect(ctx context.Context, opts mcpclient.Options) (*mcpclient.Session, error) {
	if opts.Trace == nil {
		opts.Trace = i.spec.Trace
	}
	if opts.Record == nil {
		opts.Record = i.spec.Record
	}
	if opts.Protocol == "" {
		opts.Protocol = i.spec.Protocol
	}
	if opts.TLS == nil {
		opts.TLS = i.tls
	}
	s, err := mcpclient.Connect(ctx, i.Endpoint, opts)
	return s, ExplainTLS(err)
}

// Protocol is the MCP protocol revision pinned for the SUT ("" when negotiated).
func (i *Instance) Protocol() string { return i.spec.Protocol }

// CAFile is the PEM file of the CAs the SUT's certificate is trusted by ("" for none).
func (i *Instance) CAFile() string {
	if i.spec.Direct == nil {
		return ""
	}
	return i.spec.Direct.CAFile
}

// Gateway is how the SUT protects its own endpoint; nil when it does not.
func (i *Instance) Gateway() *GatewayAuth { return i.spec.Gateway }

// Fault says why the SUT can no longer answer: it exited. nil while it runs, and always
// for a server the runner did not start.
func (i *Instance) Fault() error {
	if i.proc == nil || !i.proc.exited() {
		return nil
	}
	return fmt.Errorf("SUT %s\n--- last lines of the SUT log ---\n%s", i.proc.exitDescription(), i.LogTail(20))
}

// FaultWithin waits up to d for the SUT to have exited and returns Fault. A call that
// failed because the SUT died may see the broken connection before the runner has reaped
// the process; this lets it report the death rather than the symptom.
func (i *Instance) FaultWithin(d time.Duration) error {
	if i.proc == nil {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-i.proc.done:
	case <-t.C:
	}
	return i.Fault()
}

// readyLineRE finds the readiness line muster (and the reference SUT) log once listening,
// with its slog timestamp.
var readyLineRE = regexp.MustCompile(`time=(\S+) .*Started aggregator manager on`)

// ListenDur is the SUT's own start-to-listen time: from exec to the timestamp of its
// readiness log line (0 when it logged none). Benchmarks subtract it from the runner's
// overhead, since no runner can make a SUT start faster.
func (i *Instance) ListenDur() time.Duration {
	if i.proc == nil {
		return 0
	}
	m := readyLineRE.FindStringSubmatch(i.proc.log.String())
	if m == nil {
		return 0
	}
	at, err := time.Parse(time.RFC3339Nano, m[1])
	if err != nil || at.Before(i.started.Truncate(time.Millisecond)) {
		return 0
	}
	return at.Sub(i.started)
}

// FromSpare reports whether a spare started ahead of need took the SUT's start (see
// Spares), for tests and benchmarks; a scenario cannot tell.
func (i *Instance) FromSpare() bool { return i.proc != nil && i.proc.spare }

// Notes says what went wrong in earlier starts that were retried (none normally); a retried
// start is reported even when the scenario passes, so a flaky SUT start is not hidden.
func (i *Instance) Notes() []string { return i.notes }

// ToolName is the name under which this SUT exposes tool of the upstream whose tool prefix
// (toolPrefix, else the server's name) is serverPrefix.
func (i *Instance) ToolName(serverPrefix, tool string) string {
	return ExposedName(i.musterPrefix, serverPrefix, tool)
}

// Log is the SUT's output so far (its last 256 KiB); "" for a server the runner did not
// start.
func (i *Instance) Log() string {
	if i.proc == nil {
		return ""
	}
	return i.proc.log.String()
}

// LogTail is the last n lines of the SUT's output.
func (i *Instance) LogTail(n int) string {
	if i.proc == nil {
		return ""
	}
	return i.proc.log.tail(n)
}

// Stop ends the SUT, its process group and what it started, and waits until it is gone. A
// server the runner did not start is left alone.
func (i *Instance) Stop() { i.StopBy(time.Now().Add(stopGrace)) }

// StopBy is Stop with a deadline for the SUT's exit on SIGTERM. killed says the SUT was
// still running at the deadline and was killed; notes are for the scenario's result, on
// processes it left outside its group that had to be killed.
func (i *Instance) StopBy(deadline time.Time) (killed bool, notes []string) {
	if i.proc == nil {
		return false, nil
	}
	return i.proc.stop(deadline)
}
