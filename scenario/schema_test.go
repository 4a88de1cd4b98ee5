package scenario

import (
	"reflect"
	"strings"
	"testing"
)

// A table entry of the schema generator that names no field of the format (a key renamed
// in types.go, say) is an error, not a requirement silently dropped.
func TestJSONSchemaTablesNameFieldsOfTheFormat(t *testing.T) {
	schemaRequired["Step.no_such_key"] = schemaNeeds{required: []string{"x"}}
	_, err := Loader{}.JSONSchema()
	delete(schemaRequired, "Step.no_such_key")
	if err == nil || !strings.Contains(err.Error(), "Step.no_such_key") {
		t.Errorf("err = %v", err)
	}
}

// Every key the decoder knows of every type is a property of the type's definition, and no
// other: the schema's keys are the loader's.
func TestJSONSchemaKeysAreTheDecodersKeys(t *testing.T) {
	g := &schemaGen{defs: map[string]any{}, names: map[reflect.Type]string{}, used: map[string]bool{}}
	g.of(reflect.TypeFor[Scenario](), "")
	if len(g.names) < 15 {
		t.Fatalf("only %d types defined", len(g.names))
	}
	for typ, name := range g.names {
		props := g.defs[name].(map[string]any)["properties"].(map[string]any)
		si := infoOf(typ)
		if len(props) != len(si.keys) {
			t.Errorf("%s: %d properties, the decoder knows %d keys", name, len(props), len(si.keys))
		}
		for _, k := range si.keys {
			if _, ok := props[k]; !ok {
				t.Errorf("%s: no property %q", name, k)
			}
		}
	}
}
