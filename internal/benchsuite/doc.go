// Package benchsuite measures muster-test as users run it: the built-in suite against the
// reference SUT at several --parallel settings, the runner's own overhead per scenario,
// peak memory, and the component throughput figures of the mocks' Go benchmarks. It is a
// test that only `make bench` enables (MUSTER_TEST_BENCH=1), so `make test` never depends
// on how fast the machine is.
package benchsuite
