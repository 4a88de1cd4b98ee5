package benchsuite

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/muster-test/muster-test/internal/testbin"
)

// TestSuiteBenchmark prints the benchmark table of BENCHMARKS.md. MUSTER_TEST_BENCH_GO
// names a file with `go test -bench` output of the mocks, whose figures join the table.
func TestSuiteBenchmark(t *testing.T) {
	if os.Getenv("MUSTER_TEST_BENCH") == "" {
		t.Skip("run by `make bench` (MUSTER_TEST_BENCH=1)")
	}
	bins := buildCommands(t)
	bin := bins["muster-test"]
	suite, err := filepath.Abs("../../scenarios")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(suite, "*.yaml"))
	cpus := runtime.NumCPU()

	var rows [][]string
	suiteRow := func(bin, how string, p int) {
		m := measure(t, bin, suite, p)
		if m.failed {
			rows = append(rows, []string{fmt.Sprintf("built-in suite, --parallel %d%s", p, how), failedRow})
			return
		}
		rows = append(rows, []string{fmt.Sprintf("built-in suite (%d scenarios), --parallel %d%s", m.scenarios, p, how),
			fmt.Sprintf("wall %s; per scenario median %s, p95 %s; SUT start-to-listen median %s; runner overhead median %s (p95 %s); CPU of all processes %s per scenario; runner peak RSS %s; all processes peak RSS %s (%s per running scenario)",
				ms(m.wall), ms(m.median), ms(m.p95), ms(m.listenMedian), ms(m.overheadMedian), ms(m.overheadP95), ms(m.cpu/time.Duration(m.scenarios)),
				mb(m.runnerRSS), mb(m.treeRSS), mb(m.treeRSS/int64(p)))})
	}
	for _, p := range []int{1, cpus} {
		suiteRow(bin, "", p)
	}
	if len(bins) > 1 {
		// What `go install ./cmd/muster-test` alone gives: the runner starts itself.
		alone := filepath.Join(t.TempDir(), "muster-test")
		raw, err := os.ReadFile(bin)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(alone, raw, 0o755); err != nil {
			t.Fatal(err)
		}
		suiteRow(alone, ", muster-test alone (no muster-test-child beside it)", 1)
	}
	big := replicate(t, files, 200)
	bigRow := failedRow
	if m := measure(t, bin, big, 50); !m.failed {
		bigRow = fmt.Sprintf("wall %s; runner peak RSS %s; all processes peak RSS %s (%s per running scenario); runner overhead median %s; CPU of all processes %s per scenario",
			ms(m.wall), mb(m.runnerRSS), mb(m.treeRSS), mb(m.treeRSS/50), ms(m.overheadMedian), ms(m.cpu/time.Duration(m.scenarios)))
	}
	rows = append(rows, []string{"200 scenarios (suite replicated), --parallel 50", bigRow})
	rows = append(rows, goBenchRows(t, os.Getenv("MUSTER_TEST_BENCH_GO"))...)
	printTable(rows)
}

// buildCommands builds every command, as `make build` and `go install ./cmd/...` install
// them, and returns their paths by name. MUSTER_TEST_BENCH_BIN names a directory of
// commands built before (say, from an older commit) to measure instead.
func buildCommands(t *testing.T) map[string]string {
	t.Helper()
	dir := os.Getenv("MUSTER_TEST_BENCH_BIN")
	if dir == "" {
		dir = t.TempDir()
		if _, err := testbin.BuildInto(dir); err != nil {
			t.Fatal(err)
		}
	}
	bins := map[string]string{}
	for _, name := range []string{"muster-test", "muster-test-child", "muster-test-relay"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			bins[name] = filepath.Join(dir, name)
		}
	}
	return bins
}

func printTable(rows [][]string) {
	var b strings.Builder
	fmt.Fprintf(&b, "\n| measurement | result |\n|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s |\n", r[0], r[1])
	}
	fmt.Fprintf(&b, "\nmachine: %s, %d CPUs, %s\n", runtime.GOOS+"/"+runtime.GOARCH, runtime.NumCPU(), cpuModel())
	fmt.Print(b.String())
}

type measurement struct {
	scenarios                   int
	wall, median, p95           time.Duration
	overheadMedian, overheadP95 time.Duration
	listenMedian                time.Duration // the SUT's own start-to-listen
	cpu                         time.Duration // user+sys of the runner and every child it (or a child) reaped
	runnerRSS, treeRSS          int64         // bytes
	failed                      bool          // the run did not pass; the rest is unset
}

const failedRow = "the run failed (its output is above)"

// measure runs the suite in dir once and reads the JSON report and the sampled memory.
func measure(t *testing.T, bin, dir string, parallel int) measurement {
	t.Helper()
	report := t.TempDir()
	cmd := exec.Command(bin, "--sut", "builtin", "--config", dir, "--parallel", strconv.Itoa(parallel),
		"--report", report, "--no-color")
	cmd.Dir = t.TempDir()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sampler := startSampler(cmd.Process.Pid)
	err := cmd.Wait()
	wall := time.Since(start)
	runnerRSS, treeRSS := sampler.stop()
	if err != nil {
		// Reported, and the table still printed: the rows measured so far stay useful.
		t.Errorf("suite run failed (%v):\n%s", err, out.String())
		return measurement{failed: true}
	}
	reports, _ := filepath.Glob(filepath.Join(report, "*.json"))
	if len(reports) != 1 {
		t.Fatalf("no report:\n%s", out.String())
	}
	raw, err := os.ReadFile(reports[0])
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Results []struct {
			Duration time.Duration `json:"duration"`
			Timings  struct {
				Steps     time.Duration `json:"steps"`
				SUTListen time.Duration `json:"sut_listen"`
			} `json:"timings"`
		} `json:"scenario_results"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var durs, over, listen []time.Duration
	for _, r := range doc.Results {
		durs = append(durs, r.Duration)
		over = append(over, r.Duration-r.Timings.Steps-r.Timings.SUTListen)
		listen = append(listen, r.Timings.SUTListen)
	}
	return measurement{scenarios: len(doc.Results), wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), median: quantile(durs, 0.5), p95: quantile(durs, 0.95),
		overheadMedian: quantile(over, 0.5), overheadP95: quantile(over, 0.95), listenMedian: quantile(listen, 0.5),
		runnerRSS: runnerRSS, treeRSS: treeRSS}
}

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// replicate copies the suite's files into a temp dir until there are n scenarios. Copies
// keep their names (a warning, not an error) and run like the originals.
func replicate(t *testing.T, files []string, n int) string {
	dir := t.TempDir()
	for i := range n {
		src := files[i%len(files)]
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, fmt.Sprintf("copy%03d-%s", i, filepath.Base(src)))
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// sampler polls the RSS of the runner and of all its descendants (SUTs, stdio mocks).
type sampler struct {
	done            chan struct{}
	wg              sync.WaitGroup
	runner, tree    int64
	root            int
	pollingInterval time.Duration
}

func startSampler(pid int) *sampler {
	s := &sampler{done: make(chan struct{}), root: pid, pollingInterval: 10 * time.Millisecond}
	s.wg.Go(func() {
		tick := time.NewTicker(s.pollingInterval)
		defer tick.Stop()
		for {
			r, tr := s.sample()
			s.runner, s.tree = max(s.runner, r), max(s.tree, tr)
			select {
			case <-s.done:
				return
			case <-tick.C:
			}
		}
	})
	return s
}

func (s *sampler) stop() (runner, tree int64) {
	close(s.done)
	s.wg.Wait()
	return s.runner, s.tree
}

// sample reads VmRSS of the root and of every process whose ancestry leads to it.
func (s *sampler) sample() (runner, tree int64) {
	parent := map[int]int{}
	rss := map[int]int64{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := os.Open(filepath.Join("/proc", e.Name(), "status"))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "PPid:"); ok {
				parent[pid], _ = strconv.Atoi(strings.TrimSpace(v))
			}
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
				rss[pid] = kb * 1024
			}
		}
		f.Close()
	}
	for pid, r := range rss {
		for p := pid; p > 1; p = parent[p] {
			if p == s.root {
				tree += r
				break
			}
		}
	}
	return rss[s.root], tree
}

var benchLineRE = regexp.MustCompile(`^(Benchmark\S+)\s+\d+\s+.*?([\d.]+) (\S+/s)`)

// goBenchRows turns the custom rate metrics of `go test -bench` output into rows.
func goBenchRows(t *testing.T, path string) [][]string {
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("MUSTER_TEST_BENCH_GO: %v", err)
	}
	defer f.Close()
	var rows [][]string
	pkg := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimPrefix(p, "github.com/muster-test/muster-test/")
		}
		if m := benchLineRE.FindStringSubmatch(line); m != nil {
			rate, _ := strconv.ParseFloat(m[2], 64)
			rows = append(rows, []string{fmt.Sprintf("%s %s", pkg, m[1]), fmt.Sprintf("%.0f %s", rate, m[3])})
		}
	}
	return rows
}

func ms(d time.Duration) string {
	if d >= 10*time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Millisecond).String()
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "unknown CPU"
}
