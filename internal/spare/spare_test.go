package spare

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// asSpare makes this test binary a spare (see TestMain) whose command line prints what it
// was handed, as it sees it: args, working directory, the variable SPARE_TEST.
const asSpare = "MUSTER_TEST_AS_SPARE"

func TestMain(m *testing.M) {
	if os.Getenv(asSpare) != "" {
		os.Exit(Await(func(args []string) (int, bool) {
			if len(args) == 0 || args[0] != "echo" {
				return 0, false
			}
			wd, _ := os.Getwd()
			cmdline, _ := os.ReadFile("/proc/self/cmdline")
			json.NewEncoder(os.Stdout).Encode(map[string]any{"args": args[1:], "dir": wd, "var": os.Getenv("SPARE_TEST"),
				"cmdline": string(cmdline), "os_args": os.Args[1:], "procs": runtime.GOMAXPROCS(0)})
			return 7, true
		}))
	}
	os.Exit(m.Run())
}

// spareRun starts this binary as a spare, writes handoff (nil: nothing) to its fd 3 and
// closes it, and returns its exit code, stdout and stderr.
func spareRun(t *testing.T, handoff []byte) (int, string, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], Command(os.Args[0])[1:]...)
	cmd.Env = append(os.Environ(), asSpare+"=1", "SPARE_TEST=from-start")
	cmd.ExtraFiles = []*os.File{r}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	if _, err := w.Write(handoff); err != nil {
		t.Fatal(err)
	}
	w.Close()
	err = cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

func TestAwaitRunsTheHandedCommandLineWhereAndWithWhatItSays(t *testing.T) {
	dir, _ := filepath.EvalSymlinks(t.TempDir())
	// One more than this process has, which the spare's own default cannot be.
	wantProcs := runtime.GOMAXPROCS(0) + 1
	procs := fmt.Sprintf("GOMAXPROCS=%d", wantProcs)
	var b bytes.Buffer
	if err := Send(&b, Handoff{Args: []string{"echo", "a", "b c"}, Env: []string{"SPARE_TEST=x=y", procs}, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := spareRun(t, b.Bytes())
	if code != 7 {
		t.Fatalf("exit code %d, want 7 (the command's); stderr: %s", code, errOut)
	}
	var got struct {
		Args    []string
		Dir     string
		Var     string
		Cmdline string
		OSArgs  []string `json:"os_args"`
		Procs   int
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output %q: %v", out, err)
	}
	if strings.Join(got.Args, "|") != "a|b c" || got.Dir != dir || got.Var != "x=y" {
		t.Errorf("the command saw %+v, want args [a, b c], dir %s, SPARE_TEST=x=y", got, dir)
	}
	if got.Procs != wantProcs {
		t.Errorf("GOMAXPROCS is %d, want the handoff's %d, as the runtime sets it at a fresh start", got.Procs, wantProcs)
	}
	if strings.Join(got.OSArgs, "|") != "echo|a|b c" {
		t.Errorf("os.Args after the binary are %q, want the handed command line", got.OSArgs)
	}
	// As ps shows it: the binary and the handed command line, then the rest of the room.
	if want := os.Args[0] + "\x00echo\x00a\x00b c\x00"; !strings.HasPrefix(got.Cmdline, want) ||
		strings.Trim(got.Cmdline[len(want):], "\x00") != "" || len(got.Cmdline) != len(os.Args[0])+1+titleRoom {
		t.Errorf("/proc/self/cmdline is %q (%d bytes), want %q and NULs to %d bytes", got.Cmdline, len(got.Cmdline), want, len(os.Args[0])+1+titleRoom)
	}
}

func TestAwaitWithoutAHandoffExitsQuietly(t *testing.T) {
	if code, out, errOut := spareRun(t, nil); code != 0 || out != "" || errOut != "" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0 and nothing", code, out, errOut)
	}
}

func TestAwaitRefusesWhatItCannotRun(t *testing.T) {
	for name, c := range map[string]struct {
		handoff Handoff
		raw     string
		stderr  string
	}{
		"not JSON":          {raw: "{args", stderr: "reading the handoff"},
		"another spare":     {handoff: Handoff{Args: []string{Role}}, stderr: "another spare"},
		"unknown command":   {handoff: Handoff{Args: []string{"nope"}}, stderr: "not a child command line"},
		"missing directory": {handoff: Handoff{Args: []string{"echo"}, Dir: "/nonexistent/dir"}, stderr: "/nonexistent/dir"},
	} {
		t.Run(name, func(t *testing.T) {
			raw := []byte(c.raw)
			if c.raw == "" {
				var b bytes.Buffer
				if err := Send(&b, c.handoff); err != nil {
					t.Fatal(err)
				}
				raw = b.Bytes()
			}
			code, out, errOut := spareRun(t, raw)
			if code != 2 || out != "" || !strings.Contains(errOut, c.stderr) {
				t.Errorf("exit %d, stdout %q, stderr %q; want 2 and a message with %q", code, out, errOut, c.stderr)
			}
		})
	}
}

func TestFitsRefusesWhatActsAtExecOrTheHandoffWouldChange(t *testing.T) {
	for _, c := range []struct {
		h    Handoff
		want bool
	}{
		{Handoff{Args: []string{"serve"}}, true},
		{Handoff{Args: []string{"serve"}, Env: []string{"A=1", "SSL_CERT_FILE=/ca.pem"}, Dir: "/tmp/x"}, true},
		{Handoff{Env: []string{"A=1", "GOGC=off"}}, false},
		{Handoff{Env: []string{"GODEBUG=x=1"}}, false},
		{Handoff{Env: []string{"GOMAXPROCS=1"}}, true},
		{Handoff{Env: []string{"A=1", "GOMAXPROCS=16"}}, true},
		{Handoff{Env: []string{"GOMAXPROCS=0"}}, false},
		{Handoff{Env: []string{"GOMAXPROCS=-1"}}, false},
		{Handoff{Env: []string{"GOMAXPROCS=two"}}, false},
		{Handoff{Env: []string{"GOMAXPROCS="}}, false},
		{Handoff{Env: []string{"GOMAXPROCS=+2"}}, true},
		// The runtime ignores what does not fit 32 bits; runtime.GOMAXPROCS would not.
		{Handoff{Env: []string{"GOMAXPROCS=2147483648"}}, false},
		{Handoff{Env: []string{"GOMAXPROCS=2147483647"}}, true},
		{Handoff{Env: []string{"LD_PRELOAD=/x.so"}}, false},
		{Handoff{Env: []string{"MALLOC_ARENA_MAX=2"}}, false},
		{Handoff{Args: []string{"serve", "--config-path", "/tmp/\xff"}}, false},
		{Handoff{Env: []string{"A=\xfe"}}, false},
		{Handoff{Dir: "/tmp/\xff"}, false},
	} {
		if got := Fits(c.h); got != c.want {
			t.Errorf("Fits(%+q) = %v, want %v", c.h, got, c.want)
		}
	}
}

// TestASpareTypedByHandReadsNoOneElsesFile: without a handoff pipe on fd 3 a spare says so
// and exits 2, leaving whatever fd 3 is alone.
func TestASpareTypedByHandReadsNoOneElsesFile(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "fd3")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Send(&b, Handoff{Args: []string{"echo", "from-a-file"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b.Bytes()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	for name, extra := range map[string][]*os.File{"a file on fd 3": {f}, "nothing on fd 3": nil} {
		cmd := exec.Command(os.Args[0], Role)
		cmd.Env = append(os.Environ(), asSpare+"=1")
		cmd.ExtraFiles = extra
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || stdout.Len() > 0 || !strings.Contains(stderr.String(), "not a handoff pipe") {
			t.Errorf("%s: %v, stdout %q, stderr %q; want exit 2 and the reason", name, err, stdout.String(), stderr.String())
		}
	}
}

func TestATitleLongerThanTheRoomIsCutShort(t *testing.T) {
	long := strings.Repeat("x", 3*titleRoom)
	var b bytes.Buffer
	if err := Send(&b, Handoff{Args: []string{"echo", long}}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := spareRun(t, b.Bytes())
	var got struct {
		Args    []string
		Cmdline string
	}
	if err := json.Unmarshal([]byte(out), &got); code != 7 || err != nil {
		t.Fatalf("exit %d, output %q (%v), stderr %s", code, out, err, errOut)
	}
	if len(got.Args) != 1 || got.Args[0] != long {
		t.Errorf("the command was handed %d arguments, not the long one whole", len(got.Args))
	}
	want := os.Args[0] + "\x00echo\x00" + long
	want = want[:len(os.Args[0])+titleRoom] + "\x00"
	if got.Cmdline != want {
		t.Errorf("/proc/self/cmdline is %d bytes ending %q, want the title cut at the room and a NUL", len(got.Cmdline), got.Cmdline[max(0, len(got.Cmdline)-8):])
	}
}
