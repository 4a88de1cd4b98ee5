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

  Scenario: A later second signal exits at once and still leaves nothing behind
    The SUT ignores SIGTERM, so its teardown lasts until it is killed near the end of the
    2 s budget. SIGINT comes every 100 ms from the first on: those within 500 ms count as
    the first, and the first one after that ends the run at once.
    Given a scenario file "scenarios/deaf.yaml":
      """
      name: deaf-sut-slow-step
      category: behavioral
      concept: direct
      sut:
        files:
          sut.sh: |
            trap '' TERM
            : > deaf-serve.log
            echo "deaf SUT ready"
            exec tail -f "$PWD/deaf-serve.log"
        command: [sh, "{{ .tempdir }}/sut.sh"]
        ready: {log: "deaf SUT ready"}
      steps:
        - id: wait-long
          tool: test_exec
          args: {command: [tail, -f, /dev/null], timeout: 5m}
          expected: {success: true}
      """
    When I start muster-test with "--config scenarios/deaf.yaml"
    And I wait until a SUT process of the run is running
    And I send SIGINT to muster-test
    And muster-test has said it is stopping
    And I send SIGINT to muster-test every 100 ms until it exits
    Then muster-test exits with code 130
    And the error output contains "SIGINT again: exiting at once"
    And the output does not contain "Summary"
    And nothing of the run is left behind
