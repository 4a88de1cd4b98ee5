package mcpserver

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
)

// storeTools is a notes service written as a scenario would: create (new key), get,
// conditional update, delete and list, all on one store.
func storeTools(s *kvStore) map[string]*mockTool {
	cfgs := []ToolConfig{
		{Name: "create", Store: &StoreConfig{Op: StorePut}, Responses: []ResponseConfig{{Response: map[string]any{"id": "{{ key }}", "v": "{{ version }}"}}}},
		{Name: "get", Store: &StoreConfig{Op: StoreGet, Key: "{{ id }}"}},
		{Name: "update", Store: &StoreConfig{Op: StorePut, Key: "{{ id }}", Value: map[string]any{"text": "{{ text }}"}, IfVersion: "{{ version }}"}},
		{Name: "set", Store: &StoreConfig{Op: StorePut, Key: "note-{{ id }}"}},
		{Name: "delete", Store: &StoreConfig{Op: StoreDelete, Key: "{{ id }}"}},
		{Name: "list", Store: &StoreConfig{Op: StoreList, Prefix: "{{ prefix }}"}},
		{Name: "refuse", Store: &StoreConfig{Op: StorePut}, Responses: []ResponseConfig{{Error: "read-only"}}},
	}
	out := map[string]*mockTool{}
	for _, c := range cfgs {
		t, err := newMockTool(c)
		if err != nil {
			panic(err)
		}
		t.store = s
		out[c.Name] = t
	}
	return out
}

func invoke(t *testing.T, tool *mockTool, args map[string]any) (map[string]any, string) {
	t.Helper()
	req := callRequest(tool.cfg.Name, args)
	res, err := tool.handle(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	text := resultText(res)
	if res.IsError {
		return nil, text
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(text), &got); err != nil {
		t.Fatalf("%s: not a JSON object: %q", tool.cfg.Name, text)
	}
	return got, ""
}

func TestStoreOperations(t *testing.T) {
	tools := storeTools(&kvStore{})
	a, _ := invoke(t, tools["create"], map[string]any{"text": "first"})
	b, _ := invoke(t, tools["create"], map[string]any{"text": "second"})
	if a["id"] != "1" || b["id"] != "2" || a["v"] != 1.0 {
		t.Fatalf("created %v and %v, want ids 1 and 2 at version 1", a, b)
	}
	got, _ := invoke(t, tools["get"], map[string]any{"id": "1"})
	if got["key"] != "1" || got["version"] != 1.0 || got["value"].(map[string]any)["text"] != "first" {
		t.Errorf("get 1 = %v", got)
	}
	up, _ := invoke(t, tools["update"], map[string]any{"id": "1", "text": "edited", "version": 1})
	if up["version"] != 2.0 || up["value"].(map[string]any)["text"] != "edited" {
		t.Errorf("update = %v", up)
	}
	if _, msg := invoke(t, tools["update"], map[string]any{"id": "1", "text": "stale", "version": 1}); !strings.Contains(msg,
		`version conflict on key "1": the write expected version 1, the entry is at version 2`) {
		t.Errorf("stale update: %q", msg)
	}
	if got, _ := invoke(t, tools["get"], map[string]any{"id": 1}); got["value"].(map[string]any)["text"] != "edited" {
		t.Errorf("after the refused write: %v", got)
	}
	// The key "3" is taken by hand, so the next create skips it.
	if _, msg := invoke(t, tools["update"], map[string]any{"id": "3", "text": "new", "version": "0"}); msg != "" {
		t.Errorf("put at version 0 of a free key: %s", msg)
	}
	if c, _ := invoke(t, tools["create"], nil); c["id"] != "4" {
		t.Errorf("create after key 3 was taken: %v", c)
	}
	invoke(t, tools["set"], map[string]any{"id": "x"})
	if l, _ := invoke(t, tools["list"], map[string]any{"prefix": "note-"}); l["count"] != 1.0 || l["keys"].([]any)[0] != "note-x" {
		t.Errorf("list note-: %v", l)
	}
	if l, _ := invoke(t, tools["list"], map[string]any{"prefix": ""}); l["count"] != 5.0 {
		t.Errorf("list all: %v", l)
	}
	if d, _ := invoke(t, tools["delete"], map[string]any{"id": "2"}); d["deleted"] != true || d["version"] != 1.0 {
		t.Errorf("delete = %v", d)
	}
	for _, tc := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"get", map[string]any{"id": "2"}, `tool get: nothing is stored under key "2"`},
		{"delete", map[string]any{"id": "2"}, `tool delete: nothing is stored under key "2" to delete`},
		{"get", nil, `tool get: argument "id" is referenced by the response but was not given`},
		{"update", map[string]any{"id": "1", "text": "t", "version": "two"}, "if_version: two is not a version number"},
		{"refuse", nil, "read-only"},
	} {
		if _, msg := invoke(t, tools[tc.tool], tc.args); !strings.Contains(msg, tc.want) {
			t.Errorf("%s %v: %q, want a tool error with %q", tc.tool, tc.args, msg, tc.want)
		}
	}
	if l, _ := invoke(t, tools["list"], map[string]any{"prefix": ""}); l["count"] != 4.0 {
		t.Errorf("a refused create stored something: %v", l)
	}
}

// TestStoreConditionalWritesRace: of many writers holding the same version, exactly one
// wins; the others get a conflict, so no update is lost silently.
func TestStoreConditionalWritesRace(t *testing.T) {
	tools := storeTools(&kvStore{})
	invoke(t, tools["update"], map[string]any{"id": "n", "text": "v1", "version": 0})
	const writers = 32
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, lost := 0, 0
	for i := range writers {
		wg.Go(func() {
			res, err := tools["update"].handle(context.Background(), callRequest("update",
				map[string]any{"id": "n", "text": i, "version": 1}))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Error(err)
			case res.IsError && strings.Contains(resultText(res), "version conflict"):
				lost++
			case !res.IsError:
				won++
			}
		})
	}
	wg.Wait()
	if won != 1 || lost != writers-1 {
		t.Errorf("%d writes won and %d lost, want 1 and %d", won, lost, writers-1)
	}
	if got, _ := invoke(t, tools["get"], map[string]any{"id": "n"}); got["version"] != 2.0 {
		t.Errorf("after the race: %v", got)
	}
}

func TestStoreProblems(t *testing.T) {
	for _, tc := range []struct {
		cfg       StoreConfig
		key, want string
	}{
		{StoreConfig{}, "", `missing required key "op"`},
		{StoreConfig{Op: "fetch"}, "op", `unknown op "fetch"`},
		{StoreConfig{Op: StoreGet}, "", `op get needs a "key"`},
		{StoreConfig{Op: StoreDelete}, "", `op delete needs a "key"`},
		{StoreConfig{Op: StoreList, Key: "k"}, "key", "op list takes no"},
		{StoreConfig{Op: StoreGet, Key: "k", Value: "v"}, "value", "only ops put and append"},
		{StoreConfig{Op: StoreGet, Key: "k", IfVersion: 1}, "if_version", "only ops put and delete"},
		{StoreConfig{Op: StorePut, IfVersion: 1}, "if_version", `needs a "key"`},
		{StoreConfig{Op: StorePut, Key: "k", IfVersion: "latest"}, "if_version", "neither a version number nor a template"},
		{StoreConfig{Op: StoreGet, Key: "k", Prefix: "p"}, "prefix", "only op list"},
		{StoreConfig{Op: StoreAppend, Value: map[string]any{"text": "t"}}, "", `op append needs a "key"`},
		{StoreConfig{Op: StoreAppend, Key: "k"}, "value", `op append needs a "value" with the fields`},
		{StoreConfig{Op: StoreAppend, Key: "k", Value: "t"}, "value", `op append needs a "value" with the fields`},
		{StoreConfig{Op: StoreAppend, Key: "k", Value: map[string]any{"text": "t"}, IfVersion: 1}, "if_version", "only ops put and delete"},
	} {
		p := tc.cfg.Problems()
		if len(p) == 0 || p[0].Key != tc.key || !strings.Contains(p[0].Msg, tc.want) {
			t.Errorf("%+v: problems %+v, want %q at %q", tc.cfg, p, tc.want, tc.key)
		}
	}
	for _, ok := range []StoreConfig{{Op: StorePut}, {Op: StorePut, Key: "{{ id }}", IfVersion: "{{ v }}"},
		{Op: StoreDelete, Key: "k", IfVersion: "3"}, {Op: StoreList, Prefix: "a"}} {
		if p := ok.Problems(); len(p) != 0 {
			t.Errorf("%+v: %+v", ok, p)
		}
	}
	if _, err := ConfigFromYAML([]byte("tools:\n  - name: g\n    store: {op: get}\n")); err == nil ||
		!strings.Contains(err.Error(), `tools[0].store: op get needs a "key"`) {
		t.Errorf("ConfigFromYAML: %v", err)
	}
}
