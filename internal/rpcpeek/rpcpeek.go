// Package rpcpeek reads what an MCP request asks for from its body, without handling it:
// the servers and recorders that log or judge requests before mcp-go sees them need it.
package rpcpeek

import (
	"encoding/json"

	"github.com/mark3labs/mcp-go/mcp"
)

// Target is a JSON-RPC request's method and, for tools/call, the tool's name. A body that
// is not one JSON-RPC object (a batch, garbage) yields "".
func Target(body []byte) (method, tool string) {
	var msg struct {
		Method string `json:"method"`
		Params struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	if json.Unmarshal(body, &msg) != nil {
		return "", ""
	}
	if msg.Method == string(mcp.MethodToolsCall) {
		tool = msg.Params.Name
	}
	return msg.Method, tool
}
