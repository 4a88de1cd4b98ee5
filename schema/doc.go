// Package schema holds scenario.schema.json, the JSON Schema of scenario files that editors
// use for completion and checks as you type (see scenarios/README.md). It is generated from
// the loader's types and the runner's test tool table, the source `muster-test schema`
// prints; the tests fail when the file differs from it, and run every scenario file of the
// repository through it.
package schema

//go:generate sh -c "go run ../cmd/muster-test schema > scenario.schema.json"
