Feature: The system under test misbehaves
  A SUT that dies is reported as an ERROR with the reason and the last lines of its log,
  never as a confusing connection error, and nothing of it is left behind.

  Scenario: A SUT that dies before it is ready
    Given an executable file "fake-muster":
      """
      #!/bin/sh
      echo "fatal: cannot load the configuration (simulated)" >&2
      exit 3
      """
    And a scenario file "scenarios/any.yaml":
      """
      name: needs-a-sut
      category: behavioral
      concept: mcpserver
      steps:
        - id: list
          tool: core_mcpserver_list
          expected: {success: true}
      """
    When I run muster-test with "--sut muster --muster-binary fake-muster --config scenarios"
    Then the exit code is 1
    And the output matches "ERROR\s+needs-a-sut"
    And the output contains "exited with code 3 before it was ready"
    And the output contains "fatal: cannot load the configuration (simulated)"
    And nothing of the run is left behind

  Scenario: A SUT that dies in the middle of a scenario
    Given a scenario file "scenarios/long.yaml":
      """
      name: sut-dies-while-waiting
      category: behavioral
      concept: mcpserver
      pre_configuration:
        mcp_servers:
          - name: pub
            config:
              type: streamable-http
              tools:
                - name: state
                  responses:
                    - response: "starting"
      steps:
        - id: wait-for-running
          tool: x_pub_state
          expected:
            success: true
            contains: ["running"]
            wait_for_state: 5m
      """
    When I start muster-test with "--sut builtin --config scenarios --debug"
    And I wait until the SUT of the run has logged "Proxying tool call"
    And I kill the SUT process of the run
    Then muster-test exits with code 1
    And the output matches "ERROR\s+sut-dies-while-waiting"
    And the output matches "step:\s+wait-for-running"
    And the output contains "SUT killed by signal killed"
    And the output contains "Started aggregator manager"
    And nothing of the run is left behind

  Scenario: --parallel runs scenarios at the same time
    Given a scenario file "scenarios/a.yaml":
      """
      name: waits-a
      category: behavioral
      concept: mcpserver
      pre_configuration:
        mcp_servers:
          - name: pub
            config:
              type: streamable-http
              tools: [{name: state, responses: [{response: "starting"}]}]
      steps:
        - id: poll
          tool: x_pub_state
          continue_on_failure: true
          expected: {success: true, contains: ["running"], wait_for_state: 3s}
      """
    And a scenario file "scenarios/b.yaml":
      """
      name: waits-b
      category: behavioral
      concept: mcpserver
      pre_configuration:
        mcp_servers:
          - name: pub
            config:
              type: streamable-http
              tools: [{name: state, responses: [{response: "starting"}]}]
      steps:
        - id: poll
          tool: x_pub_state
          continue_on_failure: true
          expected: {success: true, contains: ["running"], wait_for_state: 3s}
      """
    When I start muster-test with "--sut builtin --config scenarios --parallel 2"
    And I wait until 2 SUT processes of the run are running at once
    Then muster-test exits with code 0
    And the output matches "PASS\s+waits-a"
    And the output matches "PASS\s+waits-b"
    And nothing of the run is left behind
