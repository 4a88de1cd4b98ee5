package refserver

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os/signal"
	"strings"
	"syscall"

	jose "github.com/go-jose/go-jose/v3"
)

const usage = `usage: muster-test reference-server serve (--issuer URL | --with-as) [flags]

An MCP resource server (streamable HTTP on http://127.0.0.1:PORT/mcp, or https with
--tls-self-signed) that trusts one mock IdP, with per-tenant tools, a scope-gated admin
tool and an audit log; with --store, notes and files that users share with each other.
It speaks MCP 2026-07-28 (stateless), 2025-11-25 and 2025-06-18.

Flags:
`

// Main runs `serve [flags]` (the arguments after `muster-test reference-server`) until
// SIGINT or SIGTERM and returns the exit code: 0 after a signal, 1 when the server cannot
// start, 2 for a usage error, an unknown fault or a bad config file. mount makes the
// authorization server of --with-as; nil refuses --with-as (a usage error).
func Main(args []string, stdout, stderr io.Writer, mount MountAS) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, stdout, stderr, mount)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, mount MountAS) int {
	if len(args) == 0 || args[0] != "serve" {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cfg, debug, err := parseFlags(args[1:], stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		if err.Error() != "" {
			fmt.Fprintln(stderr, "reference-server:", err)
		}
		return 2
	}
	if cfg.WithAS && mount == nil {
		fmt.Fprintln(stderr, "reference-server: --with-as: this binary mounts no IdP; muster-test's does")
		return 2
	}
	cfg.MountAS = mount
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	s, err := Start(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "reference-server:", err)
		return 1
	}
	fmt.Fprintf(stdout, "reference-server listening on %s\n", s.URL())
	fmt.Fprintf(stdout, "protected resource metadata: %s\n", s.PRMURL())
	fmt.Fprintf(stdout, "trusted issuer: %s\n", s.Issuer())
	<-ctx.Done()
	if err := s.Close(); err != nil {
		fmt.Fprintln(stderr, "reference-server: close:", err)
	}
	return 0
}

// MountsAS reports whether Main's arguments (`serve [flags]`) ask for --with-as: false
// for other command lines and for those that do not parse, whose error any binary prints
// alike.
func MountsAS(args []string) bool {
	if len(args) == 0 || args[0] != "serve" {
		return false
	}
	cfg, _, err := parseFlags(args[1:], io.Discard, io.Discard)
	return err == nil && cfg.WithAS
}

// parseFlags returns the configuration; a usage error was already printed when its text
// is empty. --help prints the usage on stdout.
func parseFlags(args []string, stdout, stderr io.Writer) (Config, bool, error) {
	var cfg Config
	fs := flag.NewFlagSet("reference-server serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // help and errors are printed below, each to its stream
	fs.IntVar(&cfg.Port, "port", 0, "TCP port on 127.0.0.1 (0 picks a free one)")
	fs.StringVar(&cfg.Issuer, "issuer", "", "issuer URL of the mock IdP to trust (its metadata names the JWKS and introspection endpoint)")
	fs.BoolVar(&cfg.WithAS, "with-as", false, "mount a mock IdP on the same origin: one process is authorization and resource server")
	fs.StringVar(&cfg.SigningAlgorithm, "signing-alg", "", "with --with-as: the mounted IdP's token signatures, ES256 (default) or RS256")
	jwks := fs.Bool("jwks", false, "validate JWT access tokens with the issuer's JWKS (the default)")
	fs.BoolVar(&cfg.Introspect, "introspect", false, "validate tokens by RFC 7662 introspection at the issuer")
	fs.StringVar(&cfg.Context, "context", ContextToken, "where the user's context (the tenant claim) comes from: token (its claims) or userinfo (the issuer's userinfo endpoint, kept per user; --issuer only)")
	fs.StringVar(&cfg.Clock, "clock", ClockLocal, "with --issuer: the clock token lifetimes, --context-ttl and upstream tokens are judged on: local (the server's) or issuer (the issuer's, read from the Date header of a HEAD of its metadata whenever the server needs the time, so that advancing a mock IdP's clock moves it; a request per use)")
	fs.DurationVar(&cfg.ContextTTL, "context-ttl", DefaultContextTTL, "with --introspect or --context userinfo: reuse an introspection answer (per token) or a userinfo answer (per user) this long (a revoked token is served until then); 0 asks on every request")
	fs.StringVar(&cfg.UpstreamIssuer, "upstream-issuer", "", "serve the upstream_* tools: hold a token per user at this IdP, by RFC 8693 exchange of the caller's token (the server registers a client there)")
	fs.DurationVar(&cfg.UpstreamWait, "upstream-wait", DefaultUpstreamWait, "with --upstream-issuer: how long a call waits for the user's upstream token; a slower exchange goes on for the next call")
	fs.BoolVar(&cfg.Store, "store", false, "serve the store tools: notes ("+strings.Join(NoteTools, ", ")+
		") and files ("+strings.Join(FileTools, ", ")+") that each user (the token's subject) keeps in memory and shares "+
		"with other users by subject, to read or to edit; a note is written at the version it was read at, else refused as a version conflict")
	fs.StringVar(&cfg.ClientID, "client-id", "", "with --issuer --introspect: client that authenticates introspection (default: register one by RFC 7591)")
	fs.StringVar(&cfg.ClientSecret, "client-secret", "", "secret of --client-id")
	config := fs.String("config", "", "policy file (YAML or JSON): tenants and their tools, scopes, users of --with-as")
	fs.StringVar(&cfg.AuditFile, "audit", "", "append one JSON line per tools/call (allowed or denied) to this file")
	fs.BoolVar(&cfg.SelfSignedTLS, "tls-self-signed", false, "serve https with a certificate for 127.0.0.1 and localhost signed by a CA made at start")
	fs.StringVar(&cfg.WriteCA, "write-ca", "", "with --tls-self-signed: write that CA's PEM to this file before listening (for a client to trust)")
	debug := fs.Bool("debug", false, "log every request and decision")
	cfg.Faults = Faults{}
	fs.Func("fault", "TEST ONLY: misbehave in one named way (repeatable): "+faultList(), func(v string) error {
		f, err := ParseFault(v)
		if err == nil {
			cfg.Faults[f] = true
		}
		return err
	})
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return cfg, false, err
		}
		fmt.Fprintln(stderr, "reference-server:", err)
		fs.SetOutput(stderr)
		fs.Usage()
		return cfg, false, errors.New("")
	}
	switch {
	case fs.NArg() > 0:
		return cfg, false, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	case (cfg.Issuer == "") == !cfg.WithAS:
		return cfg, false, errors.New("give exactly one of --issuer URL and --with-as")
	case *jwks && cfg.Introspect:
		return cfg, false, errors.New("--jwks and --introspect exclude each other")
	case cfg.SigningAlgorithm != "" && !cfg.WithAS:
		return cfg, false, errors.New("--signing-alg is for --with-as; with --issuer the trusted IdP signs")
	case cfg.SigningAlgorithm != "" && cfg.SigningAlgorithm != string(jose.ES256) && cfg.SigningAlgorithm != string(jose.RS256):
		return cfg, false, fmt.Errorf("signing algorithm %q: want %s or %s", cfg.SigningAlgorithm, jose.ES256, jose.RS256)
	case cfg.Context != ContextToken && cfg.Context != ContextUserInfo:
		return cfg, false, fmt.Errorf("--context %q: want %s or %s", cfg.Context, ContextToken, ContextUserInfo)
	case cfg.Context == ContextUserInfo && cfg.WithAS:
		return cfg, false, errors.New("--context userinfo is for --issuer: with --with-as the tokens carry the context")
	case cfg.Clock != ClockLocal && cfg.Clock != ClockIssuer:
		return cfg, false, fmt.Errorf("--clock %q: want %s or %s", cfg.Clock, ClockLocal, ClockIssuer)
	case cfg.Clock == ClockIssuer && cfg.WithAS:
		return cfg, false, errors.New("--clock issuer is for --issuer: with --with-as the mounted IdP's clock is the server's")
	case cfg.UpstreamWait <= 0:
		return cfg, false, fmt.Errorf("--upstream-wait %s: want a positive duration", cfg.UpstreamWait)
	case cfg.ContextTTL < 0:
		return cfg, false, fmt.Errorf("--context-ttl %s: want 0 or a positive duration", cfg.ContextTTL)
	case cfg.WriteCA != "" && !cfg.SelfSignedTLS:
		return cfg, false, errors.New("--write-ca needs --tls-self-signed")
	case cfg.WithAS && (cfg.ClientID != "" || cfg.ClientSecret != ""):
		return cfg, false, errors.New("--client-id and --client-secret are for --issuer; with --with-as set client_id in --config")
	}
	if *config != "" {
		p, err := LoadPolicy(*config)
		if err != nil {
			return cfg, false, err
		}
		cfg.Policy = p
	}
	return cfg, *debug, nil
}
