//go:build linux

package prefault

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// resident counts the pages of mem that are in memory.
func resident(t *testing.T, mem []byte) int {
	t.Helper()
	vec := make([]byte, len(mem)/os.Getpagesize())
	if _, _, e := syscall.Syscall(syscall.SYS_MINCORE, uintptr(unsafe.Pointer(&mem[0])), uintptr(len(mem)),
		uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		t.Fatal(e)
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return n
}

// aligned maps twice the region, read-write and untouched, and returns the aligned region
// inside it.
func aligned(t *testing.T) []byte {
	t.Helper()
	mem, err := unix.Mmap(-1, 0, 2*region, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Munmap(mem) })
	// So that a write faults in its page alone, also where transparent huge pages are
	// "always" on.
	if err := unix.Madvise(mem, unix.MADV_NOHUGEPAGE); err != nil {
		t.Fatal(err)
	}
	start := uintptr(unsafe.Pointer(&mem[0]))
	off := ((start + region - 1) &^ (region - 1)) - start
	return mem[off : off+region]
}

func addr(b []byte) uintptr { return uintptr(unsafe.Pointer(&b[0])) }

// TestPopulateMakesTheRegionResident: a region of which a few pages were written is all
// resident after populate, and holds what was written and zeros elsewhere.
func TestPopulateMakesTheRegionResident(t *testing.T) {
	r := aligned(t)
	page := os.Getpagesize()
	written := map[int]byte{0: 0xa5, 7 * page: 0x5a, region - 1: 0xff}
	for i, v := range written {
		r[i] = v
	}
	if got := resident(t, r); got != len(written) {
		t.Fatalf("%d pages resident before populate, want %d (those written)", got, len(written))
	}
	if err := populate(addr(r)); errors.Is(err, syscall.EINVAL) {
		t.Skip("this kernel has no MADV_POPULATE_WRITE (Linux 5.14)")
	} else if err != nil {
		t.Fatal(err)
	}
	if got, want := resident(t, r), region/page; got != want {
		t.Errorf("%d pages resident after populate, want %d", got, want)
	}
	for i, c := range r {
		if c != written[i] {
			t.Fatalf("byte %d is %#x after populate, want %#x", i, c, written[i])
		}
	}
}

// TestPopulateLeavesWhatItCannotPopulateAlone: a range not mapped writable, or with a hole,
// is an error, not a crash or a new mapping.
func TestPopulateLeavesWhatItCannotPopulateAlone(t *testing.T) {
	r := aligned(t)
	if err := populate(addr(r)); errors.Is(err, syscall.EINVAL) {
		t.Skip("this kernel has no MADV_POPULATE_WRITE (Linux 5.14)")
	}
	if err := unix.Mprotect(r, unix.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	if err := populate(addr(r)); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("populate of a PROT_NONE region: %v, want EINVAL", err)
	}
	if err := unix.Mprotect(r, unix.PROT_READ|unix.PROT_WRITE); err != nil {
		t.Fatal(err)
	}
	hole := r[region/2:]
	// A raw munmap: unix.Munmap unmaps only whole mappings it made.
	if _, _, e := syscall.Syscall(syscall.SYS_MUNMAP, addr(hole), uintptr(len(hole)), 0); e != 0 {
		t.Fatal(e)
	}
	if err := populate(addr(r)); !errors.Is(err, syscall.ENOMEM) {
		t.Errorf("populate of a region with a hole: %v, want ENOMEM", err)
	}
	vec := make([]byte, len(hole)/os.Getpagesize())
	if _, _, e := syscall.Syscall(syscall.SYS_MINCORE, addr(hole), uintptr(len(hole)), uintptr(unsafe.Pointer(&vec[0]))); e != syscall.ENOMEM {
		t.Errorf("mincore of the hole after populate: %v, want ENOMEM (still unmapped)", e)
	}
}

// TestRunsBeforeTheHeavyInit builds muster-test-child and reads its init trace: this
// package's init must come before the JSON Schema compiler's, whose allocations it is for.
func TestRunsBeforeTheHeavyInit(t *testing.T) {
	if testing.Short() {
		t.Skip("builds muster-test-child")
	}
	bin := filepath.Join(t.TempDir(), "muster-test-child")
	build := exec.Command("go", "build", "-o", bin, "github.com/muster-test/muster-test/cmd/muster-test-child")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--help")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	_ = cmd.Run() // usage: exit 2
	var order []string
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 1 && f[0] == "init" {
			order = append(order, f[1])
		}
	}
	at := func(pkg string) int {
		for i, p := range order {
			if p == pkg {
				return i
			}
		}
		t.Fatalf("no init of %s in the trace:\n%s", pkg, stderr.String())
		return -1
	}
	if self, heavy := at("github.com/muster-test/muster-test/internal/prefault"), at("github.com/santhosh-tekuri/jsonschema/v6"); self > heavy {
		t.Errorf("prefault's init is number %d, after jsonschema's (%d)", self, heavy)
	}
}
