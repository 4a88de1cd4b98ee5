package mcpserver_test

import (
	"context"
	"fmt"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/muster-test/muster-test/mocks/mcpserver"
)

// A mock MCP server with one tool, called by an MCP client, and the call it logged.
func Example() {
	ctx := context.Background()
	s, err := mcpserver.Start(ctx, mcpserver.Config{Tools: []mcpserver.ToolConfig{{
		Name:      "greet",
		Responses: []mcpserver.ResponseConfig{{Response: "hello {{ name }}"}},
	}}})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	c, err := client.NewStreamableHttpClient(s.URL())
	if err != nil {
		panic(err)
	}
	defer c.Close()
	if _, err := c.Initialize(ctx, mcp.InitializeRequest{}); err != nil {
		panic(err)
	}
	res, err := c.CallTool(ctx, mcp.CallToolRequest{Params: mcp.CallToolParams{Name: "greet", Arguments: map[string]any{"name": "alice"}}})
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Content[0].(mcp.TextContent).Text)
	fmt.Println(len(s.CallsTo("greet")), "call logged")
	// Output:
	// hello alice
	// 1 call logged
}
