Feature: Scenario files are loaded strictly
  A scenario file with a mistake must not run half-understood: muster-test names the file,
  line and column of every problem, suggests the key that was probably meant, and exits 2
  before it starts anything.

  Scenario: An unknown key is an error with file:line:col and a hint
    Given a scenario file "scenarios/typo.yaml":
      """
      name: typo
      category: behavioral
      concept: mcpserver
      steps:
        - id: list
          tool: core_mcpserver_list
          expected:
            success: true
            contians: ["x"]
      """
    When I run muster-test with "validate scenarios"
    Then the exit code is 2
    And the error output contains "scenarios/typo.yaml:9:7"
    And the error output contains "did you mean \"contains\"?"

  Scenario: Running a bad file starts nothing and exits 2
    Given a scenario file "scenarios/bad.yaml":
      """
      name: bad
      category: behavioral
      concept: mcpserver
      timeout: 30
      steps:
        - id: list
          tool: core_mcpserver_list
          expected:
            success: true
      """
    When I run muster-test with "--sut builtin --config scenarios"
    Then the exit code is 2
    And the error output matches "scenarios/bad.yaml:4:\d+: .*30s"
    And the error output contains "nothing was run"
    And nothing of the run is left behind

  Scenario: Errors of every file are reported together
    Given a scenario file "scenarios/a.yaml":
      """
      name: a
      category: behavioral
      concept: mcpserver
      steps:
        - tool: core_mcpserver_list
          expected: {success: true}
      """
    And a scenario file "scenarios/b.yaml":
      """
      name: b
      category: behavioral
      concept: mcpserver
      steps:
        - id: s
          tool: x_missing_tool
          as_user: nobody
          expected: {success: true}
      """
    When I run muster-test with "validate scenarios"
    Then the exit code is 2
    And the error output contains "scenarios/a.yaml:5"
    And the error output contains "scenarios/b.yaml:7"

  Scenario: A scenario name that matches nothing suggests close names
    Given a scenario file "scenarios/one.yaml":
      """
      name: oauth-sso-detection
      category: behavioral
      concept: mcpserver
      steps:
        - id: list
          tool: core_mcpserver_list
          expected: {success: true}
      """
    When I run muster-test with "--sut builtin --config scenarios --scenario oauth-sso-detektion"
    Then the exit code is 2
    And the error output contains "did you mean \"oauth-sso-detection\"?"

  Scenario: init writes a starter scenario that validates and passes
    When I run muster-test with "init my-first"
    Then the exit code is 0
    And the output contains "my-first.yaml"
    When I run muster-test with "validate my-first.yaml"
    Then the exit code is 0
    When I run muster-test with "--sut builtin --config my-first.yaml"
    Then the exit code is 0
    And the output matches "PASS\s+my-first"
    And nothing of the run is left behind

  Scenario: A protocol revision muster-test does not speak is a load error listing the valid ones
    Given a scenario file "scenarios/old.yaml":
      """
      name: old
      sut:
        command: ["./server", "--port", "{{ .sut.port }}"]
        protocol: "2024-11-05"
      steps:
        - id: call
          tool: echo
          expected: {success: true}
      """
    When I run muster-test with "validate scenarios"
    Then the exit code is 2
    And the error output contains "scenarios/old.yaml:4:13: sut.protocol: \"2024-11-05\" is not an MCP protocol revision muster-test speaks (valid: 2026-07-28, 2025-11-25, 2025-06-18)"

  Scenario: --protocol with a revision muster-test does not speak exits 2 before anything starts
    When I run muster-test with "--sut builtin --protocol 2025-03-26"
    Then the exit code is 2
    And the error output contains "--protocol: \"2025-03-26\" is not an MCP protocol revision muster-test speaks (valid: 2026-07-28, 2025-11-25, 2025-06-18)"
    And nothing of the run is left behind
