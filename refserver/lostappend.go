package refserver

import (
	"sync"
	"time"

	"github.com/muster-test/muster-test/mocks/kvstore"
)

// appendWindowMax bounds how long a faulty append waits for another one. Appends made at
// once (a load's concurrently group) arrive well within it; one alone waits it out.
const appendWindowMax = 500 * time.Millisecond

// appendWindow is FaultLostAppend: an append that read its note holds the window open
// until another append of the same note arrives (or appendWindowMax passes), so that the
// other reads the same text; then both write what they read plus their own text, and the
// later write loses the earlier one's. The wait is for an event, not a guess at timing:
// the loss is certain whenever two appends of a note overlap.
type appendWindow struct {
	mu      sync.Mutex
	waiting map[string]chan struct{} // by key: closed when another append of it has read
}

func (w *appendWindow) appendRacily(data *kvstore.Store, key string, change func(any) (any, error)) (kvstore.Entry, error) {
	read, err := data.Get(key)
	if err != nil {
		return kvstore.Entry{}, err
	}
	w.hold(key)
	v, err := change(read.Value)
	if err != nil {
		return kvstore.Entry{}, err
	}
	return data.Put(key, v, kvstore.Cond{})
}

// hold releases an append of key that is waiting, or else waits for the next one.
func (w *appendWindow) hold(key string) {
	w.mu.Lock()
	if ch, ok := w.waiting[key]; ok {
		close(ch)
		delete(w.waiting, key)
		w.mu.Unlock()
		return
	}
	if w.waiting == nil {
		w.waiting = map[string]chan struct{}{}
	}
	ch := make(chan struct{})
	w.waiting[key] = ch
	w.mu.Unlock()
	t := time.NewTimer(appendWindowMax)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
		w.mu.Lock()
		if w.waiting[key] == ch {
			delete(w.waiting, key)
		}
		w.mu.Unlock()
	}
}
