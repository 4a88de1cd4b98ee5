package idp

import (
	"sync"
	"time"
)

// Clock is the IdP's time source. A mock clock starts at the real time and stands still
// until Advance moves it; a real clock follows time.Now, shifted by any Advance.
type Clock struct {
	mu     sync.RWMutex
	mock   bool
	frozen time.Time
	offset time.Duration
}

// NewClock returns a clock; mock selects a frozen clock starting now.
func NewClock(mock bool) *Clock {
	return &Clock{mock: mock, frozen: time.Now().UTC()}
}

// Now returns the clock's current time (UTC).
func (c *Clock) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.mock {
		return c.frozen
	}
	return time.Now().UTC().Add(c.offset)
}

// Advance moves the clock forward by d (negative d is ignored: time does not run back).
func (c *Clock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mock {
		c.frozen = c.frozen.Add(d)
		return
	}
	c.offset += d
}

// Mock reports whether the clock stands still between advances.
func (c *Clock) Mock() bool { return c.mock }

// offsetFromReal is how far the clock is ahead of (or behind) the wall clock right now;
// fosite's real-time stamps are shifted by it.
func (c *Clock) offsetFromReal() time.Duration {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if !c.mock {
		return c.offset
	}
	return c.frozen.Sub(time.Now().UTC())
}
