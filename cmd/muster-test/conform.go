package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/muster-test/muster-test/internal/child"
	"github.com/muster-test/muster-test/internal/conform"
	"github.com/muster-test/muster-test/internal/runner"
	"github.com/muster-test/muster-test/scenario"
)

const conformUsage = `usage: muster-test conform (--sut-url URL | --config FILE | --gateway builtin|muster [--gateway-auth]) [flags]
       muster-test conform --list

Runs the catalogue of MCP authorization checks (each tied to the spec sentence it tests)
against one MCP server and grades it: PASS, FAIL (a MUST not met), WARN (a SHOULD not met),
N/A (with the reason), XFAIL (a failure the --baseline expects).

Exit codes: 0 no MUST failed, 1 a MUST failed or a baseline entry is stale, 2 bad input
(nothing was checked), 130/143 interrupted.

Flags:
`

func runConform(args []string, stdout, stderr io.Writer) int {
	out := stoppable(stdout)
	opts := conform.Options{Stdout: out, Stderr: stderr}
	fs := flag.NewFlagSet("muster-test conform", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var checks multiFlag
	var list bool
	var sutArgs string
	fs.StringVar(&opts.URL, "sut-url", "", "the MCP endpoint of a running server (checks that need a token it trusts are N/A)")
	fs.StringVar(&opts.ConfigFile, "config", "", "a scenario-style file with a sut block and mocks: the server is started for each check and trusts the mock IdP named idp")
	fs.StringVar(&opts.Gateway, "gateway", "", "run the gateway checks against a muster-shaped gateway started for each check: builtin (the reference SUT) or muster")
	fs.BoolVar(&opts.GatewayAuth, "gateway-auth", false, "with --gateway: the gateway authenticates its clients (aggregator.oauth.server, the reference SUT's protected mode): it trusts the checks' mock IdP gateway-idp, and the checks' users log in to it first")
	fs.StringVar(&opts.MusterBinary, "muster-binary", "", "the muster binary for --gateway muster (default: muster on PATH)")
	fs.Var(&checks, "check", "run only this check (repeatable; see --list)")
	fs.BoolVar(&list, "list", false, "print the catalogue: id, level, spec references; run nothing")
	fs.StringVar(&opts.Baseline, "baseline", "", "YAML list of check ids known to fail: their failures are XFAIL; a listed check that passes fails the run")
	fs.StringVar(&opts.WriteBaseline, "write-baseline", "", "write the ids of the checks that fail the run (without a baseline) to this file")
	fs.StringVar(&opts.ReportDir, "report", "", "write the JSON report into this directory")
	fs.StringVar(&opts.JUnitFile, "junit", "", "write a JUnit XML report to this file")
	fs.StringVar(&opts.HTMLFile, "html", "", "write a self-contained HTML report (checks by level with spec links and baseline state, each check's steps and sequence diagram) to this file")
	fs.BoolVar(&opts.NoColor, "no-color", false, "plain output (also when NO_COLOR is set or stdout is not a terminal)")
	fs.BoolVar(&opts.Debug, "debug", false, "keep the MCP traffic and the server's log in the JSON report")
	fs.IntVar(&opts.Parallel, "parallel", 0, "checks run at once (default: number of CPUs)")
	fs.DurationVar(&opts.CheckTimeout, "check-timeout", 20*time.Second, "time limit of each check; a check that hangs fails and the rest still run")
	fs.DurationVar(&opts.ReadyTimeout, "ready-timeout", 30*time.Second, "how long the server of --config may take to start")
	fs.StringVar(&opts.Protocol, "protocol", "", "pin the MCP protocol revision of the runner's sessions ("+strings.Join(scenario.ProtocolVersions, ", ")+"); default: negotiate. The checks' raw requests keep their own revision")
	fs.StringVar(&sutArgs, "sut-args", "", "extra arguments for the sut command of --config or the gateway's command line, split as a POSIX shell would")
	if code, done := parseArgs(fs, args, func(w io.Writer) { printUsage(w, conformUsage, fs) }, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "muster-test conform: unexpected argument %q (see --help)\n", fs.Arg(0))
		return runner.ExitUsage
	}
	if err := scenario.CheckProtocol(opts.Protocol); err != nil {
		fmt.Fprintln(stderr, "muster-test conform: --protocol:", err)
		return runner.ExitUsage
	}
	if list {
		return conform.List(stdout, stderr)
	}
	var err error
	if opts.SUTArgs, err = runner.SplitWords(sutArgs); err != nil {
		fmt.Fprintln(stderr, "muster-test conform: --sut-args:", err)
		return runner.ExitUsage
	}
	opts.Checks = checks
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(stderr, "muster-test conform: cannot find my own binary:", err)
		return runner.ExitUsage
	}
	opts.Self, opts.Child, opts.Relay = self, child.Binary(self), child.Relay(self)
	ctx, stop := interruptible(out)
	defer stop()
	return conform.Main(ctx, opts)
}
