Feature: Running scenarios against the reference SUT
  muster-test starts the mocks and the SUT for each scenario, runs its steps, reports one
  line per scenario and exits 0 when everything passed, 1 when anything did not.

  Background:
    Given a scenario file "scenarios/pass.yaml":
      """
      name: public-tool-answers
      category: behavioral
      concept: mcpserver
      tags: [smoke]
      pre_configuration:
        mcp_servers:
          - name: pub
            config:
              type: streamable-http
              tools:
                - name: greet
                  input_schema:
                    type: object
                    properties:
                      who: {type: string, default: world}
                  responses:
                    - response: "hello {{ who }}"
      steps:
        - id: greet
          tool: x_pub_greet
          expected:
            success: true
            contains: ["hello world"]
      """
    And a scenario file "scenarios/fail.yaml":
      """
      name: public-tool-disappoints
      category: integration
      concept: mcpserver
      pre_configuration:
        mcp_servers:
          - name: pub
            config:
              type: streamable-http
              tools:
                - name: greet
                  responses:
                    - response: "hello world"
      steps:
        - id: greet-expecting-goodbye
          tool: x_pub_greet
          expected:
            success: true
            contains: ["goodbye"]
      """

  Scenario: A passing scenario exits 0
    When I run muster-test with "--sut builtin --config scenarios/pass.yaml"
    Then the exit code is 0
    And the output matches "PASS\s+public-tool-answers"
    And the output contains "builtin reference SUT"
    And nothing of the run is left behind

  Scenario: A failing scenario exits 1 and names the step and the expectation
    When I run muster-test with "--sut builtin --config scenarios/fail.yaml"
    Then the exit code is 1
    And the output matches "FAIL\s+public-tool-disappoints"
    And the output contains "greet-expecting-goodbye"
    And the output contains "contains[0]"
    And the output contains "\"goodbye\""
    And the output contains "hello world"
    And the output contains "muster-test --config scenarios/fail.yaml --sut builtin --scenario public-tool-disappoints"
    And nothing of the run is left behind

  Scenario: Filters select by tag and category
    When I run muster-test with "--sut builtin --config scenarios --tag smoke"
    Then the exit code is 0
    And the output contains "public-tool-answers"
    And the output does not contain "public-tool-disappoints"
    When I run muster-test with "--sut builtin --config scenarios --category integration"
    Then the exit code is 1
    And the output does not contain "public-tool-answers"

  Scenario: Shards split the suite between machines
    When I run muster-test with "list --config scenarios --shard 1/2"
    Then the exit code is 0
    And the output contains "1 scenario(s)"
    And the output contains "public-tool-answers"
    When I run muster-test with "list --config scenarios --shard 2/2"
    Then the output contains "public-tool-disappoints"
    And the output does not contain "public-tool-answers"

  Scenario: Reports in JSON and JUnit from a parallel run
    When I run muster-test with "--sut builtin --config scenarios --parallel 4 --junit out/junit.xml --report out/json"
    Then the exit code is 1
    And "out/junit.xml" is a JUnit report with 2 tests and 1 failure
    And the directory "out/json" holds one JSON report with 2 scenarios
    And the output contains "JUnit report: out/junit.xml"
    And the output matches "JSON report: out/json/muster-test-report-\d{8}-\d{6}\.json"
    And nothing of the run is left behind

  Scenario: --fail-fast cancels what has not finished
    Given a scenario file "scenarios/slow.yaml":
      """
      name: slow-waits-for-a-state
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
            wait_for_state: 1m
      """
    When I run muster-test with "--sut builtin --config scenarios/slow.yaml --config scenarios/fail.yaml --parallel 2 --fail-fast"
    Then the exit code is 1
    And the output matches "CANCELLED\s+slow-waits-for-a-state"
    And the output contains "fail-fast"
    And nothing of the run is left behind

  Scenario: Ctrl-C tears everything down and exits 130
    Given a scenario file "scenarios/slow.yaml":
      """
      name: slow-waits-for-a-state
      category: behavioral
      concept: mcpserver
      pre_configuration:
        mcp_servers:
          - name: stdio-pub
            config:
              type: stdio
              tools:
                - name: state
                  responses:
                    - response: "starting"
      steps:
        - id: wait-for-running
          tool: x_stdio-pub_state
          expected:
            success: true
            contains: ["running"]
            wait_for_state: 5m
      """
    When I start muster-test with "--sut builtin --config scenarios/slow.yaml"
    And I wait until a SUT process of the run is running
    And I send SIGINT to muster-test
    Then muster-test exits with code 130
    And the output matches "CANCELLED\s+slow-waits-for-a-state"
    And the output matches "re-run them with:\n\s+muster-test --config scenarios/slow.yaml --sut builtin --scenario slow-waits-for-a-state\n"
    And the output contains "interrupted by SIGINT"
    And nothing of the run is left behind

  Scenario: SIGTERM exits 143
    Given a scenario file "scenarios/slow.yaml":
      """
      name: slow-waits-for-a-state
      category: behavioral
      concept: mcpserver
      steps:
        - id: wait-for-a-tool
          tool: x_nothing_here
          expected:
            success: true
            wait_for_state: 5m
      """
    When I start muster-test with "--sut builtin --config scenarios/slow.yaml"
    And I wait until a SUT process of the run is running
    And I send SIGTERM to muster-test
    Then muster-test exits with code 143
    And nothing of the run is left behind

  Scenario: The temp dir of a killed run is removed by the next run
    A runner killed with SIGKILL cannot clean up: its SUT dies with it, its temp dir stays,
    marked with the runner's pid and start time, until the next run finds the runner gone.
    Given a scenario file "scenarios/slow.yaml":
      """
      name: slow-waits-for-a-state
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
    When I start muster-test with "--sut builtin --config scenarios/slow.yaml"
    And I wait until a SUT process of the run is running
    And I send SIGKILL to muster-test
    Then muster-test exits with code 137
    And 1 temp dir of the run is left behind
    When I run muster-test with "--sut builtin --config scenarios/pass.yaml"
    Then the exit code is 0
    And the error output contains "removed 1 temp dir(s) of runners that no longer run"
    And nothing of the run is left behind
