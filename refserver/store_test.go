package refserver_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/client"

	"github.com/muster-test/muster-test/refserver"
)

// user is one user's session with the store tools.
type user struct {
	t *testing.T
	c *client.Client
}

func storeUsers(t *testing.T, faults ...refserver.Fault) (alice, bob, carol user) {
	e := startConfig(t, refserver.Config{Store: true}, faults...)
	u := func(sub string) user { return user{t, e.connect(t, e.token(t, grant{sub: sub}))} }
	return u("alice"), u("bob"), u("carol")
}

// ok calls the tool and returns its JSON answer; the call must succeed.
func (u user) ok(tool string, args map[string]any) map[string]any {
	u.t.Helper()
	text, isErr, err := call(u.c, tool, args)
	if err != nil || isErr {
		u.t.Fatalf("%s %v: %q %v", tool, args, text, err)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		u.t.Fatalf("%s: not JSON: %q", tool, text)
	}
	return out
}

// refused calls the tool, which must answer a tool error containing want.
func (u user) refused(tool string, args map[string]any, want string) {
	u.t.Helper()
	text, isErr, err := call(u.c, tool, args)
	if err != nil || !isErr || !strings.Contains(text, want) {
		u.t.Errorf("%s %v = %q (error result %v, %v), want a tool error with %q", tool, args, text, isErr, err, want)
	}
}

func TestStoreToolsOnlyWithStore(t *testing.T) {
	e := start(t)
	if names := toolNames(t, e.connect(t, e.alice(t))); slices.Contains(names, refserver.ToolCreateNote) {
		t.Errorf("without Store the tools are %v", names)
	}
	alice, _, carol := storeUsers(t)
	for _, u := range []user{alice, carol} { // both tenants
		if names := toolNames(t, u.c); !slices.Contains(names, refserver.ToolCreateNote) || !slices.Contains(names, refserver.ToolListFiles) {
			t.Errorf("with Store the tools are %v", names)
		}
	}
}

// TestNotesSharedBySubject: a note is its owner's until shared; a share names one user and
// one permission; versioned writes refuse a lost update.
func TestNotesSharedBySubject(t *testing.T) {
	alice, bob, carol := storeUsers(t)
	n := alice.ok(refserver.ToolCreateNote, map[string]any{"text": "plan"})
	id := n["id"].(string)
	if n["version"] != 1.0 || n["owner"] != "alice" {
		t.Fatalf("create = %v", n)
	}
	read := map[string]any{"id": id}
	bob.refused(refserver.ToolReadNote, read, "note "+id+" not found")
	bob.refused(refserver.ToolShareNote, map[string]any{"id": id, "with": "bob"}, "not found")
	if s := alice.ok(refserver.ToolShareNote, map[string]any{"id": id, "with": "bob"}); s["permission"] != "read" || s["with"] != "bob" {
		t.Errorf("share = %v", s)
	}
	if got := bob.ok(refserver.ToolReadNote, read); got["text"] != "plan" || got["owner"] != "alice" || got["version"] != 1.0 {
		t.Errorf("bob reads %v", got)
	}
	carol.refused(refserver.ToolReadNote, read, "note "+id+" not found")
	bob.refused(refserver.ToolUpdateNote, map[string]any{"id": id, "text": "mine", "version": 1}, "shared with bob to read only")
	bob.refused(refserver.ToolDeleteNote, read, "only its owner (alice)")
	bob.refused(refserver.ToolShareNote, map[string]any{"id": id, "with": "carol"}, "only its owner (alice)")
	carol.refused(refserver.ToolUpdateNote, map[string]any{"id": id, "text": "x", "version": 1}, "not found")

	alice.ok(refserver.ToolShareNote, map[string]any{"id": id, "with": "bob", "permission": "edit"})
	if got := bob.ok(refserver.ToolUpdateNote, map[string]any{"id": id, "text": "plan, bob's part", "version": 1}); got["version"] != 2.0 {
		t.Errorf("bob's write = %v", got)
	}
	alice.refused(refserver.ToolUpdateNote, map[string]any{"id": id, "text": "stale", "version": 1},
		"version conflict on note "+id+": the write expected version 1, the note is at version 2")
	if got := alice.ok(refserver.ToolReadNote, read); got["text"] != "plan, bob's part" {
		t.Errorf("after the refused write: %v", got)
	}
	lists := func(u user) []any { return u.ok(refserver.ToolListNotes, nil)["notes"].([]any) }
	if l := lists(bob); len(l) != 1 || l[0].(map[string]any)["permission"] != "edit" || l[0].(map[string]any)["owner"] != "alice" {
		t.Errorf("bob's list = %v", l)
	}
	if l := lists(carol); len(l) != 0 {
		t.Errorf("carol's list = %v", l)
	}
	alice.refused(refserver.ToolDeleteNote, map[string]any{"id": id, "version": 1}, "version conflict")
	if d := alice.ok(refserver.ToolDeleteNote, map[string]any{"id": id, "version": 2}); d["deleted"] != true {
		t.Errorf("delete = %v", d)
	}
	bob.refused(refserver.ToolReadNote, read, "not found")
	if l := lists(alice); len(l) != 0 {
		t.Errorf("alice's list after the delete = %v", l)
	}
}

// TestAppendsAllLand: append_note follows update_note's access rules, needs no version,
// and appends made at once all land, each one a version.
func TestAppendsAllLand(t *testing.T) {
	alice, bob, carol := storeUsers(t)
	id := alice.ok(refserver.ToolCreateNote, map[string]any{"text": "log"})["id"]
	add := func(text string) map[string]any { return map[string]any{"id": id, "text": text} }
	carol.refused(refserver.ToolAppendNote, add("x"), "note "+id.(string)+" not found")
	alice.ok(refserver.ToolShareNote, map[string]any{"id": id, "with": "bob"})
	bob.refused(refserver.ToolAppendNote, add("x"), "shared with bob to read only")
	alice.ok(refserver.ToolShareNote, map[string]any{"id": id, "with": "bob", "permission": "edit"})
	if got := alice.ok(refserver.ToolAppendNote, add("\nalice 0")); got["version"] != 2.0 || got["length"] != 11.0 || got["owner"] != "alice" {
		t.Errorf("append = %v", got)
	}
	lines := appendAtOnce(t, id, map[string]user{"alice": alice, "bob": bob}, 8)
	got := alice.ok(refserver.ToolReadNote, map[string]any{"id": id})
	for _, l := range lines {
		if !strings.Contains(got["text"].(string), l) {
			t.Errorf("%q lost: %q", l, got["text"])
		}
	}
	if got["version"] != float64(2+len(lines)) {
		t.Errorf("version %v after %d appends", got["version"], 1+len(lines))
	}
	alice.ok(refserver.ToolDeleteNote, map[string]any{"id": id})
	bob.refused(refserver.ToolAppendNote, add("x"), "not found")
}

// appendAtOnce has each user append n lines to the note, all at the same time, and
// returns the lines.
func appendAtOnce(t *testing.T, id any, users map[string]user, n int) []string {
	var lines []string
	var wg sync.WaitGroup
	for name, u := range users {
		for i := range n {
			line := fmt.Sprintf("\n%s %d;", name, i)
			lines = append(lines, line)
			wg.Go(func() { u.ok(refserver.ToolAppendNote, map[string]any{"id": id, "text": line}) })
		}
	}
	wg.Wait()
	return lines
}

func TestFilesSharedBySubject(t *testing.T) {
	alice, bob, carol := storeUsers(t)
	up := alice.ok(refserver.ToolUploadFile, map[string]any{"name": "a.txt", "content": "line\nline\n"})
	id := up["id"].(string)
	if up["size"] != 10.0 || up["content"] != nil {
		t.Errorf("upload = %v", up)
	}
	bob.refused(refserver.ToolDownloadFile, map[string]any{"id": id}, "file "+id+" not found")
	alice.refused(refserver.ToolShareFile, map[string]any{"id": id, "with": "bob", "permission": "edit"}, `permission "edit": want read`)
	alice.ok(refserver.ToolShareFile, map[string]any{"id": id, "with": "bob"})
	if got := bob.ok(refserver.ToolDownloadFile, map[string]any{"id": id}); got["content"] != "line\nline\n" || got["name"] != "a.txt" {
		t.Errorf("bob downloads %v", got)
	}
	if l := bob.ok(refserver.ToolListFiles, nil); l["count"] != 1.0 || l["files"].([]any)[0].(map[string]any)["name"] != "a.txt" {
		t.Errorf("bob's files: %v", l)
	}
	carol.refused(refserver.ToolDownloadFile, map[string]any{"id": id}, "not found")
	bob.refused(refserver.ToolDeleteFile, map[string]any{"id": id}, "only its owner")
	alice.ok(refserver.ToolDeleteFile, map[string]any{"id": id})
	bob.refused(refserver.ToolDownloadFile, map[string]any{"id": id}, "not found")
}

// storeFaultProbes see the store tools' faults (TestFaults).
var storeFaultProbes = map[refserver.Fault]func(t *testing.T, faults ...refserver.Fault) bool{
	refserver.FaultLostAppend: func(t *testing.T, faults ...refserver.Fault) bool {
		alice, bob, _ := storeUsers(t, faults...)
		id := alice.ok(refserver.ToolCreateNote, map[string]any{"text": ""})["id"]
		alice.ok(refserver.ToolShareNote, map[string]any{"id": id, "with": "bob", "permission": "edit"})
		lines := appendAtOnce(t, id, map[string]user{"alice": alice, "bob": bob}, 1)
		text := alice.ok(refserver.ToolReadNote, map[string]any{"id": id})["text"].(string)
		return !strings.Contains(text, lines[0]) || !strings.Contains(text, lines[1])
	},
	refserver.FaultSharingNotEnforced: func(t *testing.T, faults ...refserver.Fault) bool {
		alice, _, carol := storeUsers(t, faults...)
		id := alice.ok(refserver.ToolCreateNote, map[string]any{"text": "private"})["id"]
		_, isErr, err := call(carol.c, refserver.ToolReadNote, map[string]any{"id": id})
		return err == nil && !isErr
	},
}
