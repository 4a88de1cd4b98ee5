Feature: Signals stop a run cleanly
  The first SIGINT or SIGTERM stops the run: everything is torn down, the summary is
  printed, and muster-test exits 130 or 143. Signals within 500 ms of the first count as
  the same one (GNU timeout and a terminal's Ctrl-C may deliver one interrupt twice). A
  signal after that exits at once, without a summary, but still kills the SUTs and removes
  the temp dirs. Either way nothing of the run is left behind.

  Background:
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

  Scenario: A second SIGINT within milliseconds counts as the same one
    The second signal is sent once muster-test has taken the first (two signals sent at
    once may merge into one pending signal in the kernel, which would prove nothing).
    When I start muster-test with "--sut builtin --config scenarios/slow.yaml"
    And I wait until a SUT process of the run is running
    And I send SIGINT to muster-test
    And muster-test has said it is stopping
    And I send SIGINT to muster-test
    Then muster-test exits with code 130
    And the output matches "CANCELLED\s+slow-waits-for-a-state"
    And the output contains "Summary"
    And the error output does not contain "exiting at once"
    And nothing of the run is left behind

  Scenario: GNU timeout -s INT signals muster-test and its group, and the run still stops cleanly
    When I run muster-test under "timeout -s INT --preserve-status 5s" with "--sut builtin --config scenarios/slow.yaml"
    Then the exit code is 130
    And the output matches "CANCELLED\s+slow-waits-for-a-state"
    And the output contains "Summary"
    And the error output does not contain "exiting at once"
    And nothing of the run is left behind
