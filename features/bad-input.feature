Feature: Broken and hostile scenario files are refused quickly
  A file that is huge, expands without end, or is no file at all must not keep muster-test
  busy or flood the terminal: it gets one clear load error with its position, exit 2.

  Scenario: A small file that expands to millions of values stops at the value budget
    Given a scenario file "scenarios/bomb.yaml":
      """
      name: bomb
      steps:
        - &s0 {id: a, tool: t, expected: {success: true}}
        - &s1 {id: a, tool: t, expected: {success: true}, cleanup: [*s0, *s0, *s0, *s0, *s0, *s0, *s0, *s0, *s0, *s0]}
        - &s2 {id: a, tool: t, expected: {success: true}, cleanup: [*s1, *s1, *s1, *s1, *s1, *s1, *s1, *s1, *s1, *s1]}
        - &s3 {id: a, tool: t, expected: {success: true}, cleanup: [*s2, *s2, *s2, *s2, *s2, *s2, *s2, *s2, *s2, *s2]}
        - &s4 {id: a, tool: t, expected: {success: true}, cleanup: [*s3, *s3, *s3, *s3, *s3, *s3, *s3, *s3, *s3, *s3]}
        - &s5 {id: a, tool: t, expected: {success: true}, cleanup: [*s4, *s4, *s4, *s4, *s4, *s4, *s4, *s4, *s4, *s4]}
        - &s6 {id: a, tool: t, expected: {success: true}, cleanup: [*s5, *s5, *s5, *s5, *s5, *s5, *s5, *s5, *s5, *s5]}
        - &s7 {id: a, tool: t, expected: {success: true}, cleanup: [*s6, *s6, *s6, *s6, *s6, *s6, *s6, *s6, *s6, *s6]}
      """
    When I run muster-test with "validate scenarios"
    Then the exit code is 2
    And the error output matches "scenarios/bomb.yaml:\d+:\d+: .*more than 200000 values"
    And the error output has at most 2 message lines

  Scenario: A file with many mistakes shows the first 50 and counts the rest
    Given a scenario file "scenarios/many.yaml" with 120 steps "{}"
    When I run muster-test with "validate scenarios"
    Then the exit code is 2
    And the error output contains "scenarios/many.yaml:3:5: steps[0]: missing required key"
    And the error output matches "scenarios/many.yaml:\d+:\d+: \.\.\. 310 more errors in this file"
    And the error output contains "muster-test: 360 error(s) in scenario files"
    And the error output has at most 52 message lines
    And every error line stands at "scenarios/many.yaml":line:col

  Scenario: Merge keys nested too deep give one message
    Given a scenario file "scenarios/merge.yaml":
      """
      name: merge
      steps:
        - &m0 {id: s0, tool: t, expected: {success: true}}
        - &m1 {<<: *m0, id: s1}
        - &m2 {<<: *m1, id: s2}
        - &m3 {<<: *m2, id: s3}
        - &m4 {<<: *m3, id: s4}
        - &m5 {<<: *m4, id: s5}
        - &m6 {<<: *m5, id: s6}
        - &m7 {<<: *m6, id: s7}
        - &m8 {<<: *m7, id: s8}
        - &m9 {<<: *m8, id: s9}
        - &m10 {<<: *m9, id: s10}
        - &m11 {<<: *m10, id: s11}
        - &m12 {<<: *m11, id: s12}
        - &m13 {<<: *m12, id: s13}
        - &m14 {<<: *m13, id: s14}
        - &m15 {<<: *m14, id: s15}
        - &m16 {<<: *m15, id: s16}
        - &m17 {<<: *m16, id: s17}
        - &m18 {<<: *m17, id: s18}
        - &m19 {<<: *m18, id: s19}
        - {<<: *m19, id: last}
      """
    When I run muster-test with "validate scenarios"
    Then the exit code is 2
    And the error output contains "scenarios/merge.yaml:20:11: steps[17]: merge keys (<<) nested more than 16 deep"
    And the error output has at most 2 message lines

  Scenario Outline: A value past its bound is a load error, for validate and for a run alike
    Given a scenario file "scenarios/bound.yaml":
      """
      name: bound
      steps:
        - id: s
          tool: core_mcpserver_list
          <key>: <value>
          expected: {success: true}
      """
    When I run muster-test with "<command>"
    Then the exit code is 2
    And the error output contains "scenarios/bound.yaml:5:<col>: steps[0].<message>"
    And the error output contains "nothing was run"
    And nothing of the run is left behind

    Examples:
      | command                          | key      | value                       | col | message                                                    |
      | validate scenarios               | parallel | 1000000                     | 15  | parallel: must be from 1 to 1000, got 1000000              |
      | --sut builtin --config scenarios | parallel | 1000000                     | 15  | parallel: must be from 1 to 1000, got 1000000              |
      | validate scenarios               | retry    | {count: 1000000000}         | 20  | retry.count: must be from 0 to 1000, got 1000000000        |
      | --sut builtin --config scenarios | retry    | {count: 1000000000}         | 20  | retry.count: must be from 0 to 1000, got 1000000000        |
      | validate scenarios               | retry    | {backoff_multiplier: 1e308} | 33  | retry.backoff_multiplier: must be from 1 to 10, got 1e+308 |
      | --sut builtin --config scenarios | retry    | {backoff_multiplier: 1e308} | 33  | retry.backoff_multiplier: must be from 1 to 10, got 1e+308 |
      | validate scenarios               | timeout  | 0s                          | 14  | timeout: must be from 1ms to 1h0m0s, got 0s                |

  Scenario: A FIFO named *.yaml is refused without waiting for a writer
    Given a FIFO "scenarios/pipe.yaml"
    When I start muster-test with "validate scenarios"
    Then muster-test exits with code 2
    And the error output contains "scenarios/pipe.yaml: not a regular file (a named pipe)"

  Scenario: A symlink to /dev/zero is refused; a symlink to a scenario file loads
    Given a symlink "scenarios/zero.yaml" to "/dev/zero"
    And a scenario file "real/one.yaml":
      """
      name: one
      steps:
        - id: list
          tool: core_mcpserver_list
          expected: {success: true}
      """
    And a symlink "scenarios/one.yaml" to "../real/one.yaml"
    When I start muster-test with "--sut builtin --config scenarios"
    Then muster-test exits with code 2
    And the error output contains "scenarios/zero.yaml: not a regular file (a device)"
    And the error output has at most 2 message lines
    And nothing of the run is left behind
    When I run muster-test with "validate scenarios/one.yaml"
    Then the exit code is 0
    And the output contains "1 scenario(s) valid"

  Scenario: A file of 850,000 steps is refused at once by its size
    Given a scenario file "scenarios/huge.yaml" with 850000 steps "{}"
    When I start muster-test with "validate scenarios"
    Then muster-test exits with code 2
    And the error output contains "scenarios/huge.yaml: larger than 1 MiB, the limit for a scenario file"
    And the error output has at most 2 message lines
