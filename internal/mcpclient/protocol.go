package mcpclient

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// clientInfo is how the runner names itself to the SUT: in initialize, and in the _meta of
// every request on the stateless protocol.
var clientInfo = mcp.Implementation{Name: "muster-test", Version: "1"}

// protocolMetaPrefix is the _meta prefix the protocol reserves for itself.
const protocolMetaPrefix = "io.modelcontextprotocol/"

// ProtocolMismatchError is a session whose protocol revision was pinned but which the SUT
// settled on another one: it does not speak the pinned revision.
type ProtocolMismatchError struct {
	Pinned, Settled string
}

func (e *ProtocolMismatchError) Error() string {
	return fmt.Sprintf("MCP protocol %s was pinned, but the SUT does not speak it: it settled on %s", e.Pinned, e.Settled)
}

// anyEra is the transport as mcp-go's client sees it. With continuous listening a
// StreamableHTTP says it RequiresLegacyProtocol, and the client then never tries the
// stateless 2026-07-28 protocol. The transport itself serves both: its GET stream starts
// only once a connection is established, and not at all when that connection is stateless
// (mcp-go v1.2.1, client/transport/streamable_http.go Start). So the session keeps its
// notification stream on the session protocol and may still negotiate the stateless one.
type anyEra struct{ *transport.StreamableHTTP }

func (anyEra) RequiresLegacyProtocol() bool { return false }

// stamp adds to a request what the stateless protocol asks of each one, which mcp-go's
// client does only for the requests it sends itself: the protocol version, client info and
// capabilities in params._meta, and the Mcp-Method and Mcp-Name headers. On the session
// protocol the request goes out as it is.
func (s *Session) stamp(method string, params any) (any, http.Header, error) {
	if !mcp.IsModernProtocol(s.protocol) {
		return params, nil, nil
	}
	fields := map[string]json.RawMessage{}
	if params != nil {
		raw, err := json.Marshal(params)
		if err != nil {
			return nil, nil, err
		}
		if err := json.Unmarshal(raw, &fields); err != nil {
			return nil, nil, fmt.Errorf("params of %s are not a JSON object: %w", method, err)
		}
	}
	meta := map[string]any{}
	if raw, ok := fields["_meta"]; ok {
		if err := json.Unmarshal(raw, &meta); err != nil {
			return nil, nil, fmt.Errorf("params._meta of %s: %w", method, err)
		}
	}
	meta[mcp.MetaKeyProtocolVersion] = s.protocol
	meta[mcp.MetaKeyClientInfo] = clientInfo
	meta[mcp.MetaKeyClientCapabilities] = mcp.ClientCapabilities{}
	var err error
	if fields["_meta"], err = json.Marshal(meta); err != nil {
		return nil, nil, err
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return nil, nil, err
	}
	header := http.Header{}
	for k, v := range mcp.StandardHeaders(s.protocol, mcp.MCPMethod(method), body) {
		header.Set(k, v)
	}
	return json.RawMessage(body), header, nil
}
