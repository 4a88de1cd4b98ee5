package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/muster-test/muster-test/mocks/idp"
)

// runMockIDP runs one mock IdP on 127.0.0.1 until SIGINT or SIGTERM.
// Exit codes: 0 after a signal, 1 if the server cannot start, 2 for bad usage or config.
func runMockIDP(args []string) int {
	return mockIDPMain(args, os.Stdout, os.Stderr)
}

func mockIDPMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mock-idp", flag.ContinueOnError)
	fs.SetOutput(stderr)
	port := fs.Int("port", 0, "TCP port on 127.0.0.1 (0 picks a free one)")
	configFile := fs.String("config", "", "YAML file with the keys of one mock_oauth_servers entry")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: muster-test mock-idp --port N [--config FILE]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "mock-idp: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	var cfg idp.Config
	if *configFile != "" {
		data, err := os.ReadFile(*configFile)
		if err != nil {
			fmt.Fprintf(stderr, "mock-idp: %v\n", err)
			return 2
		}
		if cfg, err = idp.ConfigFromYAML(data); err != nil {
			fmt.Fprintf(stderr, "mock-idp: %s: %v\n", *configFile, err)
			return 2
		}
	}
	if *port < 0 || *port > 65535 {
		fmt.Fprintf(stderr, "mock-idp: --port %d out of range\n", *port)
		return 2
	}
	cfg.Port = *port

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := idp.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "mock-idp: %v\n", err)
		return 1
	}
	defer s.Close()
	iss := s.Issuer()
	fmt.Fprintf(stdout, "mock IdP %q listening on 127.0.0.1:%d\n", cfg.Name, s.Port())
	fmt.Fprintf(stdout, "issuer:        %s\n", iss)
	for _, e := range [][2]string{
		{"metadata", "/.well-known/oauth-authorization-server"}, {"openid", "/.well-known/openid-configuration"},
		{"authorize", "/authorize"}, {"token", "/token"}, {"introspect", "/introspect"}, {"revoke", "/revoke"},
		{"register", "/register"}, {"userinfo", "/userinfo"}, {"jwks", "/jwks"},
	} {
		fmt.Fprintf(stdout, "%-14s %s%s\n", e[0]+":", iss, e[1])
	}
	fmt.Fprintf(stdout, "client:        %s\n", s.ClientID())
	if pem := s.CACertPEM(); pem != nil {
		fmt.Fprintf(stdout, "CA certificate:\n%s", pem)
	}
	<-ctx.Done()
	return 0
}
