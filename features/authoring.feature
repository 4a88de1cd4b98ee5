Feature: A newcomer's mistakes are caught before the run
  The mistakes a new user makes in a first scenario fail `validate`, each at its
  file:line:col, with the source lines around it and a caret under the spot, and with a
  message that names the fix. None of them is left for the run to find.

  Scenario: Each typical mistake fails validate with its fix
    Given a scenario file "scenarios/newcomer.yaml":
      """
      name: newcomer
      pre_configuration:
        mock_oauth_servers:
          - name: idp
            use_mock_clock: true
        mcp_servers:
          - name: secure
            scope: "mcp:read"
            config:
              type: streamable-http
              oauth: {required: true, mock_oauth_server_ref: idp}
              tools:
                - name: get_secret
                  input_schema: {properties: {name: {type: string}}}
                  responses:
                    - response: "the secret of {{ nmae }}"
      steps:
        - id: login
          tool: test_simulate_oauth_callback
          args: {server: secure}
          expected: {success: true}
        - id: connect
          tool: x_secure_authenticate
          expected: {success: true}
        - id: greet
          tool: x_secure_get_secret
          args: {name: alice}
          expected: {success: true}
        - id: again
          tool: x_secure_get_secrets
          args: {name: "{{ greeet.text }}"}
          expected: {success: true}
        - id: later
          tool: test_advance_oauth_clock
          args: {server: idp, duration: 660}
          expected: {success: true}
        - id: one-refresh
          tool: test_get_oauth_server_info
          args: {server: idp}
          expected: {success: true, json_path: {requests.refreshes: 1}}
      """
    And a scenario file "scenarios/broken.yaml":
      """
      name: broken
      steps:
        - id: list
          tool: core_mcpserver_list
         expected:
            success: true
      """
    When I run muster-test with "validate scenarios"
    Then the exit code is 2
    And the error output contains "scenarios/newcomer.yaml:30:11: steps[3].tool: \"x_secure_get_secrets\" is not a tool of mcp server \"secure\", which the SUT exposes as x_secure_get_secret, x_secure_authenticate (did you mean \"x_secure_get_secret\"?)"
    And the error output contains "scenarios/newcomer.yaml:40:43: steps[5].expected.json_path: requests.refreshes: no such path in test_get_oauth_server_info's answer; did you mean requests.refresh?"
    And the error output contains "scenarios/newcomer.yaml:16:42: pre_configuration.mcp_servers[0].config.tools[0].responses[0]: template {{ nmae }} names no property of the tool's input_schema (did you mean \"name\"?)"
    And the error output contains "scenarios/newcomer.yaml:31:19: steps[3].args: template names \"greeet\", which is no step id of this scenario (did you mean \"greet\"?)"
    And the error output contains "scenarios/newcomer.yaml:35:35: steps[4].args.duration: 660 has no unit: write \"660s\" or \"660ms\""
    And the error output contains "scenarios/newcomer.yaml:8:7: pre_configuration.mcp_servers[0]: unknown key \"scope\" (it belongs under config.oauth:)"
    And the error output contains "scenarios/broken.yaml:5:4: YAML syntax error: did not find expected '-' indicator"
    And the error output contains "muster-test: 7 error(s) in scenario files; nothing was run"

  Scenario: An error shows the source around it with a caret under the column
    Given a scenario file "scenarios/broken.yaml":
      """
      name: broken
      steps:
        - id: list
          tool: core_mcpserver_list
         expected:
            success: true
      """
    When I run muster-test with "validate scenarios"
    Then the exit code is 2
    And the error output contains:
      """
      scenarios/broken.yaml:5:4: YAML syntax error: did not find expected '-' indicator
          |
        3 |   - id: list
        4 |     tool: core_mcpserver_list
        5 |    expected:
          |    ^^^^^^^^
        6 |       success: true
      """

  Scenario: A tool name the SUT does not expose is not checked for a SUT that is not muster-shaped
    Given a scenario file "scenarios/direct.yaml":
      """
      name: direct
      sut: {url: "http://127.0.0.1:9/mcp"}
      pre_configuration:
        mcp_servers:
          - name: secure
            config:
              type: streamable-http
              tools: [{name: get_secret}]
      steps:
        - id: call
          tool: x_secure_get_secrets
          expected: {success: true}
      """
    When I run muster-test with "validate scenarios"
    Then the exit code is 0
