package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// `muster-test schema` prints the schema the repository ships.
func TestSchemaCommandPrintsTheShippedSchema(t *testing.T) {
	code, out, errOut := cli(t, "schema")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	shipped, err := os.ReadFile("../../schema/scenario.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if out != string(shipped) {
		t.Errorf("muster-test schema differs from schema/scenario.schema.json")
	}
	if code, _, _ := cli(t, "schema", "extra"); code != 2 {
		t.Errorf("schema extra: exit %d, want 2", code)
	}
}

// init writes a starter that names the schema, passes validate and the schema, and is
// never written over an existing file.
func TestInitWritesAValidStarter(t *testing.T) {
	t.Chdir(t.TempDir())
	code, out, errOut := cli(t, "init", "my-first")
	if code != 0 || !strings.Contains(out, "my-first.yaml") {
		t.Fatalf("init: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	data, err := os.ReadFile("my-first.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(string(data), "\n"); first != "# yaml-language-server: $schema="+schemaURL {
		t.Errorf("first line %q", first)
	}
	if code, out, errOut := cli(t, "validate", "my-first.yaml"); code != 0 || errOut != "" {
		t.Errorf("validate: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// The starter against the schema, as an editor checks it.
	_, schemaOut, _ := cli(t, "schema")
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(schemaOut))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("s.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("s.json")
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(v); err != nil {
		t.Errorf("the starter fails the schema: %v", err)
	}

	if code, _, errOut := cli(t, "init", "my-first"); code != 2 || !strings.Contains(errOut, "exists; not overwritten") {
		t.Errorf("second init: exit %d, stderr %q", code, errOut)
	}
	if after, _ := os.ReadFile("my-first.yaml"); !bytes.Equal(after, data) {
		t.Errorf("the existing file changed")
	}
	for _, bad := range [][]string{{"init"}, {"init", "a", "b"}, {"init", "../up"}, {"init", ".hidden"}} {
		if code, _, errOut := cli(t, bad...); code != 2 || errOut == "" {
			t.Errorf("%q: exit %d, stderr %q", bad, code, errOut)
		}
	}
	if code, out, _ := cli(t, "init", "--schema", "./scenario.schema.json", "local.yaml"); code != 0 || !strings.Contains(out, "local.yaml") {
		t.Fatalf("init --schema: exit %d", code)
	}
	if data, _ := os.ReadFile("local.yaml"); !strings.HasPrefix(string(data), "# yaml-language-server: $schema=./scenario.schema.json\n") {
		t.Errorf("init --schema: %q", data)
	}
}

// TestInitQuotesTheCommandsItPrints: the commands init prints can be pasted as they are,
// also for a name with a space.
func TestInitQuotesTheCommandsItPrints(t *testing.T) {
	t.Chdir(t.TempDir())
	code, out, errOut := cli(t, "init", "a b")
	if code != 0 || !strings.Contains(out, "muster-test validate 'a b.yaml'\n") || !strings.Contains(out, "--config 'a b.yaml' --sut builtin") {
		t.Fatalf("init: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
