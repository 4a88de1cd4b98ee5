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

// TestPopulateMakesTheRegionResident: an anonymous mapping nothing has touched is all
// resident after populate, and holds zeros still.
func TestPopulateMakesTheRegionResident(t *testing.T) {
	// Twice the region, so that an aligned region lies inside.
	mem, err := unix.Mmap(-1, 0, 2*region, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	start := uintptr(unsafe.Pointer(&mem[0]))
	base := (start + region - 1) &^ (region - 1)
	r := mem[base-start : base-start+region]
	if got := resident(t, r); got != 0 {
		t.Fatalf("%d pages resident before populate, want 0", got)
	}
	if err := populate(base); errors.Is(err, syscall.EINVAL) {
		t.Skip("this kernel has no MADV_POPULATE_WRITE (Linux 5.14)")
	} else if err != nil {
		t.Fatal(err)
	}
	if got, want := resident(t, r), region/os.Getpagesize(); got != want {
		t.Errorf("%d pages resident after populate, want %d", got, want)
	}
	if bytes.ContainsFunc(r, func(c rune) bool { return c != 0 }) {
		t.Error("populate changed what the region holds")
	}
}

// TestPopulateLeavesAnUnmappedRangeAlone: a range not mapped read-write is an error, not
// a crash or a new mapping.
func TestPopulateLeavesAnUnmappedRangeAlone(t *testing.T) {
	mem, err := unix.Mmap(-1, 0, 2*region, unix.PROT_NONE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	base := (uintptr(unsafe.Pointer(&mem[0])) + region - 1) &^ (region - 1)
	if err := populate(base); err == nil {
		t.Error("populate of a PROT_NONE range succeeded")
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
