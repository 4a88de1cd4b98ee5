package refserver

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/muster-test/muster-test/mocks/kvstore"
)

// What a user may do with an entry of a collection.
const (
	PermissionOwner = "owner" // read, edit, share, delete
	PermissionEdit  = "edit"  // read and write
	PermissionRead  = "read"
)

// collection is one kind of thing users keep on the server (notes, files): the content in
// a versioned store, and who may do what with each entry, by the token's subject. A user
// who may not even read an entry is told it does not exist, as another tenant's tool is
// answered as unknown: what others keep is not revealed by the errors.
type collection struct {
	kind string // "note", "file": the word of the messages
	// listed are the value's fields that a listing shows besides id, owner and permission.
	listed []string
	// open (FaultSharingNotEnforced) lets every user do everything with every entry.
	open bool
	// lossy (FaultLostAppend) appends by reading, waiting and writing what was read.
	lossy *appendWindow
	data  kvstore.Store

	mu  sync.Mutex
	acl map[string]*access // by key; an entry without one is not there (yet, or any more)
}

type access struct {
	owner  string
	shares map[string]string // subject -> PermissionRead or PermissionEdit
}

// errRefused is a call the collection refuses: a tool error, not a failure of the server.
var errRefused = errors.New("refused")

func (c *collection) refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errRefused, fmt.Sprintf(format, args...))
}

// permission is what subject may do with key ("" nothing, also when key holds nothing),
// and the entry's owner.
func (c *collection) permission(key, subject string) (perm, owner string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.acl[key]
	switch {
	case a == nil:
		return "", ""
	case a.owner == subject || c.open:
		return PermissionOwner, a.owner
	}
	return a.shares[subject], a.owner
}

// need checks that subject may do what want allows with key and returns the entry's owner.
func (c *collection) need(key, subject, want string) (string, error) {
	perm, owner := c.permission(key, subject)
	switch {
	case perm == "":
		return "", c.refuse("%s %s not found", c.kind, key)
	case want == PermissionOwner && perm != PermissionOwner:
		return "", c.refuse("only its owner (%s) may do this with %s %s", owner, c.kind, key)
	case want == PermissionEdit && perm == PermissionRead:
		return "", c.refuse("%s %s is shared with %s to read only", c.kind, key, subject)
	}
	return owner, nil
}

// answer is an entry as the tools show it: its fields, id, version and owner.
func answer(e kvstore.Entry, owner string) map[string]any {
	out := maps.Clone(e.Value.(map[string]any))
	out["id"], out["version"], out["owner"] = e.Key, e.Version, owner
	return out
}

func (c *collection) create(owner string, value map[string]any) map[string]any {
	e := c.data.Create(value)
	c.mu.Lock()
	if c.acl == nil {
		c.acl = map[string]*access{}
	}
	c.acl[e.Key] = &access{owner: owner, shares: map[string]string{}}
	c.mu.Unlock()
	return answer(e, owner)
}

func (c *collection) read(subject, key string) (map[string]any, error) {
	owner, err := c.need(key, subject, PermissionRead)
	if err != nil {
		return nil, err
	}
	e, err := c.data.Get(key)
	if err != nil { // deleted since the check
		return nil, c.refuse("%s %s not found", c.kind, key)
	}
	return answer(e, owner), nil
}

// write replaces the entry's value if it is still at version: a write based on an older
// version would lose what was written since, so it is refused as a conflict.
func (c *collection) write(subject, key string, value map[string]any, version int64) (map[string]any, error) {
	owner, err := c.need(key, subject, PermissionEdit)
	if err != nil {
		return nil, err
	}
	e, err := c.data.Put(key, value, kvstore.At(version))
	if err != nil {
		return nil, c.storeRefusal(key, err)
	}
	return answer(e, owner), nil
}

// appendText adds text to the end of the entry's field, atomically: appends that run at
// once all land, in some order, and none needs the version it was based on.
func (c *collection) appendText(subject, key, field, text string) (map[string]any, error) {
	owner, err := c.need(key, subject, PermissionEdit)
	if err != nil {
		return nil, err
	}
	with := func(old any) (any, error) {
		v := maps.Clone(old.(map[string]any))
		prev, _ := v[field].(string)
		v[field] = prev + text
		return v, nil
	}
	var e kvstore.Entry
	if c.lossy != nil {
		e, err = c.lossy.appendRacily(&c.data, key, with)
	} else {
		e, err = c.data.Update(key, with)
	}
	if err != nil { // deleted since the check
		return nil, c.refuse("%s %s not found", c.kind, key)
	}
	v, _ := e.Value.(map[string]any)[field].(string)
	return map[string]any{"id": key, "version": e.Version, "owner": owner, "length": len(v)}, nil
}

// remove deletes the entry (owner only), at version unless cond is the zero Cond.
func (c *collection) remove(subject, key string, cond kvstore.Cond) (map[string]any, error) {
	owner, err := c.need(key, subject, PermissionOwner)
	if err != nil {
		return nil, err
	}
	e, err := c.data.Delete(key, cond)
	if err != nil {
		return nil, c.storeRefusal(key, err)
	}
	c.mu.Lock()
	delete(c.acl, key)
	c.mu.Unlock()
	return map[string]any{"id": key, "deleted": true, "version": e.Version, "owner": owner}, nil
}

func (c *collection) storeRefusal(key string, err error) error {
	var conflict *kvstore.ConflictError
	if errors.As(err, &conflict) {
		if conflict.Have == 0 { // deleted since the check
			return c.refuse("%s %s not found", c.kind, key)
		}
		return c.refuse("version conflict on %s %s: the write expected version %d, the %s is at version %d",
			c.kind, key, conflict.Want, c.kind, conflict.Have)
	}
	return c.refuse("%s %s not found", c.kind, key)
}

// share lets with read, or read and edit, the entry (owner only; the owner cannot share
// with itself). Sharing is not a write: the entry's version stays.
func (c *collection) share(subject, key, with, perm string) (map[string]any, error) {
	if with == "" {
		return nil, c.refuse("name the user to share %s %s with", c.kind, key)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.acl[key]
	switch {
	case a == nil || (a.owner != subject && a.shares[subject] == "" && !c.open):
		return nil, c.refuse("%s %s not found", c.kind, key)
	case a.owner != subject && !c.open:
		return nil, c.refuse("only its owner (%s) may do this with %s %s", a.owner, c.kind, key)
	case with == a.owner:
		return nil, c.refuse("%s owns %s %s already", with, c.kind, key)
	}
	a.shares[with] = perm
	return map[string]any{"id": key, "owner": a.owner, "with": with, "permission": perm}, nil
}

// list is every entry subject may read, by id, with its owner, subject's permission and
// the collection's listed fields.
func (c *collection) list(subject string) []map[string]any {
	type seen struct{ key, owner, perm string }
	var mine []seen
	c.mu.Lock()
	for key, a := range c.acl {
		perm := a.shares[subject]
		if a.owner == subject || c.open {
			perm = PermissionOwner
		}
		if perm != "" {
			mine = append(mine, seen{key, a.owner, perm})
		}
	}
	c.mu.Unlock()
	// Ids are numbers: shorter first sorts them by value.
	slices.SortFunc(mine, func(a, b seen) int { return cmp.Or(cmp.Compare(len(a.key), len(b.key)), cmp.Compare(a.key, b.key)) })
	out := []map[string]any{}
	for _, m := range mine {
		e, err := c.data.Get(m.key)
		if err != nil { // deleted since
			continue
		}
		item := map[string]any{"id": m.key, "owner": m.owner, "permission": m.perm, "version": e.Version}
		for _, f := range c.listed {
			item[f] = e.Value.(map[string]any)[f]
		}
		out = append(out, item)
	}
	return out
}
