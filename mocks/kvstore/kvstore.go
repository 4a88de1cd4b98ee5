// Package kvstore is a versioned in-memory key-value store, safe for concurrent use: the
// state behind the mock MCP server's store tools and the reference server's notes and
// files. Every entry has a version (1 at its first write, +1 at each further one), and a
// write or delete may require the version it was based on, so that a lost update shows as
// a conflict instead of silently overwriting what someone else wrote.
package kvstore

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Entry is a stored value at its version.
type Entry struct {
	Key     string
	Version int64
	Value   any
}

// Cond is what a write or delete requires of the entry's version. The zero Cond requires
// nothing.
type Cond struct {
	version int64
	set     bool
}

// At requires the entry to be at version v (0: the key must be free).
func At(v int64) Cond { return Cond{version: v, set: true} }

// NotFoundError is a get or delete of a key that holds nothing.
type NotFoundError struct{ Key string }

func (e *NotFoundError) Error() string { return fmt.Sprintf("nothing is stored under key %q", e.Key) }

// ConflictError is a write or delete whose Cond names another version than the entry's.
type ConflictError struct {
	Key        string
	Want, Have int64
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("version conflict on key %q: the write expected version %d, the entry is at version %d", e.Key, e.Want, e.Have)
}

// Store is the store; the zero value is empty and ready.
type Store struct {
	mu      sync.Mutex
	entries map[string]stored
	next    uint64 // the last number Create tried
}

type stored struct {
	value   any
	version int64
}

// Create stores value under a new key (the next free number, as a string) at version 1.
func (s *Store) Create(value any) Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.entries == nil {
		s.entries = map[string]stored{}
	}
	for {
		s.next++
		key := strconv.FormatUint(s.next, 10)
		if _, taken := s.entries[key]; !taken {
			s.entries[key] = stored{value: value, version: 1}
			return Entry{Key: key, Version: 1, Value: value}
		}
	}
}

// Put stores value under key when c holds, one version past the entry's.
func (s *Store) Put(key string, value any, c Cond) (Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.entries[key]
	if c.set && cur.version != c.version {
		return Entry{}, &ConflictError{Key: key, Want: c.version, Have: cur.version}
	}
	if s.entries == nil {
		s.entries = map[string]stored{}
	}
	e := stored{value: value, version: cur.version + 1}
	s.entries[key] = e
	return Entry{Key: key, Version: e.version, Value: value}, nil
}

// Update stores under key what change makes of the entry's value, one version past it,
// with no other write between the read and the write: concurrent updates each see the
// one before. A key that holds nothing is a NotFoundError; an error of change is returned
// as it is, and nothing is stored.
func (s *Store) Update(key string, change func(old any) (any, error)) (Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.entries[key]
	if !ok {
		return Entry{}, &NotFoundError{Key: key}
	}
	v, err := change(cur.value)
	if err != nil {
		return Entry{}, err
	}
	e := stored{value: v, version: cur.version + 1}
	s.entries[key] = e
	return Entry{Key: key, Version: e.version, Value: v}, nil
}

// Get is the entry under key.
func (s *Store) Get(key string) (Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.entries[key]
	if !ok {
		return Entry{}, &NotFoundError{Key: key}
	}
	return Entry{Key: key, Version: cur.version, Value: cur.value}, nil
}

// Delete removes the entry under key when c holds and returns it as it was. The version is
// checked first: a delete at version 0 of a free key is not a conflict but finds nothing.
func (s *Store) Delete(key string, c Cond) (Entry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.entries[key]
	if c.set && cur.version != c.version {
		return Entry{}, &ConflictError{Key: key, Want: c.version, Have: cur.version}
	}
	if !ok {
		return Entry{}, &NotFoundError{Key: key}
	}
	delete(s.entries, key)
	return Entry{Key: key, Version: cur.version, Value: cur.value}, nil
}

// Keys are the keys that start with prefix, sorted.
func (s *Store) Keys(prefix string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for _, k := range slices.Sorted(maps.Keys(s.entries)) {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	return keys
}
