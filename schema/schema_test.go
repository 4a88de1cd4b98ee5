package schema

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/muster-test/muster-test/internal/testtools"
)

var update = flag.Bool("update", false, "rewrite scenario.schema.json from the loader")

const schemaFile = "scenario.schema.json"

// The committed schema is the one the loader's types and the test tool table give: a key
// added to the format without regenerating the file fails here.
func TestSchemaIsCurrent(t *testing.T) {
	want, err := testtools.Loader().JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(schemaFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("schema/%s differs from what the loader gives: run `go generate ./schema` (or go test ./schema -update) and commit it", schemaFile)
	}
}

func compiled(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemaFile, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(schemaFile)
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return s
}

// instance reads a YAML document as the JSON value an editor's YAML language server checks.
func instance(t *testing.T, data []byte) (any, error) {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	// Through JSON, as a language server sees it: maps with string keys, float numbers.
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// schemaCatches are the bad fixtures whose mistake the schema sees too; the others are
// mistakes only the loader sees (references between parts of a file, template order,
// YAML syntax), which the schema must let through.
var schemaCatches = []string{
	"duration-bare-number.yaml", "missing-id.yaml", "missing-success.yaml", "several-errors.yaml",
	"sut-block.yaml", "test-tool-args.yaml", "unknown-key-expected.yaml", "unknown-key-mock.yaml",
	"unknown-key-step.yaml", "unknown-key-top.yaml", "unknown-test-tool.yaml", "wrong-type.yaml",
	"later-tool.yaml", "concurrently.yaml", "mock-store.yaml",
}

// Every scenario file of the repository that loads passes the schema (the schema never
// refuses what the runner accepts), and the bad fixtures it can judge fail it.
func TestScenarioFilesAgainstTheSchema(t *testing.T) {
	s := compiled(t)
	var files []string
	for _, root := range []string{"../scenarios", "../testdata"} {
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if ext := filepath.Ext(p); !d.IsDir() && (ext == ".yaml" || ext == ".yml") && filepath.Base(p) != "conformance-baseline.yaml" {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(files) < 80 {
		t.Fatalf("found %d scenario files; the walk missed some", len(files))
	}
	loader := testtools.Loader()
	for _, file := range files {
		t.Run(strings.TrimPrefix(file, "../"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			set := loader.LoadPaths(file)
			loads := len(set.Errors) == 0
			inst, err := instance(t, data)
			if err != nil {
				if loads {
					t.Fatalf("loads, but is not YAML to a language server: %v", err)
				}
				return // a YAML syntax error: no schema can judge it
			}
			verr := s.Validate(inst)
			caught := slices.Contains(schemaCatches, filepath.Base(file)) && strings.Contains(file, "/bad/")
			switch {
			case loads && verr != nil:
				t.Errorf("the loader accepts it, the schema refuses it: %v", verr)
			case !loads && caught && verr == nil:
				t.Errorf("the schema should refuse it as the loader does (%s)", set.Errors[0])
			case !loads && !caught && verr != nil:
				t.Errorf("the schema refuses it (%v); if that is right, add it to schemaCatches", verr)
			}
		})
	}
}

// An unknown key fails the schema at every level, and the values the loader refuses by
// type fail it too.
func TestSchemaRefusesWhatTheLoaderRefuses(t *testing.T) {
	s := compiled(t)
	const base = `name: x
category: behavioral
concept: mcpserver
steps:
  - id: a
    tool: core_mcpserver_list
    expected: {success: true}
`
	if inst, err := instance(t, []byte(base)); err != nil || s.Validate(inst) != nil {
		t.Fatalf("the base document must pass: %v %v", err, s.Validate(inst))
	}
	for name, doc := range map[string]string{
		"unknown top key":           base + "colour: red\n",
		"unknown step key":          strings.Replace(base, "    tool:", "    tol: x\n    tool:", 1),
		"unknown expected key":      strings.Replace(base, "{success: true}", "{success: true, contians: [x]}", 1),
		"unknown mock key":          base + "pre_configuration:\n  mcp_servers:\n    - name: m\n      config:\n        tools: [{name: t}]\n        scope: x\n",
		"unknown idp key":           base + "pre_configuration:\n  mock_oauth_servers:\n    - name: i\n      scope: x\n",
		"unknown sut key":           base + "sut:\n  command: [x]\n  port: 1\n",
		"bare number duration":      base + "timeout: 30\n",
		"duration without unit":     base + "timeout: \"30\"\n",
		"negative duration":         base + "timeout: -1s\n",
		"string for a bool":         strings.Replace(base, "success: true", "success: yes-please", 1),
		"missing name":              strings.Replace(base, "name: x\n", "", 1),
		"no steps":                  strings.SplitAfter(base, "concept: mcpserver\n")[0] + "steps: []\n",
		"step without id":           strings.Replace(base, "  - id: a\n    tool", "  - tool", 1),
		"step without success":      strings.Replace(base, "{success: true}", "{contains: [x]}", 1),
		"unknown test tool":         strings.Replace(base, "core_mcpserver_list", "test_no_such_tool", 1),
		"test tool missing an arg":  strings.Replace(base, "core_mcpserver_list", "test_advance_oauth_clock", 1),
		"test tool arg of the kind": strings.Replace(base, "tool: core_mcpserver_list", "tool: test_advance_oauth_clock\n    args: {duration: [1]}", 1),
	} {
		inst, err := instance(t, []byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.Validate(inst) == nil {
			t.Errorf("%s: the schema accepts\n%s", name, doc)
		}
		if set := testtools.Loader().LoadFS(mapFS(doc), "x.yaml"); len(set.Errors) == 0 {
			t.Errorf("%s: the loader accepts it too; the case shows nothing", name)
		}
	}
}

// Durations the schema accepts are exactly the ones the loader reads.
func TestSchemaDurations(t *testing.T) {
	s := compiled(t)
	for _, d := range []string{"30s", "1m", "1h30m", "1.5s", "500ms", "2us", "3µs", "0", "0s", ".5s", "1h0m0.5s"} {
		inst, _ := instance(t, []byte("name: x\ncategory: a\nconcept: b\ntimeout: \""+d+"\"\nsteps: [{id: a, tool: t, expected: {success: true}}]\n"))
		if err := s.Validate(inst); err != nil {
			t.Errorf("%q refused: %v", d, err)
		}
	}
}
