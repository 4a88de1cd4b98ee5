package mcpserver_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/client"

	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// storeConfig is a notes service on the mock's store, as a scenario file writes it.
const storeConfig = `
tools:
  - name: create_note
    store: {op: put, value: {text: "{{ text }}"}}
    responses:
      - response: {id: "{{ key }}", version: "{{ version }}"}
  - name: get_note
    store: {op: get, key: "{{ id }}"}
  - name: update_note
    store: {op: put, key: "{{ id }}", value: {text: "{{ text }}"}, if_version: "{{ version }}"}
  - name: delete_note
    store: {op: delete, key: "{{ id }}"}
  - name: list_notes
    store: {op: list}
`

// TestStoreOverTransports: over every transport, with real mcp-go clients, what one
// session puts another session gets; a stale versioned write is a tool error; a missing
// key is a tool error; and each server has a store of its own.
func TestStoreOverTransports(t *testing.T) {
	for _, tc := range []struct {
		name string
		typ  string
		kind clientKind
	}{
		{"streamable-http", mcpserver.TypeStreamableHTTP, legacyHTTP},
		{"streamable-http stateless", mcpserver.TypeStreamableHTTP, modernHTTP},
		{"sse", mcpserver.TypeSSE, sseClient},
		{"stdio child process", mcpserver.TypeStdio, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var owner, reader *client.Client
			if tc.typ == mcpserver.TypeStdio {
				// The SUT holds one session with a stdio mock; its users share it.
				owner = startStdioChild(t, "type: stdio\n"+storeConfig)
				reader = owner
			} else {
				s := startServer(t, parseYAMLConfig(t, "type: "+tc.typ+"\n"+storeConfig))
				owner, reader = mustConnect(t, tc.kind, s.URL(), nil), mustConnect(t, tc.kind, s.URL(), nil)
				other := mustConnect(t, tc.kind, startServer(t, parseYAMLConfig(t, "type: "+tc.typ+"\n"+storeConfig)).URL(), nil)
				if text, isErr := mustCall(t, other, "list_notes", nil); isErr || text != `{"count":0,"keys":[]}` {
					t.Errorf("a fresh server's store: %s", text)
				}
				defer func() {
					if text, _ := mustCall(t, other, "get_note", map[string]any{"id": "1"}); !strings.Contains(text, "nothing is stored") {
						t.Errorf("another server sees this server's note: %s", text)
					}
				}()
			}
			text, isErr := mustCall(t, owner, "create_note", map[string]any{"text": "hello"})
			if isErr {
				t.Fatalf("create: %s", text)
			}
			jsonEqual(t, text, map[string]any{"id": "1", "version": 1})
			text, isErr = mustCall(t, reader, "get_note", map[string]any{"id": "1"})
			if isErr {
				t.Fatalf("get by another session: %s", text)
			}
			jsonEqual(t, text, map[string]any{"key": "1", "version": 1, "value": map[string]any{"text": "hello"}})

			if text, isErr := mustCall(t, reader, "update_note", map[string]any{"id": "1", "text": "by reader", "version": 1}); isErr {
				t.Fatalf("update at the current version: %s", text)
			}
			text, isErr = mustCall(t, owner, "update_note", map[string]any{"id": "1", "text": "lost?", "version": 1})
			if !isErr || !strings.Contains(text, `version conflict on key "1"`) {
				t.Errorf("stale update: %q (isError %v)", text, isErr)
			}
			text, _ = mustCall(t, owner, "get_note", map[string]any{"id": "1"})
			jsonEqual(t, text, map[string]any{"key": "1", "version": 2, "value": map[string]any{"text": "by reader"}})

			if text, isErr := mustCall(t, owner, "delete_note", map[string]any{"id": "1"}); isErr || !strings.Contains(text, `"deleted":true`) {
				t.Errorf("delete: %s", text)
			}
			text, isErr = mustCall(t, reader, "get_note", map[string]any{"id": "1"})
			if !isErr || text != `tool get_note: nothing is stored under key "1"` {
				t.Errorf("get after delete: %q (isError %v)", text, isErr)
			}
		})
	}
}

// TestStoreValuesKeepTheirShape: a put without a value stores the call's arguments as
// sent, nested values and numbers included, and a get answers them unchanged.
func TestStoreValuesKeepTheirShape(t *testing.T) {
	s := startServer(t, parseYAMLConfig(t, `
tools:
  - name: put
    store: {op: put, key: "{{ name }}"}
  - name: get
    store: {op: get, key: "{{ name }}"}
`))
	c := mustConnect(t, legacyHTTP, s.URL(), nil)
	payload := strings.Repeat("0123456789abcdef", 4096) // 64 KiB
	args := map[string]any{"name": "blob", "content": payload, "meta": map[string]any{"size": 65536, "tags": []any{"a", "b"}}}
	if text, isErr := mustCall(t, c, "put", args); isErr {
		t.Fatal(text)
	}
	text, isErr := mustCall(t, c, "get", map[string]any{"name": "blob"})
	if isErr {
		t.Fatal(text)
	}
	var got struct {
		Value map[string]any `json:"value"`
	}
	if err := json.Unmarshal([]byte(text), &got); err != nil {
		t.Fatal(err)
	}
	jsonEqual(t, mustJSON(t, got.Value), args)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestStoreAppendsAllLand: an append adds text to the end of an entry's field, whatever
// its version; appends from many sessions at once all land, each one version; a missing
// key or a field that is not text is a tool error.
func TestStoreAppendsAllLand(t *testing.T) {
	s := startServer(t, parseYAMLConfig(t, storeConfig+`
  - name: append_note
    store: {op: append, key: "{{ id }}", value: {text: "{{ text }}"}}
  - name: put_number
    store: {op: put, key: "n", value: {text: 7}}
`))
	first := mustConnect(t, legacyHTTP, s.URL(), nil)
	if text, isErr := mustCall(t, first, "create_note", map[string]any{"text": "log"}); isErr {
		t.Fatal(text)
	}
	const n = 8
	var lines []string
	var wg sync.WaitGroup
	for i := range n {
		line := fmt.Sprintf("\n%d;", i)
		lines = append(lines, line)
		c := mustConnect(t, legacyHTTP, s.URL(), nil)
		wg.Go(func() {
			if text, isErr := mustCall(t, c, "append_note", map[string]any{"id": "1", "text": line}); isErr {
				t.Errorf("append: %s", text)
			}
		})
	}
	wg.Wait()
	text, _ := mustCall(t, first, "get_note", map[string]any{"id": "1"})
	var got struct {
		Version float64        `json:"version"`
		Value   map[string]any `json:"value"`
	}
	if err := json.Unmarshal([]byte(text), &got); err != nil {
		t.Fatal(err)
	}
	note, _ := got.Value["text"].(string)
	for _, l := range lines {
		if !strings.Contains(note, l) {
			t.Errorf("%q lost: %q", l, note)
		}
	}
	if !strings.HasPrefix(note, "log") || got.Version != 1+n {
		t.Errorf("after %d appends: version %v, text %q", n, got.Version, note)
	}
	if text, isErr := mustCall(t, first, "append_note", map[string]any{"id": "9", "text": "x"}); !isErr ||
		text != `tool append_note: nothing is stored under key "9" to append to` {
		t.Errorf("append to a free key: %q (isError %v)", text, isErr)
	}
	mustCall(t, first, "put_number", nil)
	if text, isErr := mustCall(t, first, "append_note", map[string]any{"id": "n", "text": "x"}); !isErr || !strings.Contains(text, `field "text" of key "n" is not text`) {
		t.Errorf("append to a number: %q (isError %v)", text, isErr)
	}
}
