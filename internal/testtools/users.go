package testtools

import (
	"context"
	"fmt"
	"sort"

	"github.com/muster-test/muster-test/internal/executor"
)

// The user tools: each user is an MCP session of the executor's Run that SUT calls go
// through.

func createUser(ctx context.Context, run *executor.State, args map[string]any) (map[string]any, error) {
	name, subject := executor.StringArg(args, "name"), executor.StringArg(args, "subject")
	if _, err := run.Session(name); err == nil {
		return nil, fmt.Errorf("user %q already exists", name)
	}
	sess, err := run.Harness.NewSession(ctx, name, subject)
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
	// The session's id lets a raw request present it from another connection: what a
	// session id that is a credential would let in.
	if s, ok := sess.(interface{ ID() string }); ok && s.ID() != "" {
		out["session_id"] = s.ID()
	}
	return out, nil
}

func switchUser(_ context.Context, run *executor.State, args map[string]any) (map[string]any, error) {
	name := executor.StringArg(args, "name")
	prev := run.CurrentUser()
	if err := run.SwitchUser(name); err != nil {
		return nil, err
	}
	return map[string]any{"success": true, "message": fmt.Sprintf("Switched to user %s", name),
		"current_user": name, "previous_user": prev}, nil
}

func currentUser(_ context.Context, run *executor.State, _ map[string]any) (map[string]any, error) {
	users := run.Users()
	list := make([]any, len(users))
	for i, u := range users {
		list[i] = u
	}
	return map[string]any{"success": true, "current_user": run.CurrentUser(), "users": list}, nil
}

func listToolsForUser(ctx context.Context, run *executor.State, args map[string]any) (map[string]any, error) {
	name := executor.StringArg(args, "name")
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
