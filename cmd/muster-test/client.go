package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/muster-test/muster-test/internal/oauthclient"
	"github.com/muster-test/muster-test/internal/runner"
	"github.com/muster-test/muster-test/internal/sut"
	"github.com/muster-test/muster-test/scenario"
)

const clientUsage = `muster-test client: the runner's OAuth client as a one-shot command.

Usage:
  muster-test client URL [flags]

Discovers the MCP server's authorization server (RFC 9728, RFC 8414), registers (a
pre-registered client, a client ID metadata document served on 127.0.0.1, or dynamic
registration), logs in headlessly (authorization code + PKCE S256 + RFC 8707 resource),
opens an MCP session, lists the tools and, with --call, calls one. When
MCP_CONFORMANCE_CONTEXT holds JSON with client_id (and client_secret), that pre-registered
client is used unless --client-id is given.

Exit codes: 0 success, 1 a failed discovery, login, session or call (a tool error
included), 2 usage error, 130/143 interrupted.

Flags:
`

// keyValues is a repeatable NAME=VALUE flag.
type keyValues map[string]string

func (k keyValues) String() string { return fmt.Sprint(map[string]string(k)) }
func (k keyValues) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("%q: want NAME=VALUE", v)
	}
	k[name] = value
	return nil
}

type clientOptions struct {
	cfg      oauthclient.Config
	url      string
	call     string
	args     map[string]any
	debug    bool
	timeout  time.Duration
	showJSON bool
}

// parseClientArgs parses the client's command line; --help prints its usage on stdout and
// returns flag.ErrHelp.
func parseClientArgs(args []string, stdout io.Writer) (*clientOptions, error) {
	o := &clientOptions{}
	fs := flag.NewFlagSet("muster-test client", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	creds, params := keyValues{}, keyValues{}
	var argsJSON, caFile string
	fs.StringVar(&o.cfg.ClientID, "client-id", "", "pre-registered client id")
	fs.StringVar(&o.cfg.ClientSecret, "client-secret", "", "pre-registered client secret (empty: a public client)")
	fs.StringVar(&o.cfg.Registration, "registration", "", "force preregistered, cimd or dcr (default: pre-registered if --client-id, else CIMD if supported, else DCR)")
	fs.StringVar(&o.cfg.ClientMetadataURL, "client-metadata-url", "", "a published client ID metadata document URL to use as client_id under CIMD")
	fs.StringVar(&o.cfg.Scope, "scope", "", "scopes to request, space-separated (default: the challenge's, else the PRM's scopes_supported)")
	fs.StringVar(&o.cfg.User.Subject, "user", "", "the subject to log in as (login_hint; fills subject/username fields of a login form)")
	fs.Var(creds, "credential", "login form field NAME=VALUE (repeatable), e.g. --credential password=...")
	fs.Var(params, "param", "extra authorization request parameter NAME=VALUE (repeatable): a URL-parameter login shortcut")
	fs.StringVar(&o.cfg.Protocol, "protocol", "", "pin the MCP protocol revision ("+strings.Join(scenario.ProtocolVersions, ", ")+"); default: negotiate")
	fs.StringVar(&caFile, "ca-file", "", "PEM file of CAs to trust besides the system's, for a server (or authorization server) on https")
	fs.StringVar(&o.call, "call", "", "call this tool after listing")
	fs.StringVar(&argsJSON, "args", "{}", "the tool's arguments as a JSON object")
	fs.BoolVar(&o.debug, "debug", false, "print every phase (requests, statuses, timings; secrets shortened) to stderr")
	fs.BoolVar(&o.showJSON, "json", false, "print the login result (discovery documents, phases, claims) as JSON")
	fs.DurationVar(&o.timeout, "timeout", 2*time.Minute, "time limit for the whole command")
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printUsage(stdout, clientUsage, fs)
			}
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(positional) != 1 {
		return nil, fmt.Errorf("want exactly one server URL, got %d arguments", len(positional))
	}
	o.url = positional[0]
	if err := scenario.CheckProtocol(o.cfg.Protocol); err != nil {
		return nil, fmt.Errorf("--protocol: %w", err)
	}
	if caFile != "" {
		tlsCfg, err := sut.TLSConfig(caFile)
		if err != nil {
			return nil, fmt.Errorf("--ca-file: %w", err)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tlsCfg
		o.cfg.HTTPClient = &http.Client{Transport: tr}
	}
	if err := json.Unmarshal([]byte(argsJSON), &o.args); err != nil || o.args == nil {
		return nil, fmt.Errorf("--args %q: not a JSON object", argsJSON)
	}
	if len(creds) > 0 {
		o.cfg.User.Credentials = creds
	}
	if len(params) > 0 {
		o.cfg.User.Params = params
	}
	if ctx := os.Getenv("MCP_CONFORMANCE_CONTEXT"); ctx != "" && o.cfg.ClientID == "" {
		var c struct {
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
		}
		if err := json.Unmarshal([]byte(ctx), &c); err != nil {
			return nil, fmt.Errorf("MCP_CONFORMANCE_CONTEXT: %w", err)
		}
		o.cfg.ClientID, o.cfg.ClientSecret = c.ClientID, c.ClientSecret
	}
	return o, nil
}

// runClient is `muster-test client URL [flags]`.
func runClient(args []string, stdout, stderr io.Writer) int {
	o, err := parseClientArgs(args, stdout)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return runner.ExitOK
		}
		fmt.Fprintln(stderr, "muster-test client:", err)
		return runner.ExitUsage
	}
	out := stoppable(stdout)
	ctx, stop := interruptible(out)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	code := clientMain(ctx, o, out, stderr)
	var intr *runner.Interrupt
	if errors.As(context.Cause(ctx), &intr) {
		return intr.Code
	}
	return code
}

func clientMain(ctx context.Context, o *clientOptions, stdout, stderr io.Writer) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "muster-test client: "+format+"\n", a...)
		return runner.ExitFailed
	}
	if o.debug {
		o.cfg.OnPhase = func(p oauthclient.Phase) { fmt.Fprintln(stderr, "phase:", p) }
	}
	c, err := oauthclient.New(o.cfg)
	if err != nil {
		fmt.Fprintln(stderr, "muster-test client:", err)
		return runner.ExitUsage
	}
	defer c.Close()

	res, err := c.Login(ctx, o.url)
	printProblems(stderr, res)
	switch {
	case err == nil:
		reg := res.Registration
		fmt.Fprintf(stdout, "logged in: %s client %s (%s), scope %q, token expires %s\n", reg.Method, reg.ClientID,
			reg.AuthMethod, res.Scope, expiry(res.ExpiresAt))
	case publicServer(res):
		fmt.Fprintf(stdout, "no login: the server answered %d without a token and publishes no protected resource metadata\n", res.Discovery.Status)
	default:
		return fail("login: %v", err)
	}
	if o.showJSON {
		b, _ := json.MarshalIndent(res, "", "  ")
		fmt.Fprintln(stdout, string(b))
	}

	s, err := c.Connect(ctx, o.url)
	if err != nil {
		return fail("session: %v", err)
	}
	defer s.Close()
	sid := s.SessionID
	if sid == "" {
		sid = "none (stateless)"
	}
	fmt.Fprintf(stdout, "session: protocol %s, session id %s, server %s %s\n", s.Protocol, sid, s.Server.Name, s.Server.Version)
	tools, err := s.ListTools(ctx)
	if err != nil {
		return fail("%v", err)
	}
	names := make([]string, len(tools))
	for i, t := range tools {
		names[i] = t.Name
	}
	fmt.Fprintf(stdout, "tools (%d): %s\n", len(tools), strings.Join(names, ", "))
	if o.call == "" {
		return runner.ExitOK
	}
	out, err := s.CallTool(ctx, o.call, o.args)
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprintf(stdout, "call %s: %s\n", o.call, resultText(out))
	if out.IsError {
		return fail("tool %s answered an error", o.call)
	}
	return runner.ExitOK
}

// publicServer: the server answered the unauthenticated request and names no
// authorization server, so the session goes without a token (a later 401 still logs in).
func publicServer(res *oauthclient.Result) bool {
	d := res.Discovery
	return d != nil && d.Status >= 200 && d.Status < 300 && d.PRM == nil
}

func printProblems(w io.Writer, res *oauthclient.Result) {
	if res == nil || res.Discovery == nil {
		return
	}
	for _, p := range res.Discovery.Problems {
		kind := "warning"
		if p.Fatal {
			kind = "fatal"
		}
		fmt.Fprintf(w, "discovery %s: %s: %s\n", kind, p.Code, p.Message)
	}
}

func expiry(t time.Time) string {
	if t.IsZero() {
		return "never (no expires_in)"
	}
	return "in " + time.Until(t).Round(time.Second).String()
}

func resultText(r *mcp.CallToolResult) string {
	var parts []string
	for _, c := range r.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			parts = append(parts, tc.Text)
			continue
		}
		b, _ := json.Marshal(c)
		parts = append(parts, string(b))
	}
	return strings.Join(parts, "\n")
}
