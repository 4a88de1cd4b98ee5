// Package prefault, imported for its init, makes the first megabytes of a process's Go heap
// resident in one system call, before the package init of what the process links fills
// them.
//
// Every scenario starts processes of muster-test-child (the reference SUT, its spares),
// and a child's package init allocates about 1.7 MB, most of it santhosh-tekuri/jsonschema
// compiling its metaschemas (linked through mcp-go's server). Each new page of that costs
// a page fault, and in a virtual machine a fault is dear: `perf` put a quarter of a child's
// start CPU in the kernel's anonymous page faults. MADV_POPULATE_WRITE (Linux 5.14) maps
// the pages in the kernel without a trap each (BENCHMARKS.md has the figures).
//
// Go initializes packages in the order of their import paths among those whose imports
// are done (the language spec, since Go 1.21), and this one needs only
// golang.org/x/sys/unix, so it runs before the heavy inits of the module's dependencies;
// TestRunsBeforeTheHeavyInit checks it in muster-test-child.
package prefault

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// region is how much of the heap is made resident: 2 MB from the start of the 2 MB
// block around a fresh object, which is where the heap's first allocations are. More
// zeroes pages a child never uses: 4 MB saved less CPU than 2 in alternating starts.
const region = 2 << 20

// sink keeps the probe object on the heap.
var sink *[64]byte

func init() {
	sink = new([64]byte)
	_ = populate(uintptr(unsafe.Pointer(sink)) &^ (region - 1))
}

// populate makes the region at base resident: MADV_POPULATE_WRITE faults it in, writable,
// as a write to each page would, without changing what it holds. An older kernel answers
// EINVAL and a range that is not all mapped read-write ENOMEM or EFAULT: the pages then
// fault in one at a time as they would have, and nothing else changes.
//
// The call takes plain addresses, not unix.Madvise's []byte: the region's start need not
// be the start of an object, and a pointer to a free part of the heap, seen by the garbage
// collector on this goroutine's stack, would be fatal.
func populate(base uintptr) error {
	if _, _, e := unix.Syscall(unix.SYS_MADVISE, base, region, unix.MADV_POPULATE_WRITE); e != 0 {
		return e
	}
	return nil
}
