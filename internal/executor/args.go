package executor

// StringArg returns a string argument of a test tool, "" when it is absent. The executor
// has checked the arguments against the tool's declaration before the call, so a given
// argument declared as a string is one.
func StringArg(args map[string]any, name string) string {
	s, _ := args[name].(string)
	return s
}
