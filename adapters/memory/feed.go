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
// what the feed saw at the last commit (seen), for the tasks and lists
// each write marked (state.touchTask, touchList) since: a commit costs what
// it changed, not a pass over the store. A rollback marks everything (the
// data is put back wholesale), and SetFeedCheck has each commit compare
// the whole store too, failing on a change that was not marked.

// feed is what the feed saw at the last commit, and each user's head.
type feed struct {
	heads map[auth.UserID]*head
	tasks map[task.ID]*seenTask
	lists map[list.ID]*seenList
	pub   application.ChangePublisher

	// What changed since the last commit: these ids, or all when all.
	dirtyTasks map[task.ID]struct{}
	dirtyLists map[list.ID]struct{}
	all        bool
	check      bool // SetFeedCheck
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
	return &feed{heads: map[auth.UserID]*head{}, tasks: map[task.ID]*seenTask{}, lists: map[list.ID]*seenList{},
		dirtyTasks: map[task.ID]struct{}{}, dirtyLists: map[list.ID]struct{}{}}
}

// touchTask marks task id as changed (written, trashed, restored or
// removed) for the next commit's numbering; the data is held.
func (s *state) touchTask(id task.ID) { s.s.feed.dirtyTasks[id] = struct{}{} }

// touchList is touchTask for list id.
func (s *state) touchList(id list.ID) { s.s.feed.dirtyLists[id] = struct{}{} }

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

type changed struct {
	owner  auth.UserID
	entity application.Entity
	id     int64
}

// number numbers what changed since the last commit; the store's lock is
// held. It returns the heads that moved.
func (s *Store) number() map[auth.UserID]application.Seq {
	f := s.feed
	var out []changed
	if f.all {
		out = s.compare(s.everything())
	} else if len(f.dirtyTasks) > 0 || len(f.dirtyLists) > 0 {
		out = s.compare(f.dirtyTasks, f.dirtyLists)
	}
	clear(f.dirtyTasks)
	clear(f.dirtyLists)
	f.all = false
	if f.check {
		if missed := s.compare(s.everything()); len(missed) > 0 {
			panic(fmt.Sprintf("memory: feed: changes no write marked: %+v", missed))
		}
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

// everything is every task and list the store holds or the feed saw alive.
func (s *Store) everything() (map[task.ID]struct{}, map[list.ID]struct{}) {
	f, st := s.feed, s.tasks.state
	ts, ls := map[task.ID]struct{}{}, map[list.ID]struct{}{}
	for id := range st.tasks {
		ts[id] = struct{}{}
	}
	for id, sn := range f.tasks {
		if sn.purged == nil {
			ts[id] = struct{}{}
		}
	}
	for id := range st.lists {
		ls[id] = struct{}{}
	}
	for id, sn := range f.lists {
		if sn.purged == nil {
			ls[id] = struct{}{}
		}
	}
	return ts, ls
}

// compare brings what the feed saw of these tasks and lists up to date,
// and returns those that changed (a list whose counts moved with its
// tasks too).
func (s *Store) compare(taskIDs map[task.ID]struct{}, listIDs map[list.ID]struct{}) []changed {
	f, st := s.feed, s.tasks.state
	var out []changed
	now := time.Now().UTC()
	touchedLists := map[list.ID]bool{}
	touchList := func(id list.ID) {
		if _, ok := st.lists[id]; ok {
			touchedLists[id] = true
		}
	}
	for id := range taskIDs {
		sn, ok := f.tasks[id]
		e, live := st.tasks[id]
		if !live {
			if !ok || sn.purged != nil {
				continue
			}
			if l, _, ok := counted(sn.t, sn.deletedAt); ok {
				touchList(l)
			}
			sn.t, sn.deletedAt, sn.purged = nil, nil, &now
			out = append(out, changed{owner: sn.owner, entity: application.EntityTask, id: int64(id)})
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
		if !ok {
			sn = &seenTask{owner: e.t.Owner()}
			f.tasks[id] = sn
		}
		sn.t, sn.deletedAt, sn.mark, sn.purged = e.t, e.deletedAt, e.mark, nil
		out = append(out, changed{owner: sn.owner, entity: application.EntityTask, id: int64(id)})
	}
	lists := maps.Clone(listIDs)
	if lists == nil {
		lists = map[list.ID]struct{}{}
	}
	for id := range touchedLists {
		lists[id] = struct{}{}
	}
	for id := range lists {
		sn, ok := f.lists[id]
		e, live := st.lists[id]
		if !live {
			if !ok || sn.purged != nil {
				continue
			}
			sn.l, sn.deletedAt, sn.purged = nil, nil, &now
			out = append(out, changed{owner: sn.owner, entity: application.EntityList, id: int64(id)})
			continue
		}
		if ok && sn.l == e.l && sn.deletedAt == e.deletedAt && !touchedLists[id] {
			continue
		}
		if !ok {
			sn = &seenList{owner: e.l.Owner()}
			f.lists[id] = sn
		}
		sn.l, sn.deletedAt, sn.purged = e.l, e.deletedAt, nil
		out = append(out, changed{owner: sn.owner, entity: application.EntityList, id: int64(id)})
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
