package idp

import (
	"fmt"
	"maps"
	"slices"
	"sync"
)

// userRegistry holds the subjects the IdP can log in. A runner may declare users while
// authorizations are running (AddUser), hence the lock.
type userRegistry struct {
	mu    sync.RWMutex
	users map[string]User
}

func newUserRegistry(users []User) *userRegistry {
	r := &userRegistry{users: make(map[string]User, len(users))}
	for _, u := range users {
		r.users[u.Subject] = cloneUser(u)
	}
	return r
}

// lookup returns the declared user; ok is false for an undeclared subject.
func (r *userRegistry) lookup(subject string) (User, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	u, ok := r.users[subject]
	return u, ok
}

// claims of a declared subject, nil for an undeclared one (such as the subject of a
// trusted foreign token in token exchange). Callers must not modify the map.
func (r *userRegistry) claims(subject string) map[string]any {
	u, _ := r.lookup(subject)
	return u.Claims
}

func (r *userRegistry) add(u User) error {
	if u.Subject == "" {
		return fmt.Errorf("idp: AddUser: subject is empty")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.users[u.Subject]; dup {
		return fmt.Errorf("idp: AddUser: subject %q is already declared", u.Subject)
	}
	r.users[u.Subject] = cloneUser(u)
	return nil
}

// cloneUser detaches the stored claims from the caller's map, which it may keep editing.
func cloneUser(u User) User {
	u.Claims = maps.Clone(u.Claims)
	u.Scopes = slices.Clone(u.Scopes)
	return u
}

// AddUser declares one more user who can log in, as Config.Users does at start. It is
// safe to call while authorizations run. Declaring a subject twice is an error.
func (s *Server) AddUser(u User) error {
	return s.users.add(u)
}

// HasUser reports whether subject is a declared user.
func (s *Server) HasUser(subject string) bool {
	_, ok := s.users.lookup(subject)
	return ok
}
