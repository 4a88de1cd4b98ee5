package sut

import (
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/muster-test/muster-test/internal/reaper"
	"github.com/muster-test/muster-test/internal/spare"
)

// Spares keeps processes started ahead of need (package spare), per binary: a start of
// such a binary takes one, which has already been through the package init that is most
// of a Go child's start, and hands it the command line, environment additions and
// directory it would have been started with. It is otherwise the same process a fresh
// start makes: its own process group, tag, Pdeathsig and reaping, its output captured
// from the start it stands in for.
//
// Spares never holds more than keep idle processes of a binary, and starts no more than it
// was told to Expect in all, so a run leaves at most keep of each unused. A start that
// finds none idle (or sets what a spare cannot take, see spare.Fits) starts afresh.
//
// A nil *Spares has none: every start is fresh.
type Spares struct {
	keep int
	env  []string // added to every spare's environment at its start

	mu     sync.Mutex
	pools  map[string]*pool // by binary
	closed bool
	wg     sync.WaitGroup
}

// pool is the spares of one binary.
type pool struct {
	idle     []*idleSpare
	starting int // spares being started
	left     int // spares still to start
}

// idleSpare is a started spare and the write end of its handoff pipe.
type idleSpare struct {
	p       *process
	handoff *os.File
}

// NewSpares returns spares that keep up to keep idle per binary; it starts none until
// Expect. env (KEY=VALUE) is added to the environment every spare starts with: the
// GOMAXPROCS that the starts they stand in for will be handed, which a spare then need
// not change (changing it costs a spare a stop of the world and the release of what its
// init cached per P).
func NewSpares(keep int, env []string) *Spares {
	return &Spares{keep: max(keep, 1), env: env, pools: map[string]*pool{}}
}

// Expect says that n more starts of binary are coming, and starts spares for them; a
// negative n takes back starts expected before that no spare was started for yet.
func (s *Spares) Expect(binary string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pl := s.pools[binary]
	if pl == nil {
		pl = &pool{}
		s.pools[binary] = pl
	}
	pl.left = max(pl.left+n, 0)
	s.refill(binary, pl)
}

// refill starts spares of binary until keep are idle or starting, or none are left to
// start. s.mu is held.
func (s *Spares) refill(binary string, pl *pool) {
	for !s.closed && pl.left > 0 && len(pl.idle)+pl.starting < s.keep {
		pl.left--
		pl.starting++
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			// An error needs no more: the starts it would have served start afresh, and
			// report what is wrong with the binary themselves.
			sp, err := startSpare(binary, s.env)
			s.mu.Lock()
			pl.starting--
			keep := err == nil && !s.closed
			if keep {
				pl.idle = append(pl.idle, sp)
			}
			s.mu.Unlock()
			if err == nil && !keep {
				sp.discard()
			}
		}()
	}
}

// startSpare starts binary as a spare, with env added to its environment and the handoff
// pipe's read end as its fd 3.
func startSpare(binary string, env []string) (*idleSpare, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p := newProcess(spare.Command(binary), env, "")
	p.cmd.ExtraFiles = []*os.File{r}
	err = p.start()
	r.Close() // the child has its copy; the spare sees end of file once w is closed
	if err != nil {
		w.Close()
		return nil, err
	}
	return &idleSpare{p: p, handoff: w}, nil
}

// take hands the start of argv to an idle spare of its binary, when a spare can stand in
// for it; nil means the caller starts afresh.
func (s *Spares) take(argv, env []string, dir, logPath, note string) *process {
	if s == nil || len(argv) == 0 {
		return nil
	}
	h := spare.Handoff{Args: argv[1:], Env: env, Dir: dir}
	// A tag handed in the environment would replace the spare's own, which a fresh start's
	// appended tag overrides. A start that does not set what the spares started with
	// (their GOMAXPROCS) would run with it all the same.
	if !spare.Fits(h) || slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, reaper.TagVar+"=") }) ||
		slices.ContainsFunc(s.env, func(kv string) bool { return !slices.Contains(env, kv) }) {
		return nil
	}
	for {
		sp := s.pop(argv[0])
		if sp == nil {
			return nil
		}
		if sp.p.exited() {
			sp.discard() // died idle (killed from outside): its output is in no scenario's log
			continue
		}
		if err := sp.p.attach(logPath, note); err != nil {
			sp.discard()
			continue
		}
		err := spare.Send(sp.handoff, h)
		sp.handoff.Close()
		if err == nil {
			sp.p.spare = true
			return sp.p
		}
		// It died between the check and the handoff; its end is in the scenario's log,
		// after the note, which the next one need not repeat.
		sp.p.stop(time.Now())
		note = ""
	}
}

// pop takes the oldest idle spare of binary, which has had the most time for its init,
// and starts its replacement.
func (s *Spares) pop(binary string) *idleSpare {
	s.mu.Lock()
	defer s.mu.Unlock()
	pl := s.pools[binary]
	if pl == nil || len(pl.idle) == 0 {
		return nil
	}
	sp := pl.idle[0]
	pl.idle = slices.Delete(pl.idle, 0, 1)
	s.refill(binary, pl)
	return sp
}

// discard ends an idle spare.
func (sp *idleSpare) discard() {
	sp.handoff.Close()
	sp.p.stop(time.Now())
}

// Close ends every idle spare and waits for those being started; later starts are fresh.
func (s *Spares) Close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.closed = true
	var idle []*idleSpare
	for _, pl := range s.pools {
		idle = append(idle, pl.idle...)
		pl.idle = nil
	}
	s.mu.Unlock()
	s.wg.Wait()
	var wg sync.WaitGroup
	for _, sp := range idle {
		wg.Go(sp.discard)
	}
	wg.Wait()
}
