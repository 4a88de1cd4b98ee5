package testtools

import (
	"fmt"

	"github.com/muster-test/muster-test/internal/executor"
	"github.com/muster-test/muster-test/internal/oauthclient"
	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/scenario"
)

// Argument declarations shared by several rows.
var (
	serverArg    = scenario.ToolArg{Name: "server", Kind: scenario.ArgString, Required: true}
	optServerArg = scenario.ToolArg{Name: "server", Kind: scenario.ArgString}
)

func str(name string) scenario.ToolArg { return scenario.ToolArg{Name: name, Kind: scenario.ArgString} }

func required(a scenario.ToolArg) scenario.ToolArg { a.Required = true; return a }

// oneOf is a string argument that takes only the given values.
func oneOf(name string, values ...string) scenario.ToolArg {
	return scenario.ToolArg{Name: name, Kind: scenario.ArgString, OneOf: values}
}

// idpAnswer is the answer of test_get_oauth_server_info for one IdP.
var idpAnswer = []string{"success", "name", "port", "issuer_url", "metadata_url", "jwks_url", "clock", "mock_clock",
	"requests.authorize", "requests.token", "requests.refresh", "requests.introspect", "requests.userinfo",
	"requests.register", "requests.revoke", "requests.exchange", "requests.authorization_code",
	"requests.client_credentials", "requests.authorize_without_resource", "requests.token_without_resource",
	"tokens_issued", "tokens_active", "subjects.*"}

// table is every test tool, in the order the guide lists them: the one place a tool is
// declared. The loader checks steps against its declarations (Loader), the executor runs
// its implementations (Registry), and a test holds the guide to it.
var table = []executor.Tool{
	{TestTool: scenario.TestTool{Name: "test_simulate_oauth_callback", Server: scenario.MockMCPServer,
		Args:   []scenario.ToolArg{serverArg, oneOf("outcome", callbackOutcomes...), str("other_subject")},
		Answer: []string{"success", "server", "message", "status_code", "outcome", "body", "already_authenticated", "state_reveals_session", "authorization_url"}},
		Run: simulateCallback},
	{TestTool: scenario.TestTool{Name: "test_inject_token", Server: scenario.MockMCPServer,
		Args: []scenario.ToolArg{serverArg, required(str("token")), str("scope"),
			{Name: "expires_in", Kind: scenario.ArgSeconds}},
		Answer: []string{"success", "message", "server", "oauth_server"}},
		Run: injectToken},
	{TestTool: scenario.TestTool{Name: "test_call_mock_tool", Server: scenario.MockMCPServer,
		Args: []scenario.ToolArg{serverArg, required(str("tool")), {Name: "args", Kind: scenario.ArgObject},
			str("token")},
		JSONFailure: true,
		Answer:      []string{"success", "server", "tool", "status_code", "result", "error", "www_authenticate"}},
		Run: callMockTool},
	{TestTool: scenario.TestTool{Name: "test_get_oauth_server_info", Server: scenario.IdPServer,
		Args:   []scenario.ToolArg{optServerArg},
		Answer: append(idpAnswer, "oauth_servers.*")}, // without server: one idpAnswer per IdP
		Run: oauthServerInfo},
	{TestTool: scenario.TestTool{Name: "test_advance_oauth_clock", Server: scenario.IdPServer,
		Args:   []scenario.ToolArg{{Name: "duration", Kind: scenario.ArgDuration, Required: true}, optServerArg},
		Answer: []string{"success", "message", "advanced_by", "servers_advanced"}},
		Run: advanceClock},
	{TestTool: scenario.TestTool{Name: "test_revoke_token", Server: scenario.IdPServer,
		Args:   []scenario.ToolArg{optServerArg},
		Answer: []string{"success", "message", "tokens_revoked", "servers_updated"}},
		Run: revokeTokens},
	{TestTool: scenario.TestTool{Name: "test_set_oauth_fault", Server: scenario.IdPServer,
		Args: []scenario.ToolArg{required(oneOf("endpoint", idp.FaultEndpoints...)), optServerArg, str("subject"), str("grant"),
			{Name: "latency", Kind: scenario.ArgDuration}, {Name: "status", Kind: scenario.ArgAny}, str("error"),
			str("error_description"), {Name: "times", Kind: scenario.ArgAny}},
		Answer: []string{"success", "message", "servers"}},
		Run: setOAuthFault},
	{TestTool: scenario.TestTool{Name: "test_read_auth_status", Server: scenario.AnyMCPServer,
		Args:   []scenario.ToolArg{optServerArg},
		Answer: []string{"success", "servers", "name", "status", "issuer", "scope", "auth_tool"}},
		Run: readAuthStatus},
	{TestTool: scenario.TestTool{Name: "test_create_user",
		Args:   []scenario.ToolArg{required(str("name")), str("subject")},
		Answer: []string{"success", "message", "name", "subject", "session_id"}},
		Run: createUser},
	{TestTool: scenario.TestTool{Name: "test_switch_user",
		Args:   []scenario.ToolArg{required(str("name"))},
		Answer: []string{"success", "message", "current_user", "previous_user"}},
		Run: switchUser},
	{TestTool: scenario.TestTool{Name: "test_get_current_user",
		Answer: []string{"success", "current_user", "users"}},
		Run: currentUser},
	{TestTool: scenario.TestTool{Name: "test_list_tools_for_user",
		Args:   []scenario.ToolArg{str("name")},
		Answer: []string{"success", "user", "tools", "count"}},
		Run: listToolsForUser},
	{TestTool: scenario.TestTool{Name: "test_add_mock_tool", Server: scenario.MockMCPServer,
		Args:   []scenario.ToolArg{serverArg, required(str("tool_name")), str("tool_description")},
		Answer: []string{"success", "message", "server", "tool_name", "exposed_as"}},
		Run: addMockTool},
	{TestTool: scenario.TestTool{Name: "test_remove_mock_tool", Server: scenario.MockMCPServer,
		Args:   []scenario.ToolArg{serverArg, required(str("tool_name"))},
		Answer: []string{"success", "message", "server", "tool_name", "exposed_as"}},
		Run: removeMockTool},
	{TestTool: scenario.TestTool{Name: "test_get_mock_calls", Server: scenario.MockMCPServer,
		Args:   []scenario.ToolArg{serverArg, str("tool")},
		Answer: []string{"success", "server", "count", "calls"}},
		Run: mockCalls},
	{TestTool: scenario.TestTool{Name: "test_mint_token", Server: scenario.IdPServer,
		Args: []scenario.ToolArg{serverArg, required(str("name")), required(str("sub")), str("iss"), str("aud"),
			{Name: "groups", Kind: scenario.ArgList}, str("email"), {Name: "email_verified", Kind: scenario.ArgBool},
			{Name: "act", Kind: scenario.ArgObject}, str("typ"), str("scope"), {Name: "expires_in", Kind: scenario.ArgSeconds},
			{Name: "not_before", Kind: scenario.ArgDuration}, oneOf("alg", idp.AlgES256, idp.AlgRS256, "none"),
			oneOf("sign_with", idp.SignWithIdP, idp.SignWithForeignKey, idp.SignWithNone), {Name: "claims", Kind: scenario.ArgObject}},
		Answer: []string{"success", "name", "subject", "token", "claims"}},
		Run: mintToken},
	{TestTool: scenario.TestTool{Name: "test_oauth_discover",
		Args:        []scenario.ToolArg{{Name: "fail_on", Kind: scenario.ArgList}},
		JSONFailure: true,
		Answer: []string{"success", "server_url", "status", "www_authenticate.raw", "www_authenticate.scheme",
			"www_authenticate.resource_metadata", "www_authenticate.scope", "www_authenticate.error",
			"www_authenticate.error_description", "www_authenticate.params", "www_authenticate.challenges",
			"protected_resource.url", "protected_resource.status", "protected_resource.content_type",
			"protected_resource.raw", "protected_resource.document", "authorization_server.url",
			"authorization_server.status", "authorization_server.content_type", "authorization_server.raw",
			"authorization_server.document", "issuer", "scope", "problems", "problem_codes", "phases"}},
		Run: oauthDiscover},
	{TestTool: scenario.TestTool{Name: "test_oauth_login",
		Args: []scenario.ToolArg{required(str("user")), str("scope"),
			oneOf("client", oauthclient.RegisterPreregistered, oauthclient.RegisterCIMD, oauthclient.RegisterDCR),
			{Name: "resource", Kind: scenario.ArgBool}},
		JSONFailure: true,
		Answer: []string{"success", "user", "scope", "requested_scope", "token_type", "expires_in", "expires_at",
			"has_refresh_token", "claims", "client.method", "client.client_id", "client.token_endpoint_auth_method",
			"phases", "error", "oauth_error"}},
		Run: oauthLogin},
	{TestTool: scenario.TestTool{Name: "test_http_request",
		Args: []scenario.ToolArg{str("method"), str("path"), str("url"), {Name: "headers", Kind: scenario.ArgObject},
			{Name: "body", Kind: scenario.ArgAny}, str("token")},
		JSONFailure: true,
		Answer:      []string{"success", "status_code", "url", "headers", "body", "body_truncated", "www_authenticate"}},
		Run: httpRequest},
	{TestTool: scenario.TestTool{Name: "test_exec",
		Args:        []scenario.ToolArg{{Name: "command", Kind: scenario.ArgList, Required: true}, str("stdin"), {Name: "timeout", Kind: scenario.ArgDuration}},
		JSONFailure: true,
		Answer:      []string{"success", "command", "exit_code", "stdout", "stderr", "error"}},
		Run: execCommand},

	// Tools of newer muster versions: their scenarios fail to load with "not supported yet".
	later("test_muster_auth_login"),
	later("test_simulate_muster_reauth"),
	later("test_broker_token_exchange"),
	later("test_call_protected_mcp"),
	later("test_reconnect_with_token"),
	later("test_call_meta_tool"),
}

func later(name string) executor.Tool {
	return executor.Tool{TestTool: scenario.TestTool{Name: name, Later: true}}
}

// Catalogue is the declaration of every test tool, for the loader and the docs.
func Catalogue() []scenario.TestTool {
	out := make([]scenario.TestTool, len(table))
	for i, t := range table {
		out[i] = t.TestTool
	}
	return out
}

// Loader loads scenario files against this runner's test tools.
func Loader() scenario.Loader { return scenario.Loader{TestTools: Catalogue()} }

// Registry is every implemented test tool by name, for the executor.
func Registry() executor.Registry {
	r := make(executor.Registry, len(table))
	for _, t := range table {
		if _, dup := r[t.Name]; dup {
			panic(fmt.Sprintf("test tool %s is declared twice", t.Name))
		}
		if t.Later != (t.Run == nil) {
			panic(fmt.Sprintf("test tool %s: a tool has an implementation exactly when it is not Later", t.Name))
		}
		if !t.Later {
			r[t.Name] = t
		}
	}
	return r
}
