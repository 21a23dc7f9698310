package memory

import (
	"cmp"
	"context"
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
// what the feed saw at the last commit (seen): every write path is covered
// without telling the feed, as the SQL stores' triggers cover theirs. It
// costs a pass over the store's data per commit, as a transaction's copy
// does.

// feed is what the feed saw at the last commit, and each user's head.
type feed struct {
	heads map[auth.UserID]*head
	tasks map[task.ID]*seenTask
	lists map[list.ID]*seenList
	pub   application.ChangePublisher
}

type head struct{ seq, pruned application.Seq }

// seenTask is a task as the feed last saw it, and its last number; purged
// is set for a tombstone.
type seenTask struct {
	owner     auth.UserID
	seq       application.Seq
	t         *task.Task
	deletedAt *time.Time
	mark      task.TrashMark
	purged    *time.Time
}

type seenList struct {
	owner     auth.UserID
	seq       application.Seq
	l         *list.List
	deletedAt *time.Time
	purged    *time.Time
}

func newFeed() *feed {
	return &feed{heads: map[auth.UserID]*head{}, tasks: map[task.ID]*seenTask{}, lists: map[list.ID]*seenList{}}
}

// counted is what a task adds to its list's counts: its list, when live.
func counted(t *task.Task, deletedAt *time.Time) (list.ID, bool, bool) {
	if t == nil || deletedAt != nil || t.ListID() == nil {
		return 0, false, false
	}
	return *t.ListID(), t.Completed(), true
}

type changed struct {
	owner  auth.UserID
	entity application.Entity
	id     int64
}

// number numbers what changed since the last commit; the store's lock is
// held. It returns the heads that moved.
func (s *Store) number() map[auth.UserID]application.Seq {
	f, st := s.feed, s.tasks.state
	var out []changed
	now := time.Now().UTC()
	touchedLists := map[list.ID]bool{}
	touchList := func(id list.ID) {
		if _, ok := st.lists[id]; ok {
			touchedLists[id] = true
		}
	}
	for id, e := range st.tasks {
		sn, ok := f.tasks[id]
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
		if !ok {
			sn = &seenTask{owner: e.t.Owner()}
			f.tasks[id] = sn
		}
		sn.t, sn.deletedAt, sn.mark = e.t, e.deletedAt, e.mark
		out = append(out, changed{owner: sn.owner, entity: application.EntityTask, id: int64(id)})
	}
	for id, sn := range f.tasks {
		if sn.purged != nil {
			continue
		}
		if _, ok := st.tasks[id]; ok {
			continue
		}
		if l, _, ok := counted(sn.t, sn.deletedAt); ok {
			touchList(l)
		}
		sn.t, sn.deletedAt, sn.purged = nil, nil, &now
		out = append(out, changed{owner: sn.owner, entity: application.EntityTask, id: int64(id)})
	}
	for id, e := range st.lists {
		sn, ok := f.lists[id]
		if ok && sn.l == e.l && sn.deletedAt == e.deletedAt && !touchedLists[id] {
			continue
		}
		if !ok {
			sn = &seenList{owner: e.l.Owner()}
			f.lists[id] = sn
		}
		sn.l, sn.deletedAt = e.l, e.deletedAt
		out = append(out, changed{owner: sn.owner, entity: application.EntityList, id: int64(id)})
	}
	for id, sn := range f.lists {
		if sn.purged != nil {
			continue
		}
		if _, ok := st.lists[id]; ok {
			continue
		}
		sn.l, sn.deletedAt, sn.purged = nil, nil, &now
		out = append(out, changed{owner: sn.owner, entity: application.EntityList, id: int64(id)})
	}
	if len(out) == 0 {
		return nil
	}
	slices.SortFunc(out, func(a, b changed) int {
		return cmp.Or(cmp.Compare(a.owner, b.owner), cmp.Compare(a.entity, b.entity), cmp.Compare(a.id, b.id))
	})
	moved := map[auth.UserID]application.Seq{}
	for _, c := range out {
		h := f.heads[c.owner]
		if h == nil {
			h = &head{}
			f.heads[c.owner] = h
		}
		h.seq++
		moved[c.owner] = h.seq
		if c.entity == application.EntityTask {
			f.tasks[task.ID(c.id)].seq = h.seq
		} else {
			f.lists[list.ID(c.id)].seq = h.seq
		}
	}
	return moved
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
	for id, sn := range f.tasks {
		if sn.owner != owner {
			continue
		}
		e := st.tasks[id]
		live := sn.purged == nil && e != nil && e.deletedAt == nil
		if !keep(sn.seq, live) {
			continue
		}
		ch := application.Change{Seq: sn.seq, Entity: application.EntityTask, ID: int64(id), Op: application.OpDelete}
		if sn.purged == nil && e != nil {
			ch.Op, ch.Task, ch.Deleted = application.OpUpsert, e.t.WithID(id), copyTime(e.deletedAt)
		}
		all = append(all, ch)
	}
	for id, sn := range f.lists {
		if sn.owner != owner {
			continue
		}
		e := st.lists[id]
		live := sn.purged == nil && e != nil && e.deletedAt == nil
		if !keep(sn.seq, live) {
			continue
		}
		ch := application.Change{Seq: sn.seq, Entity: application.EntityList, ID: int64(id), Op: application.OpDelete}
		if sn.purged == nil && e != nil {
			sum := st.summary(id)
			ch.Op, ch.List, ch.Deleted = application.OpUpsert, &sum, copyTime(e.deletedAt)
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
	prune := func(owner auth.UserID, seq application.Seq) {
		h := f.heads[owner]
		h.pruned = max(h.pruned, seq)
		n++
	}
	for id, sn := range f.tasks {
		if sn.purged != nil && sn.purged.Before(cutoff) {
			prune(sn.owner, sn.seq)
			delete(f.tasks, id)
		}
	}
	for id, sn := range f.lists {
		if sn.purged != nil && sn.purged.Before(cutoff) {
			prune(sn.owner, sn.seq)
			delete(f.lists, id)
		}
	}
	return n, nil
}
