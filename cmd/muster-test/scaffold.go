package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/muster-test/muster-test/internal/report"
	"github.com/muster-test/muster-test/internal/runner"
	"github.com/muster-test/muster-test/internal/testtools"
)

// schemaURL is where the repository publishes the schema (schema/scenario.schema.json on
// the main branch), for the yaml-language-server line of new scenario files.
const schemaURL = "https://raw.githubusercontent.com/muster-test/muster-test/main/schema/scenario.schema.json"

const schemaUsage = `Usage: muster-test schema

Prints the JSON Schema (draft-07) of scenario files: every key with its type, the keys the
loader requires, and the test tools with their arguments. Editors with a YAML language
server use it for completion and checks as you type (see "Editor support" in the guide).
`

const initUsage = `Usage: muster-test init [--schema URL] NAME

Writes ./NAME.yaml, a commented starter scenario (a mock MCP server and one step that calls
its tool through the SUT) that passes validate and runs with --sut builtin. Its first line
points YAML language servers at the schema. An existing file is never overwritten.

Flags:
`

// runSchema is `muster-test schema`: the schema generated from this binary's loader, the
// same as schema/scenario.schema.json of its source tree.
func runSchema(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("muster-test schema", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if code, done := parseArgs(fs, args, func(w io.Writer) { fmt.Fprint(w, schemaUsage) }, stdout, stderr); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "muster-test schema: unexpected argument %q\n", fs.Arg(0))
		return runner.ExitUsage
	}
	data, err := testtools.Loader().JSONSchema()
	if err != nil {
		fmt.Fprintln(stderr, "muster-test schema:", err)
		return runner.ExitUsage
	}
	if _, err := stdout.Write(data); err != nil {
		fmt.Fprintln(stderr, "muster-test schema:", err)
		return runner.ExitFailed
	}
	return runner.ExitOK
}

// runInit is `muster-test init [--schema URL] NAME`.
func runInit(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("muster-test init", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	schema := fs.String("schema", schemaURL, "schema URL or path for the yaml-language-server line (e.g. a file written by muster-test schema)")
	if code, done := parseArgs(fs, args, func(w io.Writer) { printUsage(w, initUsage, fs) }, stdout, stderr); done {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "muster-test init: want one NAME (see muster-test init --help)")
		return runner.ExitUsage
	}
	name := strings.TrimSuffix(strings.TrimSuffix(fs.Arg(0), ".yaml"), ".yml")
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") || strings.TrimSpace(name) != name {
		fmt.Fprintf(stderr, "muster-test init: %q: want a file name without a directory, e.g. oauth-login\n", fs.Arg(0))
		return runner.ExitUsage
	}
	file := name + ".yaml"
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			err = errors.New("exists; not overwritten")
		}
		fmt.Fprintf(stderr, "muster-test init: %s: %v\n", file, err)
		return runner.ExitUsage
	}
	_, err = io.WriteString(f, starter(name, *schema))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(file)
		fmt.Fprintf(stderr, "muster-test init: %s: %v\n", file, err)
		return runner.ExitFailed
	}
	abs, _ := filepath.Abs(file)
	q := report.ShellQuote(file)
	fmt.Fprintf(stdout, "wrote %s\ncheck it:  muster-test validate %s\nrun it:    muster-test --config %s --sut builtin\n", abs, q, q)
	return runner.ExitOK
}

// starter is the scenario init writes: the smallest one that shows the shape of the format,
// with the keys a first scenario changes commented.
func starter(name, schema string) string {
	return strings.NewReplacer("NAME", name, "SCHEMA", schema).Replace(`# yaml-language-server: $schema=SCHEMA
#
# NAME: a starter scenario written by muster-test init. Check it with
#   muster-test validate NAME.yaml
# and run it against the reference SUT with
#   muster-test --config NAME.yaml --sut builtin
# The scenario-writing guide (scenarios/README.md) describes every key.
name: NAME
category: behavioral          # for --category: behavioral or integration
concept: mcpserver            # for --concept: what the scenario is about
description: A mock MCP server's tool answers through the SUT.
tags: [starter]               # for --tag
timeout: 1m                   # the whole scenario; a duration needs its unit

pre_configuration:
  # The mock MCP servers the SUT is configured with. The SUT names their tools
  # x_<server>_<tool>: here x_greeter_hello.
  mcp_servers:
    - name: greeter
      config:
        type: streamable-http # or sse; stdio for a mock the SUT starts itself
        tools:
          - name: hello
            description: Says hello
            input_schema: {type: object, properties: {to: {type: string, default: world}}}
            responses:
              - response: "hello {{ to }}"    # {{ to }} is the call's argument
  # To protect the server with OAuth, add a mock identity provider here:
  #   mock_oauth_servers:
  #     - name: idp
  #       scopes: [openid]
  # and under the server's config:
  #   oauth: {required: true, mock_oauth_server_ref: idp}

steps:
  - id: greet                 # a step's id names its result in templates: {{ greet }}
    tool: x_greeter_hello
    args: {to: muster}
    expected:
      success: true           # required: whether the call must succeed
      contains: ["hello muster"]

# Steps that run after the steps, also when one of them failed:
# cleanup:
#   - id: ...
`)
}
