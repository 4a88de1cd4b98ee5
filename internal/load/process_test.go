package load

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/testbin"
)

func writeWorkload(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "counter.yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestShardsMergeExactly runs three shard processes and merges their files with the
// command: counts are the shards' sums, and the merged percentiles are those of all the
// shards' samples (their histograms added), not an average of the shards' percentiles.
func TestShardsMergeExactly(t *testing.T) {
	wl := writeWorkload(t, counterWorkload)
	dir := t.TempDir()
	var wg sync.WaitGroup
	outs := make([]string, 3)
	errs := make([]error, 3)
	for k := range 3 {
		outs[k] = filepath.Join(dir, "shard-"+string(rune('1'+k))+".json")
		wg.Go(func() {
			cmd := exec.Command(muster, "load", "--workload", wl, "--users", "6", "--duration", "1s", "--no-color",
				"--shard", string(rune('1'+k))+"/3", "--out", outs[k])
			if out, err := cmd.CombinedOutput(); err != nil && cmd.ProcessState.ExitCode() != 1 { // thresholds may break
				errs[k] = err
				t.Logf("shard %d: %s", k+1, out)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	total, page := filepath.Join(dir, "total.json"), filepath.Join(dir, "total.html")
	if out, err := exec.Command(muster, append([]string{"load", "merge"}, append(outs, "--out", total, "--html", page)...)...).CombinedOutput(); err != nil {
		t.Fatalf("merge: %v\n%s", err, out)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`aria-label="Throughput"`, `aria-label="p95 latency"`, `aria-label="Latency of every call (log scale)"`,
		"<h2>Steps</h2>", "<td>hit</td>", "<h2>Workflows</h2>"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("the merged HTML report lacks %s", want)
		}
	}
	merged, err := ReadReport(total)
	if err != nil {
		t.Fatal(err)
	}
	var all Histogram
	var count, errors uint64
	users := map[string]bool{}
	for _, p := range outs {
		r, err := ReadReport(p)
		if err != nil {
			t.Fatal(err)
		}
		if r.Users != 2 || len(r.UsersFig) != 2 {
			t.Errorf("%s: %d users, figures of %d", p, r.Users, len(r.UsersFig))
		}
		for u := range r.UsersFig {
			if users[u] {
				t.Errorf("user %s in two shards", u)
			}
			users[u] = true
		}
		count += r.Run.Count
		errors += r.Run.Errors
		all.Merge(&r.Run.Hist)
	}
	if merged.Run.Count != count || merged.Run.Errors != errors || merged.Users != 6 || len(merged.Shards) != 3 {
		t.Errorf("merged count %d errors %d users %d shards %v; shards sum to %d, %d", merged.Run.Count, merged.Run.Errors,
			merged.Users, merged.Shards, count, errors)
	}
	for _, q := range []float64{.5, .9, .95, .99} {
		if got, want := merged.Run.Hist.Quantile(q), all.Quantile(q); got != want {
			t.Errorf("merged q%v = %v, over all samples %v", q, got, want)
		}
	}
	if merged.Run.P95MS != all.Quantile(.95) || merged.Run.MaxMS != all.Max() {
		t.Errorf("merged p95_ms %v max_ms %v; all samples %v, %v", merged.Run.P95MS, merged.Run.MaxMS, all.Quantile(.95), all.Max())
	}
	t.Run("merge refusals and verdicts", func(t *testing.T) { checkMergeVerdicts(t, outs, merged) })
}

// checkMergeVerdicts holds `load merge` to its exit codes: a shard missing or given twice
// is a usage error, a regression beyond --max-regression and an interrupted shard fail it.
func checkMergeVerdicts(t *testing.T, outs []string, merged *Report) {
	dir := t.TempDir()
	// A previous run ten times faster: the merged rps is then 90% down.
	prev := *merged
	prev.Seconds /= 10
	fast := filepath.Join(dir, "fast.json")
	if err := WriteReport(fast, &prev); err != nil {
		t.Fatal(err)
	}
	cut, err := ReadReport(outs[2])
	if err != nil {
		t.Fatal(err)
	}
	cut.Interrupted = true
	cutFile := filepath.Join(dir, "cut.json")
	if err := WriteReport(cutFile, cut); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"a shard missing", []string{outs[0], outs[1]}, 2, "shard 3/3 missing"},
		{"a shard twice", []string{outs[0], outs[1], outs[2], outs[2]}, 2, "shard 3/3 is in part 3 and in part 4"},
		{"--max-regression without --compare", append(outs[:3:3], "--max-regression", "5"), 2, "--max-regression needs --compare"},
		{"a regression beyond the bound", append(outs[:3:3], "--compare", fast, "--max-regression", "50"), 1, "regression beyond 50%: rps"},
		{"within the bound", append(outs[:3:3], "--compare", fast, "--max-regression", "95"), 0, "compared with"},
		{"an interrupted shard", []string{outs[0], outs[1], cutFile}, 1, "interrupted shard 3/3 (" + cutFile + ")"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(muster, append([]string{"load", "merge"}, c.args...)...)
			out, _ := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != c.code || !strings.Contains(string(out), c.want) {
				t.Errorf("exit %d, want %d with %q:\n%s", code, c.code, c.want, out)
			}
		})
	}
}

// TestInterruptPrintsFiguresAndLeavesNothing: SIGINT during the run stops it, prints the
// figures so far, exits 130, and no process of the run is left.
func TestInterruptPrintsFiguresAndLeavesNothing(t *testing.T) {
	wl := writeWorkload(t, counterWorkload)
	out := filepath.Join(t.TempDir(), "r.json")
	cmd := exec.Command(muster, "load", "--workload", wl, "--duration", "1m", "--no-color", "--out", out)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	running := false
	for sc.Scan() {
		if strings.Contains(sc.Text(), "; running") {
			running = true
			break
		}
	}
	if !running {
		cmd.Wait()
		t.Fatalf("the run never started: %s", stdout.String())
	}
	start := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	go func() {
		for sc.Scan() {
		}
	}()
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit %d, want 130\n%s", code, stdout.String())
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("stopping took %s", took)
	}
	if !strings.Contains(stdout.String(), "interrupted: figures so far") {
		t.Errorf("no figures:\n%s", stdout.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal(b, &r); err != nil || r["interrupted"] != true {
		t.Errorf("--out file: %v, interrupted=%v", err, r["interrupted"])
	}
	testbin.WaitNoneLeft(t, 5*time.Second, func() []string { return processesOf(muster) })
}

// processesOf lists the pids running the binary.
func processesOf(bin string) []string {
	var pids []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe")); err == nil && exe == bin {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// TestBadWorkloadExits2BeforeAnythingStarts: load errors are reported with file:line:col
// and exit 2; bad flags exit 2 too.
func TestBadWorkloadExits2BeforeAnythingStarts(t *testing.T) {
	bad := strings.Replace(counterWorkload, "as_role: b", "as_role: c", 1)
	bad = strings.Replace(bad, `"< 5s"`, `"soon"`, 1)
	wl := writeWorkload(t, bad)
	grouped := writeWorkload(t, strings.Replace(groupWorkload, "{id: slow-b, tool: x_m_slow, as_role: b,", "{id: slow-b, tool: x_m_slow,", 1))
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--workload", wl}, []string{wl + ":23:52: workflows[1].steps[1].as_role: \"c\" is not a role",
			wl + ":34:19: thresholds: threshold \"step:hit p99\": value \"soon\"", "2 error(s) in the workload; nothing was started"}},
		{[]string{"--workload", grouped}, []string{grouped + `:25:13: workflows[0].steps[1].concurrently[1]: missing required key "as_role"`}},
		{[]string{"--workload", "no-such-workload"}, []string{"no such file, nor a built-in workload (refserver-direct, refserver-notes-edit, refserver-notes-files, refserver-notes-mixed, refserver-notes-share, refsut-gateway, refsut-notes-edit, refsut-notes-files, refsut-notes-mixed, refsut-notes-share)"}},
		{[]string{"--workload", "refsut-gateway", "--shard", "3/2"}, []string{"want K/N"}},
		{[]string{"--workload", "refsut-gateway", "--users", "1"}, []string{"1 user(s) in shard 1/1 cannot fill a workflow of 2 roles"}},
		{[]string{"--workload", "refsut-gateway", "--html", filepath.Join(wl, "r.html")}, []string{"--html " + wl}},
	} {
		cmd := exec.Command(muster, append([]string{"load"}, tc.args...)...)
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", tc.args, code, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%v: no %q in:\n%s", tc.args, w, out)
			}
		}
	}
}

// TestSUTArgsReachTheWorkloadsServer: --sut-args append to the command of the workload's
// sut block, so a workload can run against a server with a fault, and the fault shows in
// the figures: with sharing not enforced, the outsider reads every shared note, and the
// run breaks its error-rate threshold.
func TestSUTArgsReachTheWorkloadsServer(t *testing.T) {
	args := []string{"load", "--workload", "refserver-notes-share", "--users", "3", "--duration", "1s", "--warmup", "0s", "--no-color"}
	cmd := exec.Command(muster, append(args, "--sut-args", "--fault sharing-not-enforced")...)
	out, _ := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), "threshold broken: error_rate") ||
		!strings.Contains(string(out), "errors by kind: expectation") {
		t.Fatalf("with the fault: exit %d, want 1 with the error-rate threshold broken by expectations:\n%s", code, out)
	}
	cmd = exec.Command(muster, append(args, "--sut-args", `"unclosed`)...)
	out, _ = cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(out), "--sut-args") {
		t.Fatalf("bad --sut-args: exit %d, want 2:\n%s", code, out)
	}
}
