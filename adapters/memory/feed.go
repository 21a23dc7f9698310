package memory

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// The change feed (issue 16) in memory. Writes are numbered when they
// commit: a write outside a transaction when it lets go of the store's
// lock, a transaction when its outermost InTx ends, both still holding the
// lock, so numbers follow commit order. The numbering compares the data to
// what the feed saw at the last commit (seen), for the tasks, lists and
// lists' memberships each write marked (state.touchTask, touchList,
// touchMembers) since: a commit costs what it changed, not a pass over the
// store. A rollback marks everything (the data is put back wholesale), and
// SetFeedCheck has each commit compare the whole store too, failing on a
// change that was not marked.
//
// Issue 19: the feed is per recipient. A change of a shared list's task or
// of the list is numbered in the sequence of every reader of the list (its
// owner and its members), as the SQL stores' triggers do; a new member
// gets the list and its tasks, a removed one tombstones.

// feed is what the feed saw at the last commit, each user's head, and
// each user's entries.
type feed struct {
	heads map[auth.UserID]*head
	tasks map[task.ID]*seenTask
	lists map[list.ID]*seenList
	// members are the memberships as the feed last saw them.
	members map[list.ID]map[auth.UserID]membership
	// entries are each user's entries: the number of an entity's last
	// change in that user's sequence, a tombstone when purged is set.
	entries map[auth.UserID]map[ref]*feedEntry
	// live are the users holding an entry that is not a tombstone, by
	// entity: those who must hear that they lost it.
	live map[ref]map[auth.UserID]bool
	pub  application.ChangePublisher

	// What changed since the last commit: these ids, or all when all.
	dirtyTasks   map[task.ID]struct{}
	dirtyLists   map[list.ID]struct{}
	dirtyMembers map[list.ID]struct{}
	all          bool
	check        bool // SetFeedCheck
}

type head struct{ seq, pruned application.Seq }

// ref names an entity.
type ref struct {
	entity application.Entity
	id     int64
}

type feedEntry struct {
	seq    application.Seq
	purged *time.Time
}

// seenTask is a task as the feed last saw it (gone from the feed's map
// once the task is gone).
type seenTask struct {
	t         *task.Task
	deletedAt *time.Time
	mark      task.TrashMark
}

type seenList struct {
	l         *list.List
	deletedAt *time.Time
}

func newFeed() *feed {
	return &feed{
		heads: map[auth.UserID]*head{}, tasks: map[task.ID]*seenTask{}, lists: map[list.ID]*seenList{},
		members: map[list.ID]map[auth.UserID]membership{}, entries: map[auth.UserID]map[ref]*feedEntry{},
		live:       map[ref]map[auth.UserID]bool{},
		dirtyTasks: map[task.ID]struct{}{}, dirtyLists: map[list.ID]struct{}{}, dirtyMembers: map[list.ID]struct{}{},
	}
}

// touchTask marks task id as changed (written, trashed, restored or
// removed) for the next commit's numbering; the data is held.
func (s *state) touchTask(id task.ID) { s.s.feed.dirtyTasks[id] = struct{}{} }

// touchList is touchTask for list id.
func (s *state) touchList(id list.ID) { s.s.feed.dirtyLists[id] = struct{}{} }

// touchMembers marks list id's memberships as changed (a member added,
// removed, given another role, or placing the list in their sidebar).
func (s *state) touchMembers(id list.ID) { s.s.feed.dirtyMembers[id] = struct{}{} }

// SetFeedCheck has every commit also compare the whole store with what the
// feed saw, and panic on a change that no write marked: for tests (the
// contract suites turn it on), as it costs a pass over the store.
func (s *Store) SetFeedCheck(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.feed.check = on
}

// counted is what a task adds to its list's counts: its list, when live.
func counted(t *task.Task, deletedAt *time.Time) (list.ID, bool, bool) {
	if t == nil || deletedAt != nil || t.ListID() == nil {
		return 0, false, false
	}
	return *t.ListID(), t.Completed(), true
}

// readers are who reads list id and its tasks: its owner and its members
// (every role allows list.ActRead), as the SQL stores' list_readers; the
// data is held.
func (s *state) readers(id list.ID) []auth.UserID {
	e, ok := s.lists[id]
	if !ok {
		return nil
	}
	out := []auth.UserID{e.l.Owner()}
	for u, m := range s.members[id] {
		if m.role.Allows(list.ActRead) && u != e.l.Owner() {
			out = append(out, u)
		}
	}
	return out
}

// taskReaders are who reads t: its owner and the readers of its list.
func (s *state) taskReaders(t *task.Task) []auth.UserID {
	out := []auth.UserID{t.Owner()}
	if l := t.ListID(); l != nil {
		for _, u := range s.readers(*l) {
			if u != t.Owner() {
				out = append(out, u)
			}
		}
	}
	return out
}

// feedKey is one entry of one user's feed.
type feedKey struct {
	user auth.UserID
	ref  ref
}

// number numbers what changed since the last commit, for every reader;
// the store's lock is held. It returns the heads that moved.
func (s *Store) number() map[auth.UserID]application.Seq {
	f := s.feed
	var out map[feedKey]*time.Time
	if f.all {
		out = s.compare(s.everything())
	} else if len(f.dirtyTasks) > 0 || len(f.dirtyLists) > 0 || len(f.dirtyMembers) > 0 {
		out = s.compare(f.dirtyTasks, f.dirtyLists, f.dirtyMembers)
	}
	clear(f.dirtyTasks)
	clear(f.dirtyLists)
	clear(f.dirtyMembers)
	f.all = false
	moved := s.apply(out)
	if f.check {
		if missed := s.compare(s.everything()); len(missed) > 0 {
			panic(fmt.Sprintf("memory: feed: changes no write marked: %+v", missed))
		}
	}
	return moved
}

// apply gives out's entries their numbers, in each user's sequence.
func (s *Store) apply(out map[feedKey]*time.Time) map[auth.UserID]application.Seq {
	if len(out) == 0 {
		return nil
	}
	f := s.feed
	keys := make([]feedKey, 0, len(out))
	for k := range out {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b feedKey) int {
		return cmp.Or(cmp.Compare(a.user, b.user), cmp.Compare(a.ref.entity, b.ref.entity), cmp.Compare(a.ref.id, b.ref.id))
	})
	moved := map[auth.UserID]application.Seq{}
	for _, k := range keys {
		h := f.heads[k.user]
		if h == nil {
			h = &head{}
			f.heads[k.user] = h
		}
		h.seq++
		moved[k.user] = h.seq
		es := f.entries[k.user]
		if es == nil {
			es = map[ref]*feedEntry{}
			f.entries[k.user] = es
		}
		purged := out[k]
		es[k.ref] = &feedEntry{seq: h.seq, purged: purged}
		if purged == nil {
			if f.live[k.ref] == nil {
				f.live[k.ref] = map[auth.UserID]bool{}
			}
			f.live[k.ref][k.user] = true
		} else if l := f.live[k.ref]; l != nil {
			delete(l, k.user)
			if len(l) == 0 {
				delete(f.live, k.ref)
			}
		}
	}
	return moved
}

// everything is every task, list and list's memberships the store holds
// or the feed saw.
func (s *Store) everything() (map[task.ID]struct{}, map[list.ID]struct{}, map[list.ID]struct{}) {
	f, st := s.feed, s.tasks.state
	return keysOf(st.tasks, f.tasks), keysOf(st.lists, f.lists), keysOf(st.members, f.members)
}

// keysOf is the set of keys in held and in seen.
func keysOf[K comparable, A, B any](held map[K]A, seen map[K]B) map[K]struct{} {
	out := make(map[K]struct{}, len(held))
	for k := range held {
		out[k] = struct{}{}
	}
	for k := range seen {
		out[k] = struct{}{}
	}
	return out
}

// compare brings what the feed saw of these tasks, lists and lists'
// memberships up to date, and returns the entries each user's feed gets:
// an upsert (nil) or a tombstone (the time). A list whose counts moved
// with its tasks is compared too.
func (s *Store) compare(taskIDs map[task.ID]struct{}, listIDs, memberIDs map[list.ID]struct{}) map[feedKey]*time.Time {
	f, st := s.feed, s.tasks.state
	now := time.Now().UTC()
	out := map[feedKey]*time.Time{}
	// reach gives users the entity now, and tombstones to those who had
	// it and are not among them.
	reach := func(r ref, users []auth.UserID) {
		for u := range f.live[r] {
			if !slices.Contains(users, u) {
				out[feedKey{u, r}] = &now
			}
		}
		for _, u := range users {
			out[feedKey{u, r}] = nil
		}
	}
	touchedLists := map[list.ID]bool{}
	touchList := func(id list.ID) {
		if _, ok := st.lists[id]; ok {
			touchedLists[id] = true
		}
	}
	for id := range taskIDs {
		sn, ok := f.tasks[id]
		e, live := st.tasks[id]
		r := ref{application.EntityTask, int64(id)}
		if !live {
			if !ok {
				continue
			}
			if l, _, ok := counted(sn.t, sn.deletedAt); ok {
				touchList(l)
			}
			delete(f.tasks, id)
			reach(r, nil)
			continue
		}
		if ok && sn.t == e.t && sn.deletedAt == e.deletedAt && sn.mark == e.mark {
			continue
		}
		var before *task.Task
		var beforeDel *time.Time
		if ok {
			before, beforeDel = sn.t, sn.deletedAt
		}
		bl, bc, bok := counted(before, beforeDel)
		al, ac, aok := counted(e.t, e.deletedAt)
		if bl != al || bc != ac || bok != aok {
			if bok {
				touchList(bl)
			}
			if aok {
				touchList(al)
			}
		}
		f.tasks[id] = &seenTask{t: e.t, deletedAt: e.deletedAt, mark: e.mark}
		reach(r, st.taskReaders(e.t))
	}
	lists := make(map[list.ID]struct{}, len(listIDs)+len(touchedLists))
	for id := range listIDs {
		lists[id] = struct{}{}
	}
	for id := range touchedLists {
		lists[id] = struct{}{}
	}
	for id := range lists {
		sn, ok := f.lists[id]
		e, live := st.lists[id]
		r := ref{application.EntityList, int64(id)}
		if !live {
			if !ok {
				continue
			}
			delete(f.lists, id)
			reach(r, nil)
			continue
		}
		if ok && sn.l == e.l && sn.deletedAt == e.deletedAt && !touchedLists[id] {
			continue
		}
		f.lists[id] = &seenList{l: e.l, deletedAt: e.deletedAt}
		reach(r, st.readers(id))
	}
	// Memberships: a new member gets the list and its tasks (live and in
	// the trash), a removed one who no longer reads it tombstones, one
	// whose role or place changed the list again (only they: the place is
	// theirs).
	for id := range memberIDs {
		ms, seen := st.members[id], f.members[id]
		lr := ref{application.EntityList, int64(id)}
		var added, removed []auth.UserID
		changedRole := false
		for u, m := range ms {
			if was, ok := seen[u]; !ok {
				added = append(added, u)
			} else if was.role != m.role || was.position != m.position {
				if _, live := st.lists[id]; live {
					out[feedKey{u, lr}] = nil
				}
				changedRole = true
			}
		}
		for u := range seen {
			if _, ok := ms[u]; !ok {
				removed = append(removed, u)
			}
		}
		switch {
		case len(ms) == 0:
			delete(f.members, id)
		case changedRole || len(added)+len(removed) > 0:
			f.members[id] = maps.Clone(ms)
		}
		if len(added)+len(removed) == 0 {
			continue
		}
		var refs []ref
		if _, live := st.lists[id]; live {
			refs = append(refs, lr)
		}
		for tid, e := range st.tasks {
			if l := e.t.ListID(); l != nil && *l == id {
				refs = append(refs, ref{application.EntityTask, int64(tid)})
			}
		}
		readers := st.readers(id)
		for _, u := range added {
			if !slices.Contains(readers, u) {
				continue
			}
			for _, r := range refs {
				out[feedKey{u, r}] = nil
			}
		}
		for _, u := range removed {
			if slices.Contains(readers, u) {
				continue
			}
			for _, r := range refs {
				if r.entity == application.EntityTask && st.tasks[task.ID(r.id)].t.Owner() == u {
					continue
				}
				if f.live[r][u] {
					out[feedKey{u, r}] = &now
				}
			}
		}
	}
	return out
}

// commit numbers the changes, lets go of the lock with unlock, and tells
// the publisher.
func (s *Store) commit(unlock func()) {
	moved := s.number()
	pub := s.feed.pub
	unlock()
	if pub == nil {
		return
	}
	for owner, seq := range moved {
		pub.Publish(owner, seq)
	}
}

// SetPublisher has p told after every commit that changed a user's data
// (nil: nobody). Call it before the store is used.
func (s *Store) SetPublisher(p application.ChangePublisher) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.feed.pub = p
}

// Changes returns the store's feed.
func (s *Store) Changes() *ChangeLog { return &ChangeLog{s: s} }

// ChangeLog is application.ChangeLog on a memory store.
type ChangeLog struct{ s *Store }

var _ application.ChangeLog = (*ChangeLog)(nil)

// Head returns owner's last number.
func (c *ChangeLog) Head(ctx context.Context, owner auth.UserID) (application.Seq, error) {
	defer c.s.read(ctx).done()
	if h := c.s.feed.heads[owner]; h != nil {
		return h.seq, nil
	}
	return 0, nil
}

// Changes reads a page of owner's feed.
func (c *ChangeLog) Changes(ctx context.Context, owner auth.UserID, since application.Seq, limit int, live bool) (application.ChangePage, error) {
	return c.Read(ctx, owner, application.ReadFloor(since, live), limit)
}

// Read reads a page of owner's feed.
func (c *ChangeLog) Read(ctx context.Context, owner auth.UserID, r application.ChangeRead, limit int) (application.ChangePage, error) {
	defer c.s.read(ctx).done()
	f, st := c.s.feed, c.s.tasks.state
	page := application.ChangePage{Changes: []application.Change{}}
	if h := f.heads[owner]; h != nil {
		page.Head = h.seq
		if r.Expired(h.pruned) {
			return page, application.ErrChangesExpired
		}
	}
	limit = max(limit, 1)
	var all []application.Change
	keep := func(seq application.Seq, live bool) bool {
		return seq > r.Since && (seq > r.Floor || live)
	}
	// An entry that is not a tombstone is owner's because owner reaches
	// the entity (number keeps it so): its data is read by id.
	for rf, fe := range f.entries[owner] {
		ch := application.Change{Seq: fe.seq, Entity: rf.entity, ID: rf.id, Op: application.OpDelete}
		live := false
		if rf.entity == application.EntityTask {
			id := task.ID(rf.id)
			if e := st.tasks[id]; fe.purged == nil && e != nil {
				live = e.deletedAt == nil
				ch.Op, ch.Task, ch.Deleted = application.OpUpsert, e.t.WithID(id), copyTime(e.deletedAt)
			}
		} else {
			id := list.ID(rf.id)
			if e := st.lists[id]; fe.purged == nil && e != nil {
				live = e.deletedAt == nil
				sum := st.summary(id)
				if m, ok := st.members[id][owner]; ok {
					sum.List = sum.List.WithPosition(placeOf(id, m)) // at the member's place
				}
				ch.Op, ch.List, ch.Deleted = application.OpUpsert, &sum, copyTime(e.deletedAt)
			}
		}
		if !keep(fe.seq, live) {
			continue
		}
		all = append(all, ch)
	}
	slices.SortFunc(all, func(a, b application.Change) int { return cmp.Compare(a.Seq, b.Seq) })
	if len(all) > limit {
		all, page.More = all[:limit], true
	}
	page.Changes = append(page.Changes, all...)
	page.Next = page.Head
	if page.More {
		page.Next = all[len(all)-1].Seq
	}
	return page, nil
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := t.UTC()
	return &c
}

// Prune forgets the tombstones of entities purged before cutoff.
func (c *ChangeLog) Prune(ctx context.Context, cutoff time.Time) (int, error) {
	defer c.s.write(ctx).done()
	f, n := c.s.feed, 0
	for u, es := range f.entries {
		for rf, fe := range es {
			if fe.purged != nil && fe.purged.Before(cutoff) {
				h := f.heads[u]
				h.pruned = max(h.pruned, fe.seq)
				n++
				delete(es, rf)
			}
		}
	}
	return n, nil
}
