package kvstore_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/muster-test/muster-test/mocks/kvstore"
)

func TestVersionsAndConflicts(t *testing.T) {
	var s kvstore.Store
	a := s.Create("first")
	if a.Key != "1" || a.Version != 1 {
		t.Fatalf("create = %+v, want key 1 at version 1", a)
	}
	if _, err := s.Put("2", "by hand", kvstore.At(0)); err != nil {
		t.Fatalf("put at version 0 of a free key: %v", err)
	}
	if b := s.Create("third"); b.Key != "3" {
		t.Errorf("create after key 2 was taken by hand: key %s, want 3", b.Key)
	}
	up, err := s.Put("1", "edited", kvstore.At(1))
	if err != nil || up.Version != 2 {
		t.Fatalf("put at version 1 = %+v, %v", up, err)
	}
	var conflict *kvstore.ConflictError
	if _, err := s.Put("1", "stale", kvstore.At(1)); !errors.As(err, &conflict) || conflict.Want != 1 || conflict.Have != 2 {
		t.Errorf("stale put: %v, want a conflict 1 vs 2", err)
	}
	if got, _ := s.Get("1"); got.Value != "edited" || got.Version != 2 {
		t.Errorf("after the refused write: %+v", got)
	}
	if _, err := s.Delete("1", kvstore.At(1)); !errors.As(err, &conflict) {
		t.Errorf("stale delete: %v, want a conflict", err)
	}
	if d, err := s.Delete("1", kvstore.Cond{}); err != nil || d.Value != "edited" {
		t.Errorf("delete = %+v, %v", d, err)
	}
	var missing *kvstore.NotFoundError
	if _, err := s.Get("1"); !errors.As(err, &missing) {
		t.Errorf("get after delete: %v, want not found", err)
	}
	if _, err := s.Delete("1", kvstore.At(0)); !errors.As(err, &missing) {
		t.Errorf("delete at version 0 of a free key: %v, want not found", err)
	}
	if keys := s.Keys(""); len(keys) != 2 || keys[0] != "2" || keys[1] != "3" {
		t.Errorf("keys = %v, want [2 3]", keys)
	}
}

// TestOneWriterWinsAVersion: of many writes based on the same version exactly one lands.
func TestOneWriterWinsAVersion(t *testing.T) {
	var s kvstore.Store
	e := s.Create(0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.Put(e.Key, i, kvstore.At(e.Version)); err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if got, _ := s.Get(e.Key); won != 1 || got.Version != 2 {
		t.Errorf("%d writes won, the entry is at version %d; want 1 and 2", won, got.Version)
	}
}

// TestUpdatesLoseNothing: concurrent updates of one entry each see the one before, so
// every one of them is in the result and each counted a version.
func TestUpdatesLoseNothing(t *testing.T) {
	var s kvstore.Store
	e := s.Create("")
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			if _, err := s.Update(e.Key, func(old any) (any, error) { return old.(string) + "x", nil }); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got, _ := s.Get(e.Key); got.Value != "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" || got.Version != 33 {
		t.Errorf("after 32 updates: %+v", got)
	}
	var missing *kvstore.NotFoundError
	if _, err := s.Update("nope", func(old any) (any, error) { return old, nil }); !errors.As(err, &missing) {
		t.Errorf("update of a free key: %v, want not found", err)
	}
	refuse := errors.New("no")
	if _, err := s.Update(e.Key, func(any) (any, error) { return nil, refuse }); err != refuse {
		t.Errorf("update whose change fails: %v", err)
	}
	if got, _ := s.Get(e.Key); got.Version != 33 {
		t.Errorf("a refused update stored something: %+v", got)
	}
}
