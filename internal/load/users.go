package load

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/muster-test/muster-test/internal/event"
	"github.com/muster-test/muster-test/internal/executor"
	"github.com/muster-test/muster-test/mocks/idp"
	"github.com/muster-test/muster-test/scenario"
)

// vuser is one virtual user: its name, its number n and its logged-in MCP session.
type vuser struct {
	name string
	n    int
	sess executor.Session
}

// loginParallel bounds the logins in flight: the IdP, the SUT and this process share the
// machine's cores, and a few dozen concurrent flows already keep them all busy.
const loginParallel = 32

var nRef = regexp.MustCompile(`\{\{-?\s*\.n\s*-?\}\}`)

// withN puts the user's number into `{{ .n }}` in a claim's strings.
func withN(v any, n int) any {
	switch x := v.(type) {
	case string:
		return nRef.ReplaceAllString(x, fmt.Sprint(n))
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = withN(e, n)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = withN(e, n)
		}
		return l
	}
	return v
}

// logIn creates the users at the mock IdPs and logs them in concurrently: a direct-mode
// SUT through test_oauth_login (the runner is the server's OAuth client), a muster-shaped
// one with its own session per user; then each user runs the workload's login steps (the
// gateway's login flow). It records each user's time in setup and returns the users that
// made it, in number order.
func (e *engine) logIn(ctx context.Context, numbers []int) []*vuser {
	w := e.o.Workload
	vu := w.VirtualUsers
	if vu == nil {
		vu = &scenario.VirtualUsers{}
	}
	prefix := vu.NamePrefix
	if prefix == "" {
		prefix = "vu"
	}
	out := make([]*vuser, len(numbers))
	start := time.Now()
	var mu sync.Mutex
	sem := make(chan struct{}, loginParallel)
	var wg sync.WaitGroup
	for i, n := range numbers {
		wg.Go(func() {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			defer func() { <-sem }()
			u := &vuser{name: fmt.Sprintf("%s%d", prefix, n), n: n}
			t := time.Now()
			err := e.logInOne(ctx, u, vu)
			d := time.Since(t)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				e.rep.Setup.Failed++
				e.rep.Setup.Login.add(d, KindTransport)
				if e.rep.Setup.FirstFailed == "" {
					e.rep.Setup.FirstFailed = u.name + ": " + err.Error()
				}
				return
			}
			e.rep.Setup.Login.add(d, "")
			out[i] = u
		})
	}
	wg.Wait()
	e.rep.Setup.Users = len(numbers)
	e.rep.Setup.Seconds = time.Since(start).Seconds()
	var ok []*vuser
	for _, u := range out {
		if u != nil {
			ok = append(ok, u)
		}
	}
	return ok
}

func (e *engine) logInOne(ctx context.Context, u *vuser, vu *scenario.VirtualUsers) error {
	world := e.stage.World
	claims, _ := withN(vu.Claims, u.n).(map[string]any)
	for _, name := range world.Env.IdPNames() {
		s, _ := world.Env.IdP(name)
		if !s.HasUser(u.name) {
			if err := s.AddUser(idp.User{Subject: u.name, Claims: claims}); err != nil {
				return fmt.Errorf("declare at IdP %s: %w", name, err)
			}
		}
	}
	sc := e.o.Workload.Scenario()
	if world.Direct {
		run := executor.NewState(sc, world, nil)
		run.World = e.stage.Values
		args := map[string]any{"user": u.name}
		if vu.Scope != "" {
			args["scope"] = vu.Scope
		}
		out, err := e.tools["test_oauth_login"].Run(ctx, run, args)
		if err != nil {
			return err
		}
		if out["success"] != true {
			return fmt.Errorf("login failed: %v", out["error"])
		}
		if u.sess, err = run.Session(u.name); err != nil {
			return err
		}
	} else {
		var err error
		if u.sess, err = world.NewSession(ctx, u.name, u.name); err != nil {
			return fmt.Errorf("open a session: %w", err)
		}
	}
	if len(vu.Login) == 0 {
		return nil
	}
	sc.Steps = vu.Login
	run := executor.NewState(sc, world, u.sess)
	run.World = e.stage.Values
	out := (&executor.Executor{Tools: e.tools}).Execute(ctx, run)
	for _, sr := range out.Steps {
		if sr.Status != event.Passed {
			return fmt.Errorf("login step %s: %s", sr.ID, sr.Message)
		}
	}
	return nil
}

// share is the user numbers of shard k of n: every n-th user, so that shards of one
// workload never share a user name.
func share(users, k, n int) []int {
	var out []int
	for i := 1; i <= users; i++ {
		if (i-1)%n == k-1 {
			out = append(out, i)
		}
	}
	return out
}
