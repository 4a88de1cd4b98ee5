// Package idpcmd is the `muster-test mock-idp` command: one mock IdP on 127.0.0.1 that
// runs until its context ends (the caller ties that to SIGINT/SIGTERM).
package idpcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/muster-test/muster-test/mocks/idp"
)

// Exit codes of Run.
const (
	ExitOK    = 0 // stopped by the context (a signal)
	ExitStart = 1 // the server could not start, e.g. the port is taken
	ExitUsage = 2 // bad usage or configuration
)

// Decode reads a --config file's settings. Its error is printed as it is: it may hold
// several lines (one per problem, each with its file:line:col).
type Decode func(file string, data []byte) (idp.Config, error)

// Run parses `--port N [--config FILE]`, starts the IdP, prints its issuer and endpoints on
// stdout and serves until ctx ends. The file is read with idp.ConfigFromYAML.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return RunWith(ctx, args, stdout, stderr, func(file string, data []byte) (idp.Config, error) {
		cfg, err := idp.ConfigFromYAML(data)
		if err != nil {
			return cfg, fmt.Errorf("%s: %w", file, err)
		}
		return cfg, nil
	})
}

// RunWith is Run with the --config file read by decode: muster-test's command reads it
// with the scenario loader, for the diagnostics a scenario file gets.
func RunWith(ctx context.Context, args []string, stdout, stderr io.Writer, decode Decode) int {
	fs := flag.NewFlagSet("mock-idp", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // help and errors are printed below, each to its stream
	port := fs.Int("port", 0, "TCP port on 127.0.0.1 (0 picks a free one)")
	configFile := fs.String("config", "", "YAML file with the keys of one mock_oauth_servers entry")
	usage := func(w io.Writer) {
		fmt.Fprintln(w, "usage: muster-test mock-idp --port N [--config FILE]")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout) // asked for: on stdout, to be piped
			return ExitOK
		}
		fmt.Fprintf(stderr, "mock-idp: %v (see muster-test mock-idp --help)\n", err)
		return ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mock-idp: unexpected argument %q (see muster-test mock-idp --help)\n", fs.Arg(0))
		return ExitUsage
	}
	if *port < 0 || *port > 65535 {
		fmt.Fprintf(stderr, "mock-idp: --port %d out of range\n", *port)
		return ExitUsage
	}
	var cfg idp.Config
	if *configFile != "" {
		data, err := os.ReadFile(*configFile)
		if err != nil {
			fmt.Fprintf(stderr, "mock-idp: %v\n", err)
			return ExitUsage
		}
		if cfg, err = decode(*configFile, data); err != nil {
			fmt.Fprintf(stderr, "mock-idp: %v\n", err)
			return ExitUsage
		}
	}
	cfg.Port = *port

	s, err := idp.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "mock-idp: %v\n", err)
		return ExitStart
	}
	defer s.Close()
	printEndpoints(stdout, s, cfg.Name)
	<-ctx.Done()
	return ExitOK
}

func printEndpoints(w io.Writer, s *idp.Server, name string) {
	base := s.URL()
	fmt.Fprintf(w, "mock IdP %q listening on 127.0.0.1:%d\n", name, s.Port())
	fmt.Fprintf(w, "%-15s %s\n", "issuer:", s.Issuer())
	for _, e := range [][2]string{
		{"metadata", "/.well-known/oauth-authorization-server"}, {"openid", "/.well-known/openid-configuration"},
		{"authorize", "/authorize"}, {"token", "/token"}, {"introspect", "/introspect"}, {"revoke", "/revoke"},
		{"register", "/register"}, {"userinfo", "/userinfo"}, {"jwks", "/jwks"},
	} {
		fmt.Fprintf(w, "%-15s %s%s\n", e[0]+":", base, e[1])
	}
	fmt.Fprintf(w, "%-15s %s\n", "client_id:", s.ClientID())
	if pem := s.CACertPEM(); pem != nil {
		fmt.Fprintf(w, "CA certificate:\n%s", pem)
	}
}
