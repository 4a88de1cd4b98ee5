package rpcpeek

import "testing"

func TestTarget(t *testing.T) {
	for _, tc := range []struct{ body, method, tool string }{
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"find","arguments":{}}}`, "tools/call", "find"},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"name":"ignored"}}`, "tools/list", ""},
		{`[{"jsonrpc":"2.0","id":1,"method":"ping"}]`, "", ""},
		{`not json`, "", ""},
	} {
		if m, tool := Target([]byte(tc.body)); m != tc.method || tool != tc.tool {
			t.Errorf("Target(%s) = %q, %q; want %q, %q", tc.body, m, tool, tc.method, tc.tool)
		}
	}
}
