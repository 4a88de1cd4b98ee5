// Package prefault, imported for its init, makes the first megabytes of a process's Go heap
// resident in one system call, before the package init of what the process links fills
// them.
//
// A scenario run against the reference SUT starts processes of muster-test-child (the
// reference SUT, its spares) for every scenario, and a child's package init allocates
// about 1.7 MB, most of it santhosh-tekuri/jsonschema
// compiling its metaschemas (linked through mcp-go's server). Each new page of that costs
// a page fault, and in a virtual machine a fault is dear: `perf` put a quarter of a child's
// start CPU in the kernel's anonymous page faults. MADV_POPULATE_WRITE (Linux 5.14) maps
// the pages in the kernel without a trap each (BENCHMARKS.md has the figures).
//
// Go initializes packages in the order of their import paths among those whose imports
// are done (the language spec, since Go 1.21). This one needs only golang.org/x/sys/unix,
// and sorts before santhosh-tekuri/jsonschema, which imports golang.org/x/text (sorting
// after x/sys), so it runs first; TestRunsBeforeTheHeavyInit checks it in
// muster-test-child. On other systems it does nothing.
package prefault
