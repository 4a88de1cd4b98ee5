package scenario

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ServerArg says what the `server` argument of a test tool names. The loader checks a
// literal `server` against it; a templated one is checked when the step runs.
type ServerArg int

const (
	// NoServer: the tool takes no `server` argument.
	NoServer ServerArg = iota
	// IdPServer: a mock identity provider, pre_configuration.mock_oauth_servers[].name.
	IdPServer
	// MockMCPServer: a mock MCP server, an mcp_servers[] entry whose config has `tools`.
	MockMCPServer
	// AnyMCPServer: any pre_configuration.mcp_servers[].name, mock or real.
	AnyMCPServer
)

// ArgKind is the type a test tool argument takes.
type ArgKind int

const (
	// ArgString: a string.
	ArgString ArgKind = iota
	// ArgDuration: a Go duration string such as "15m" or "660ms". A bare number is refused,
	// as the scenario's own timeout refuses one: 660 could mean seconds or milliseconds.
	ArgDuration
	// ArgObject: a map.
	ArgObject
	// ArgList: a list of strings (e.g. an argv).
	ArgList
	// ArgBool: true or false.
	ArgBool
	// ArgAny: any value (e.g. a request body: a string, or a structure sent as JSON).
	ArgAny
	// ArgSeconds: a lifetime in seconds as a number, as muster's files write expires_in,
	// or a Go duration string.
	ArgSeconds
)

func (k ArgKind) String() string {
	switch k {
	case ArgDuration:
		return "a duration like \"15m\" or \"500ms\""
	case ArgSeconds:
		return "seconds or a duration like \"15m\""
	case ArgObject:
		return "a map"
	case ArgList:
		return "a list of strings"
	case ArgBool:
		return "true or false"
	case ArgAny:
		return "any value"
	default:
		return "a string"
	}
}

// ToolArg is one argument of a test tool.
type ToolArg struct {
	Name     string
	Kind     ArgKind
	Required bool
	// OneOf, for a string argument, is every value the tool takes: a literal outside it is
	// a load error, not a step that fails after the SUT has started.
	OneOf []string
}

// TestTool describes one runner tool (`test_*`): its name, arguments and answer are part of
// the scenario format. The runner's table of test tools (one row per tool, with its
// implementation) is the catalogue a Loader checks steps against.
type TestTool struct {
	Name   string
	Server ServerArg
	Args   []ToolArg
	// Answer lists the fields of a successful answer (dotted paths; "*" stands for a
	// key chosen at run time, e.g. a server name), for the guide and for json_path checks.
	Answer []string
	// JSONFailure: a failed call answers the same object, with success false. Without it a
	// failed call's answer is its error text, which json_path cannot read.
	JSONFailure bool
	// Later marks tools of newer muster versions that muster-test does not implement yet:
	// a scenario using one fails to load with "not supported yet".
	Later bool
}

// Arg returns the declared argument called name.
func (t TestTool) Arg(name string) (ToolArg, bool) {
	for _, a := range t.Args {
		if a.Name == name {
			return a, true
		}
	}
	return ToolArg{}, false
}

// Signature is the tool as the guide writes it: `test_x {a, b?}`, `?` marking optional
// arguments.
func (t TestTool) Signature() string {
	parts := make([]string, len(t.Args))
	for i, a := range t.Args {
		parts[i] = a.Name
		if !a.Required {
			parts[i] += "?"
		}
	}
	return t.Name + " {" + strings.Join(parts, ", ") + "}"
}

// CheckArg checks one argument value against its declaration. Templated strings pass: the
// runner checks them again once they are resolved.
func (a ToolArg) CheckArg(v any) error {
	if s, ok := v.(string); ok && isTemplated(s) {
		return nil
	}
	switch a.Kind {
	case ArgDuration:
		return checkUnit(v)
	case ArgSeconds:
		_, err := ToolDuration(v)
		return err
	case ArgObject:
		if _, ok := v.(map[string]any); !ok && v != nil {
			return fmt.Errorf("must be %s, got %s", a.Kind, describeValue(v))
		}
	case ArgList:
		list, ok := v.([]any)
		if !ok {
			return fmt.Errorf("must be %s, got %s", a.Kind, describeValue(v))
		}
		for i, e := range list {
			if _, ok := e.(string); !ok {
				return fmt.Errorf("must be %s; item %d is %s", a.Kind, i, describeValue(e))
			}
		}
		if a.Required && len(list) == 0 {
			return fmt.Errorf("must not be empty")
		}
	case ArgBool:
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("must be %s, got %s", a.Kind, describeValue(v))
		}
	case ArgAny:
	default:
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("must be %s, got %s", a.Kind, describeValue(v))
		}
		if a.Required && str == "" {
			return fmt.Errorf("must not be empty")
		}
		if len(a.OneOf) > 0 && !slices.Contains(a.OneOf, str) {
			return fmt.Errorf("%q: want one of %s%s", str, strings.Join(a.OneOf, ", "), didYouMean(str, a.OneOf))
		}
	}
	return nil
}

// CheckArgs checks resolved arguments: every required one present, every declared one of
// its kind. Undeclared arguments are left to the loader's warning.
func (t TestTool) CheckArgs(args map[string]any) error {
	for _, a := range t.Args {
		v, given := args[a.Name]
		if !given || v == nil {
			if a.Required {
				return fmt.Errorf("missing required argument %q", a.Name)
			}
			continue
		}
		if err := a.CheckArg(v); err != nil {
			return fmt.Errorf("argument %q %v", a.Name, err)
		}
	}
	return nil
}

// checkUnit refuses a duration argument without a unit, the way the loader refuses a bare
// number as a scenario's timeout, and says what to write instead.
func checkUnit(v any) error {
	n := ""
	switch x := v.(type) {
	case int, float64:
		n = fmt.Sprint(x)
	case string:
		if _, err := strconv.ParseFloat(x, 64); err == nil {
			n = x
		}
	}
	if n != "" {
		return fmt.Errorf("%s has no unit: write %q or %q", n, n+"s", n+"ms")
	}
	_, err := ToolDuration(v)
	return err
}

// ToolDuration reads a test tool's duration argument: seconds as a number, or a Go
// duration string (a string of digits is seconds too).
func ToolDuration(v any) (time.Duration, error) {
	switch v := v.(type) {
	case nil:
		return 0, nil
	case int:
		return time.Duration(v) * time.Second, nil
	case float64:
		return time.Duration(v * float64(time.Second)), nil
	case string:
		if n, err := strconv.Atoi(v); err == nil {
			return time.Duration(n) * time.Second, nil
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			return 0, fmt.Errorf("%q is neither seconds nor a duration like \"15m\"", v)
		}
		return d, nil
	default:
		return 0, fmt.Errorf("must be seconds or a duration string, got %s", describeValue(v))
	}
}

func describeValue(v any) string {
	switch v.(type) {
	case map[string]any:
		return "a map"
	case []any:
		return "a list"
	case string:
		return fmt.Sprintf("the string %q", v)
	default:
		return fmt.Sprintf("%v (%T)", v, v)
	}
}

// IsTestTool reports whether a step's tool is executed by the runner itself (never sent to
// the SUT): every name with the `test_` prefix is reserved for runner tools.
func IsTestTool(name string) bool { return strings.HasPrefix(name, "test_") }
