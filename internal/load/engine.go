// Package load is `muster-test load`: it sets a workload's world up once (mocks and SUT,
// as a scenario's), logs in its virtual users through the real OAuth flow, drives the
// workflows with a closed model (each user loops) or an open one (a fixed rate of
// workflow starts), and keeps per-step, per-workflow and per-user figures in mergeable
// histograms. Steps run through the executor, so they keep their expectations,
// templates and retries; a step that does not pass is an error of its kind.
package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/executor"
	"github.com/muster-test/muster-test/internal/runner"
	"github.com/muster-test/muster-test/internal/testtools"
	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/scenario"
)

// Options are a load run's settings, the command's flags already applied over the
// workload's own.
type Options struct {
	Workload                 *scenario.Workload
	Runner                   *runner.Options // SUT choice, ready timeout, output
	Users                    int
	Duration, RampUp, Warmup time.Duration
	Rate                     float64 // workflow starts per second (open model); 0: closed model
	Seed                     int64
	ShardK, ShardN           int // this process runs share K of N (1/1 when zero)
	// Progress gets a plain line every 5 s, or with Live one line rewritten every second.
	Progress io.Writer
	Live     bool
	// Observe, when set, sees the world after the load and before the teardown: a test
	// counts the calls that reached the mocks.
	Observe func(*testtools.World)
}

// maxInFlight bounds the open model's workflows in flight. A start that finds it full
// waits, and its latency still counts from its intended start, so the stall shows.
const maxInFlight = 1024

type engine struct {
	o     *Options
	stage *runner.Stage
	tools executor.Registry
	ex    *executor.Executor
	flows []*flow
	total float64 // the workflows' weights summed
	users []*vuser

	t0, from, end time.Time // start, end of the warm-up, end of the measured window

	mu    sync.Mutex // guards rep and calls during the run
	rep   *Report
	calls int // every step call, the warm-up's included, for the CPU per call
}

// flow is a workflow ready to run: its steps as a scenario whose users are its roles.
type flow struct {
	wf    *scenario.Workflow
	sc    *scenario.Scenario
	roles []string
}

// ErrTooFewUsers is returned when fewer users logged in than a workflow has roles.
var ErrTooFewUsers = errors.New("too few users")

// Run sets up the world, logs the users in, runs the load and tears everything down. The
// report holds the figures so far also when ctx was cancelled (Interrupted is then set);
// notes are the teardown's. err is a set-up that failed.
func Run(ctx context.Context, o *Options) (rep *Report, notes []string, err error) {
	if o.ShardN == 0 {
		o.ShardK, o.ShardN = 1, 1
	}
	w := o.Workload
	e := &engine{o: o, tools: testtools.Registry(), rep: newReport()}
	e.ex = &executor.Executor{Tools: e.tools}
	e.rep.Workload, e.rep.Seed, e.rep.Model = w.Name, o.Seed, "closed"
	e.rep.Shards = []string{fmt.Sprintf("%d/%d", o.ShardK, o.ShardN)}
	if o.Rate > 0 {
		e.rep.Model, e.rep.Rate = "open", o.Rate/float64(o.ShardN)
	}
	e.prepareFlows()
	numbers := share(o.Users, o.ShardK, o.ShardN)
	e.rep.Users = len(numbers)

	stage, err := runner.SetUpStage(ctx, o.Runner, w.Scenario())
	if err != nil {
		return nil, nil, err
	}
	e.stage = stage
	failed := false
	defer func() { notes = stage.Close(failed) }()

	e.users = e.logIn(ctx, numbers)
	if ctx.Err() == nil && len(e.users) < e.maxRoles() {
		failed = true
		return nil, nil, fmt.Errorf("%w: %d of %d users logged in, a workflow needs %d (first failure: %s)",
			ErrTooFewUsers, len(e.users), len(numbers), e.maxRoles(), e.rep.Setup.FirstFailed)
	}
	e.drive(ctx)
	e.rep.IdPs = map[string]idp.Counters{}
	for _, name := range stage.World.Env.IdPNames() {
		if s, ok := stage.World.Env.IdP(name); ok {
			e.rep.IdPs[name] = s.Counters()
		}
	}
	if o.Observe != nil {
		o.Observe(stage.World)
	}
	e.rep.Interrupted = ctx.Err() != nil
	e.rep.finish()
	return e.rep, nil, nil
}

func (e *engine) prepareFlows() {
	for i := range e.o.Workload.Workflows {
		wf := &e.o.Workload.Workflows[i]
		f := &flow{wf: wf, roles: wf.RoleNames()}
		sc := e.o.Workload.Scenario()
		sc.Name = wf.Name
		sc.Steps = make([]scenario.Step, len(wf.Steps))
		for j, st := range wf.Steps {
			if st.IsGroup() {
				// The executor runs a group's steps at once, each as its own user.
				st.Concurrently = slices.Clone(st.Concurrently)
				for k := range st.Concurrently {
					st.Concurrently[k].AsUser = f.user(st.Concurrently[k].AsRole)
				}
			} else {
				st.AsUser = f.user(st.AsRole)
			}
			sc.Steps[j] = st
		}
		f.sc = sc
		e.flows = append(e.flows, f)
		e.total += max(wf.W(), 0)
	}
}

// user is the scenario user of a step's role: the role itself, the first one when the
// step names none.
func (f *flow) user(role string) string {
	if role == "" {
		return f.roles[0]
	}
	return role
}

func (e *engine) maxRoles() int {
	n := 1
	for _, f := range e.flows {
		n = max(n, len(f.roles))
	}
	return n
}

// drive runs the measured load: the warm-up, then the window, with the clock schedule
// and the progress line beside it. It returns when every workflow has ended.
func (e *engine) drive(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	e.t0 = time.Now()
	e.from = e.t0.Add(e.o.Warmup)
	e.end = e.from.Add(e.o.Duration)
	e.rep.Started = e.from
	if e.o.Progress != nil {
		fmt.Fprintf(e.o.Progress, "load: %d users logged in in %.2fs; running\n", len(e.users), e.rep.Setup.Seconds)
	}
	side, stopSide := context.WithCancel(ctx)
	var sideWG sync.WaitGroup
	sideWG.Go(func() { e.clock(side) })
	sideWG.Go(func() { e.progress(side) })
	cpu := processCPU()
	if e.o.Rate > 0 {
		e.open(ctx)
	} else {
		e.closed(ctx)
	}
	cpu = processCPU() - cpu
	stopSide()
	sideWG.Wait()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.calls > 0 {
		e.rep.CPUPer1000 = cpu.Seconds() * 1000 / float64(e.calls) * 1000
	}
	stop := time.Now()
	if stop.After(e.end) {
		stop = e.end
	}
	e.rep.Seconds = max(stop.Sub(e.from).Seconds(), 0)
}

// closed runs one loop per user: pick a workflow, fill its other roles with distinct
// other users, run it, think, repeat; the users start spread over the ramp-up.
func (e *engine) closed(ctx context.Context) {
	var wg sync.WaitGroup
	for i, u := range e.users {
		start := e.t0.Add(time.Duration(float64(e.o.RampUp) * float64(i) / float64(len(e.users))))
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(e.o.Seed), uint64(u.n)))
			if !waitUntil(ctx, start) {
				return
			}
			for ctx.Err() == nil && time.Now().Before(e.end) {
				f := e.pick(rng)
				e.execute(ctx, f, e.cast(rng, f, i), time.Now())
				if t := f.wf.ThinkTime.D(); t > 0 && !waitUntil(ctx, time.Now().Add(t)) {
					return
				}
			}
		})
	}
	wg.Wait()
}

// open starts workflows at the rate (this shard's share of it), rising linearly over the
// ramp-up, each at its intended time whatever the ones before it are doing.
func (e *engine) open(ctx context.Context) {
	rate := e.o.Rate / float64(e.o.ShardN)
	rng := rand.New(rand.NewPCG(uint64(e.o.Seed), uint64(e.o.ShardK)))
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	defer wg.Wait()
	for k := 0; ; k++ {
		intended := e.t0.Add(openOffset(k, rate, e.o.RampUp))
		if !intended.Before(e.end) || !waitUntil(ctx, intended) {
			return
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		f := e.pick(rng)
		who := e.cast(rng, f, -1)
		wg.Go(func() {
			defer func() { <-sem }()
			e.execute(ctx, f, who, intended)
		})
	}
}

// openOffset is when start k is due: with a ramp-up r the rate grows linearly from 0 to R
// over r, so k starts are due by sqrt(2kr/R); after it, one every 1/R.
func openOffset(k int, rate float64, ramp time.Duration) time.Duration {
	r := ramp.Seconds()
	var s float64
	if fk := float64(k); r > 0 && fk < rate*r/2 {
		s = math.Sqrt(2 * fk * r / rate)
	} else {
		s = fk/rate + r/2
	}
	return time.Duration(s * float64(time.Second))
}

// pick draws a workflow by weight.
func (e *engine) pick(rng *rand.Rand) *flow {
	x := rng.Float64() * e.total
	for _, f := range e.flows {
		if x -= max(f.wf.W(), 0); x < 0 {
			return f
		}
	}
	return e.flows[len(e.flows)-1]
}

// cast fills the workflow's roles with distinct users: self first (an index into users,
// -1 for none), the others drawn at random.
func (e *engine) cast(rng *rand.Rand, f *flow, self int) []*vuser {
	taken := map[int]bool{}
	var who []*vuser
	if self >= 0 {
		taken[self] = true
		who = append(who, e.users[self])
	}
	for len(who) < len(f.roles) {
		i := rng.IntN(len(e.users))
		if !taken[i] {
			taken[i] = true
			who = append(who, e.users[i])
		}
	}
	return who
}

// processCPU is the CPU time (user and system) this process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// waitUntil waits for the time t (a scheduled start or the end of a think time) or the
// end of ctx; false when ctx ended.
func waitUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// execute runs one workflow with its cast and records it. A workflow cut short by the end
// of ctx (an interrupt) is not counted, nor is one that started in the warm-up.
func (e *engine) execute(ctx context.Context, f *flow, who []*vuser, intended time.Time) {
	run := executor.NewState(f.sc, e.stage.World, who[0].sess)
	names := map[string]string{}
	cast := map[string]any{} // {{ .roles.ROLE }}
	for i, r := range f.roles {
		run.SetUser(r, who[i].sess)
		names[r] = who[i].name
		cast[r] = who[i].name
	}
	run.World = make(map[string]any, len(e.stage.Values)+1)
	maps.Copy(run.World, e.stage.Values)
	run.World[scenario.RolesRoot] = cast
	out := e.ex.Execute(ctx, run)
	done := time.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	// A late start is the latency of the first step too, of each step of a first group.
	late, first := time.Duration(0), 1
	if len(out.Steps) > 0 {
		late = max(out.Steps[0].Start.Sub(intended), 0)
		first += len(f.sc.Steps[0].Concurrently) // a group's result comes before its steps'
	}
	called := func(sr event.StepResult) bool {
		// The steps after one that did not pass were never called; a group's own result
		// is no call, its steps' are.
		return sr.Phase == event.PhaseStep && sr.Status != event.NotRun && sr.Tool != event.GroupTool
	}
	for _, sr := range out.Steps {
		if called(sr) {
			e.calls++
		}
	}
	if ctx.Err() != nil || intended.Before(e.from) {
		return
	}
	flowKind := ""
	for i, sr := range out.Steps {
		if !called(sr) {
			continue
		}
		kind := classify(sr)
		d := sr.Duration
		if i < first {
			d += late
		}
		e.entry(e.rep.Steps, sr.ID).add(d, kind)
		e.entry(e.rep.UsersFig, names[sr.User]).add(d, kind)
		e.rep.Run.add(d, kind)
		sec := e.second(sr.Start.Add(sr.Duration))
		sec.Calls++
		sec.hist.Record(d)
		if kind != "" {
			sec.Errors++
			flowKind = kind
		}
	}
	e.entry(e.rep.Workflows, f.wf.Name).add(done.Sub(intended), flowKind)
	e.second(done).Workflows++
}

func (e *engine) entry(m map[string]*Entry, key string) *Entry {
	if m[key] == nil {
		m[key] = &Entry{}
	}
	return m[key]
}

// second is the throughput bucket of time t, counted from the end of the warm-up.
func (e *engine) second(t time.Time) *Second {
	i := max(int(t.Sub(e.from)/time.Second), 0)
	for len(e.rep.Throughput) <= i {
		e.rep.Throughput = append(e.rep.Throughput, Second{})
	}
	return &e.rep.Throughput[i]
}

// clock advances the mock IdPs' clocks on the workload's schedule.
func (e *engine) clock(ctx context.Context) {
	ck := e.o.Workload.Clock
	if ck == nil {
		return
	}
	t := time.NewTicker(ck.Every.D())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, name := range e.stage.World.Env.IdPNames() {
				if s, ok := e.stage.World.Env.IdP(name); ok && (ck.IdP == "" || ck.IdP == name) {
					s.Clock().Advance(ck.Advance.D())
				}
			}
		}
	}
}
