package executor

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// UserTools are the test tools that manage a scenario's users. They live here because
// users are the executor's notion: each one is an MCP session that SUT calls go through.
func UserTools() Registry {
	return Registry{
		"test_create_user":         createUser,
		"test_switch_user":         switchUser,
		"test_get_current_user":    currentUser,
		"test_list_tools_for_user": listToolsForUser,
	}
}

// StringArgs reads several string arguments at once: a name is required, or optional
// when it starts with "?" (the key is the name without it). Absent optional ones are "".
func StringArgs(args map[string]any, names ...string) (map[string]string, error) {
	out := make(map[string]string, len(names))
	for _, n := range names {
		key, optional := strings.CutPrefix(n, "?")
		v, err := StringArg(args, key, !optional)
		if err != nil {
			return nil, err
		}
		out[key] = v
	}
	return out, nil
}

// StringArg reads a string argument; required ones must be present and non-empty.
func StringArg(args map[string]any, name string, required bool) (string, error) {
	v, ok := args[name]
	if !ok || v == nil {
		if required {
			return "", fmt.Errorf("missing required argument %q", name)
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("argument %q must be a string, got %T", name, v)
	}
	if required && s == "" {
		return "", fmt.Errorf("argument %q must not be empty", name)
	}
	return s, nil
}

func createUser(ctx context.Context, run *Run, args map[string]any) (map[string]any, error) {
	a, err := StringArgs(args, "name", "?subject")
	if err != nil {
		return nil, err
	}
	name, subject := a["name"], a["subject"]
	if _, err := run.Session(name); err == nil {
		return nil, fmt.Errorf("user %q already exists", name)
	}
	sess, err := run.Env.NewSession(ctx, name, subject)
	if err != nil {
		return nil, fmt.Errorf("open a session for user %q: %w", name, err)
	}
	if err := run.AddUser(name, sess); err != nil {
		return nil, err
	}
	out := map[string]any{"success": true, "message": fmt.Sprintf("Created user %s", name), "name": name}
	if subject != "" {
		out["subject"] = subject
	}
	return out, nil
}

func switchUser(_ context.Context, run *Run, args map[string]any) (map[string]any, error) {
	name, err := StringArg(args, "name", true)
	if err != nil {
		return nil, err
	}
	prev := run.CurrentUser()
	if err := run.SwitchUser(name); err != nil {
		return nil, err
	}
	return map[string]any{"success": true, "message": fmt.Sprintf("Switched to user %s", name),
		"current_user": name, "previous_user": prev}, nil
}

func currentUser(_ context.Context, run *Run, _ map[string]any) (map[string]any, error) {
	users := run.Users()
	list := make([]any, len(users))
	for i, u := range users {
		list[i] = u
	}
	return map[string]any{"success": true, "current_user": run.CurrentUser(), "users": list}, nil
}

func listToolsForUser(ctx context.Context, run *Run, args map[string]any) (map[string]any, error) {
	name, err := StringArg(args, "name", false)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = run.CurrentUser()
	}
	sess, err := run.Session(name)
	if err != nil {
		return nil, err
	}
	tools, err := sess.ListTools(ctx)
	if err != nil {
		return nil, fmt.Errorf("list tools of user %q: %w", name, err)
	}
	sort.Strings(tools)
	list := make([]any, len(tools))
	for i, t := range tools {
		list[i] = t
	}
	return map[string]any{"success": true, "user": name, "tools": list, "count": len(tools)}, nil
}
