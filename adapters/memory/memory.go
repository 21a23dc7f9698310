// Package memory keeps tasks, lists and users in maps: the store for fast
// tests and for DATABASE_URL=memory:. It has the same semantics as the SQL
// stores (ids from 1 upwards, oldest first, owner-scoped, the trees and
// orders of tree.go, transactions) and is safe for concurrent use. It is the reference
// the repository contract suite holds the SQL stores to: it decides with
// the domain's functions, over the whole of a user's data, what the SQL
// stores decide over the rows they read.
package memory

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/domain/user"
)

// state is what the task and list repositories share: a move or a trash
// touches both. Its store's lock guards it (read, write).
type state struct {
	s        *Store
	lastID   task.ID
	tasks    map[task.ID]*entry
	lastList list.ID
	lists    map[list.ID]*listEntry
	// members are the shared lists' memberships, by list and user
	// (members.go); lastInvitation and invitations their invitations.
	members        map[list.ID]map[auth.UserID]membership
	lastInvitation list.InvitationID
	invitations    map[list.InvitationID]*list.Invitation
}

// entry is a stored task and, when it is in the trash, since when and why.
type entry struct {
	t         *task.Task
	deletedAt *time.Time
	mark      task.TrashMark
	// revs is the task's history, oldest first (record); never changed in
	// place, so that a snapshot's copy of the entry keeps its own.
	revs []task.Revision
}

// record adds to e's history what storing next changes of its content,
// as the SQL stores' row triggers do: a revision at next's version, or
// the fields added to that version's revision when the version stays.
func (e *entry) record(next *task.Task, by auth.UserID) {
	changed := task.Diff(e.t, next)
	if changed == nil {
		return
	}
	revs := slices.Clone(e.revs)
	if n := len(revs); n > 0 && revs[n-1].Version == next.Version() {
		merged := maps.Clone(revs[n-1].Changed)
		maps.Copy(merged, changed)
		revs[n-1].Changed = merged
	} else {
		revs = append(revs, task.Revision{Version: next.Version(), At: next.UpdatedAt().UTC(), By: by, Changed: changed})
	}
	revs = slices.DeleteFunc(revs, func(r task.Revision) bool { return r.Version <= next.Version()-task.RevisionsKept })
	e.revs = revs
}

// Revisions is the history of task id (live or in the trash), newest
// first, when caller reads it (reads).
func (r *TaskRepository) Revisions(ctx context.Context, caller auth.UserID, id task.ID, since task.Version) ([]task.Revision, error) {
	defer r.read(ctx).done()
	e, ok := r.tasks[id]
	if !ok || !r.reads(caller, e.t) {
		return nil, task.ErrNotFound
	}
	var out []task.Revision
	for _, rev := range slices.Backward(e.revs) {
		if rev.Version > since {
			out = append(out, rev)
		}
	}
	return out, nil
}

// Lock does nothing: a transaction holds the store's lock, which every
// writer takes.
func (r *TaskRepository) Lock(context.Context, auth.UserID, []task.ID) error { return nil }

// TaskRepository is a task.Repository held in memory, in a Store.
type TaskRepository struct {
	*state
}

var _ task.Repository = (*TaskRepository)(nil)

// NewTaskRepository returns an empty repository, in a store of its own.
func NewTaskRepository() *TaskRepository { return NewStore().Tasks() }

// read and write hold the store's data (see Store.read, Store.write).
func (s *state) read(ctx context.Context) hold  { return s.s.read(ctx) }
func (s *state) write(ctx context.Context) hold { return s.s.write(ctx) }

// Add stores t under the next id, at version 1, once its list and parent
// are checked.
func (r *TaskRepository) Add(ctx context.Context, t *task.Task) (*task.Task, error) {
	defer r.write(ctx).done()
	if err := r.checkNew(t); err != nil {
		return nil, err
	}
	return r.add(t), nil
}

// add stores t; the data is held.
func (r *TaskRepository) add(t *task.Task) *task.Task {
	r.lastID++
	stored := t.WithID(r.lastID).WithVersion(1)
	r.tasks[stored.ID()] = &entry{t: stored, revs: []task.Revision{{
		Version: 1, At: stored.UpdatedAt().UTC(), By: stored.CreatedBy(), Changed: task.Created(stored),
	}}}
	r.touchTask(stored.ID())
	return stored.WithID(stored.ID())
}

// checkNew checks a new task's list and parent; the data is held.
func (s *state) checkNew(t *task.Task) error {
	if l := t.ListID(); l != nil {
		if _, ok := s.liveList(t.Owner(), *l); !ok {
			return list.ErrNotFound
		}
	}
	if p := t.ParentID(); p != nil {
		pe, ok := s.live(t.Owner(), *p)
		if !ok {
			return task.ErrNotFound
		}
		return task.CheckNewSubtask(t, pe.t, s.ancestors(*p))
	}
	return nil
}

// AddAll stores every task under one lock, all checked first: nothing can
// fail half-way.
func (r *TaskRepository) AddAll(ctx context.Context, ts []*task.Task) ([]*task.Task, error) {
	defer r.write(ctx).done()
	for _, t := range ts {
		if err := r.checkNew(t); err != nil {
			return nil, err
		}
	}
	out := make([]*task.Task, len(ts))
	for i, t := range ts {
		out[i] = r.add(t)
	}
	return out, nil
}

// live returns owner's task id when it is not in the trash; the data is held.
func (s *state) live(owner auth.UserID, id task.ID) (*entry, bool) {
	e, ok := s.tasks[id]
	if !ok || e.t.Owner() != owner || e.deletedAt != nil {
		return nil, false
	}
	return e, true
}

// reads reports whether caller reads task t: their own, or one of a live
// list where their role allows reading (roleOn, list.Role.Allows). The
// data is held.
func (s *state) reads(caller auth.UserID, t *task.Task) bool {
	if t.Owner() == caller {
		return true
	}
	l := t.ListID()
	if l == nil {
		return false
	}
	_, role := s.roleOn(caller, *l)
	return role.Allows(list.ActRead)
}

// Get returns a copy of live task id when caller reads it (reads).
func (r *TaskRepository) Get(ctx context.Context, caller auth.UserID, id task.ID) (*task.Task, error) {
	defer r.read(ctx).done()
	e, ok := r.tasks[id]
	if !ok || e.deletedAt != nil || !r.reads(caller, e.t) {
		return nil, task.ErrNotFound
	}
	return e.t.WithID(id), nil
}

// List returns a page of copies of the tasks caller reads (readable),
// through the domain's reference implementation (Query.Apply), which the
// SQL stores match. The service's queries come normalized (Normalized then
// does nothing); others are normalized here.
func (r *TaskRepository) List(ctx context.Context, caller auth.UserID, q task.Query) (task.Page, error) {
	q, err := q.Normalized()
	if err != nil {
		return task.Page{}, err
	}
	return q.Apply(r.readable(ctx, caller, q.List)), nil
}

// readable returns copies of the live tasks caller reads (reads), in no
// order: all of them, the caller's own and those of the shared lists they
// may read (in nil), or those of one list (caller's or shared) or of the
// caller's inbox (a task in no list is only its owner's).
func (r *TaskRepository) readable(ctx context.Context, caller auth.UserID, in *list.ID) []*task.Task {
	defer r.read(ctx).done()
	var out []*task.Task
	for _, e := range r.tasks {
		if e.deletedAt == nil && (in == nil || e.t.Scope().List == *in) && r.reads(caller, e.t) {
			out = append(out, e.t.WithID(e.t.ID()))
		}
	}
	return out
}

// owned returns copies of owner's live tasks, in no order: all of them (in
// nil) or those of one list or of the inbox.
func (r *TaskRepository) owned(ctx context.Context, owner auth.UserID, in *list.ID) []*task.Task {
	defer r.read(ctx).done()
	var out []*task.Task
	for _, e := range r.tasks {
		if e.t.Owner() == owner && e.deletedAt == nil && (in == nil || e.t.Scope().List == *in) {
			out = append(out, e.t.WithID(e.t.ID()))
		}
	}
	return out
}

// Tags counts owner's tags by key; each is shown in its smallest spelling.
func (r *TaskRepository) Tags(ctx context.Context, owner auth.UserID) ([]task.TagCount, error) {
	byKey := map[string]*task.TagCount{}
	for _, t := range r.owned(ctx, owner, nil) {
		for _, tag := range t.Tags() {
			k := task.TagKey(tag)
			if c, ok := byKey[k]; ok {
				c.Count++
				c.Name = min(c.Name, tag)
			} else {
				byKey[k] = &task.TagCount{Name: tag, Count: 1}
			}
		}
	}
	keys := slices.Sorted(maps.Keys(byKey))
	out := make([]task.TagCount, len(keys))
	for i, k := range keys {
		out[i] = *byKey[k]
	}
	return out, nil
}

// Stats counts the tasks caller reads (readable: of one list, or of the
// inbox, when in is set) with the domain's reference (task.StatsOf).
func (r *TaskRepository) Stats(ctx context.Context, caller auth.UserID, m task.Moment, in *list.ID) (task.Stats, error) {
	return task.StatsOf(r.readable(ctx, caller, in), m), nil
}

// Update applies fn to a copy under the write lock and keeps the copy, one
// version up, only if fn succeeds and changed it; a task it completes
// completes its open subtasks.
func (r *TaskRepository) Update(ctx context.Context, owner auth.UserID, id task.ID, expect task.Version, fn func(*task.Task) error) (*task.Task, error) {
	defer r.write(ctx).done()
	e, ok := r.live(owner, id)
	if !ok {
		return nil, task.ErrNotFound
	}
	if err := task.Conflict(e.t.WithID(id), expect); err != nil {
		return nil, err
	}
	c := e.t.WithID(id)
	if err := fn(c); err != nil {
		return nil, err
	}
	w := r.newWrites(task.Actor(ctx, owner))
	if c.Changed() {
		w.put(c, e.t)
	}
	w.completeSubtasks()
	w.commit()
	return w.get(id), nil
}

// UpdateAll applies fn to copies of every task, then keeps those it
// changed, or none when an id is missing or fn fails.
func (r *TaskRepository) UpdateAll(ctx context.Context, owner auth.UserID, ids []task.ID, fn func(*task.Task) error) ([]*task.Task, error) {
	defer r.write(ctx).done()
	ids = task.UniqueIDs(ids)
	entries := make([]*entry, len(ids))
	for i, id := range ids {
		e, ok := r.live(owner, id)
		if !ok {
			return nil, task.ErrNotFound
		}
		entries[i] = e
	}
	w := r.newWrites(task.Actor(ctx, owner))
	for _, e := range entries {
		c := e.t.WithID(e.t.ID())
		if err := fn(c); err != nil {
			return nil, err
		}
		if c.Changed() {
			w.put(c, e.t)
		}
	}
	w.completeSubtasks()
	w.commit()
	out := make([]*task.Task, len(ids))
	for i, id := range ids {
		out[i] = w.get(id)
	}
	return out, nil
}

// Trash moves owner's task id and its live subtree to the trash at at.
func (r *TaskRepository) Trash(ctx context.Context, owner auth.UserID, id task.ID, expect task.Version, at time.Time) error {
	defer r.write(ctx).done()
	e, ok := r.live(owner, id)
	if !ok {
		return task.ErrNotFound
	}
	if err := task.Conflict(e.t.WithID(id), expect); err != nil {
		return err
	}
	r.trash([]task.ID{id}, at)
	return nil
}

// trash moves the live tasks ids and their live subtrees to the trash,
// marked as task.TrashMarks says, and returns how many; the data is held.
func (s *state) trash(ids []task.ID, at time.Time) int {
	var nodes []task.Node
	seen := map[task.ID]bool{}
	for _, id := range ids {
		for _, d := range s.subtree(id, true) {
			if !seen[d] {
				seen[d] = true
				nodes = append(nodes, task.Node{ID: d, Parent: s.tasks[d].t.ParentID()})
			}
		}
	}
	for id, m := range task.TrashMarks(ids, nodes) {
		e := s.tasks[id]
		e.deletedAt, e.mark = trashTime(at), m
		s.touchTask(id)
	}
	return len(nodes)
}

func trashTime(at time.Time) *time.Time {
	at = at.UTC().Truncate(time.Microsecond)
	return &at
}

// TrashAll moves every task and its subtree to the trash, or none when an
// id is missing, and returns how many tasks went.
func (r *TaskRepository) TrashAll(ctx context.Context, owner auth.UserID, ids []task.ID, at time.Time) (int, error) {
	defer r.write(ctx).done()
	ids = task.UniqueIDs(ids)
	for _, id := range ids {
		if _, ok := r.live(owner, id); !ok {
			return 0, task.ErrNotFound
		}
	}
	return r.trash(ids, at), nil
}

// TrashCompleted moves owner's completed tasks, with their subtrees, to the
// trash.
func (r *TaskRepository) TrashCompleted(ctx context.Context, owner auth.UserID, at time.Time) (int, error) {
	defer r.write(ctx).done()
	var ids []task.ID
	for id, e := range r.tasks {
		if e.t.Owner() == owner && e.deletedAt == nil && e.t.Completed() {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return r.trash(ids, at), nil
}

// ListTrash returns owner's deleted tasks, the latest first.
func (r *TaskRepository) ListTrash(ctx context.Context, owner auth.UserID, limit, offset int) (task.TrashPage, error) {
	h := r.read(ctx)
	var all []task.Trashed
	for _, e := range r.tasks {
		if e.t.Owner() == owner && e.deletedAt != nil {
			all = append(all, task.Trashed{Task: e.t.WithID(e.t.ID()), DeletedAt: *e.deletedAt})
		}
	}
	h.done()
	slices.SortFunc(all, func(a, b task.Trashed) int {
		if c := b.DeletedAt.Compare(a.DeletedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.Task.ID(), a.Task.ID())
	})
	page := task.TrashPage{Items: []task.Trashed{}, Total: len(all)}
	all = all[min(max(offset, 0), len(all)):]
	if limit > 0 && len(all) > limit {
		all = all[:limit]
	}
	page.Items = append(page.Items, all...)
	return page, nil
}

// RestoreFromTrash brings the task back with what was trashed with it, and
// its trashed ancestors and list alone, so that it has a home.
func (r *TaskRepository) RestoreFromTrash(ctx context.Context, owner auth.UserID, id task.ID) (*task.Task, error) {
	defer r.write(ctx).done()
	e, ok := r.tasks[id]
	if !ok || e.t.Owner() != owner {
		return nil, task.ErrNotFound
	}
	if e.deletedAt == nil {
		return e.t.WithID(id), nil
	}
	// The list first: the one thing that can refuse (its name taken).
	if l := e.t.ListID(); l != nil {
		le := r.lists[*l]
		if le.deletedAt != nil {
			if err := r.restoreList(le); err != nil {
				return nil, err
			}
		}
	}
	with, at := task.RestoredWith(id, e.mark), *e.deletedAt
	var walk func(task.ID)
	walk = func(p task.ID) {
		for _, c := range r.children(p) {
			ce := r.tasks[c]
			if ce.deletedAt != nil && ce.mark == with && ce.deletedAt.Equal(at) {
				ce.deletedAt, ce.mark = nil, task.NoMark
				r.touchTask(c)
				walk(c)
			}
		}
	}
	walk(id)
	e.deletedAt, e.mark = nil, task.NoMark
	r.touchTask(id)
	for p := e.t.ParentID(); p != nil; p = r.tasks[*p].t.ParentID() {
		pe := r.tasks[*p]
		if pe.deletedAt == nil {
			break
		}
		pe.deletedAt, pe.mark = nil, task.NoMark
		r.touchTask(*p)
	}
	return e.t.WithID(id), nil
}

// Delete removes owner's task id and its subtree, live or in the trash.
func (r *TaskRepository) Delete(ctx context.Context, owner auth.UserID, id task.ID, expect task.Version) error {
	defer r.write(ctx).done()
	e, ok := r.tasks[id]
	if !ok || e.t.Owner() != owner {
		return task.ErrNotFound
	}
	if err := task.Conflict(e.t.WithID(id), expect); err != nil {
		return err
	}
	r.deleteSubtree(id)
	return nil
}

// deleteSubtree removes the task and every task under it; the data is held.
func (s *state) deleteSubtree(id task.ID) {
	for _, d := range s.subtree(id, false) {
		delete(s.tasks, d)
		s.touchTask(d)
		delete(s.s.occurrences, d) // as ON DELETE CASCADE does
	}
}

// EmptyTrash removes owner's deleted tasks (and their subtrees, in the
// trash with them).
func (r *TaskRepository) EmptyTrash(ctx context.Context, owner auth.UserID) (int, error) {
	defer r.write(ctx).done()
	n := 0
	for id, e := range r.tasks {
		if e.t.Owner() == owner && e.deletedAt != nil {
			delete(r.tasks, id)
			r.touchTask(id)
			n++
		}
	}
	return n, nil
}

// PurgeTrash removes up to limit tasks deleted before cutoff, the oldest
// deletions first, with their subtrees.
func (r *TaskRepository) PurgeTrash(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	defer r.write(ctx).done()
	var old []task.ID
	for id, e := range r.tasks {
		if e.deletedAt != nil && e.deletedAt.Before(cutoff) {
			old = append(old, id)
		}
	}
	slices.SortFunc(old, func(a, b task.ID) int {
		return r.tasks[a].deletedAt.Compare(*r.tasks[b].deletedAt)
	})
	if limit > 0 && len(old) > limit {
		old = old[:limit]
	}
	for _, id := range old {
		if _, ok := r.tasks[id]; ok {
			r.deleteSubtree(id)
		}
	}
	return len(old), nil
}

// UserRepository is a user.Repository held in memory, in a Store.
type UserRepository struct {
	s       *Store
	byID    map[auth.UserID]user.User
	byEmail map[string]auth.UserID
}

var _ user.Repository = (*UserRepository)(nil)

// NewUserRepository returns an empty repository, in a store of its own.
func NewUserRepository() *UserRepository { return NewStore().Users() }

// Save inserts or updates u, refusing an email held by another id.
func (r *UserRepository) Save(ctx context.Context, u user.User) error {
	defer r.s.write(ctx).done()
	if u.Email != "" {
		if holder, ok := r.byEmail[u.Email]; ok && holder != u.ID {
			return user.ErrEmailTaken
		}
	}
	if old, ok := r.byID[u.ID]; ok && old.Email != "" {
		delete(r.byEmail, old.Email)
	}
	r.byID[u.ID] = u
	if u.Email != "" {
		r.byEmail[u.Email] = u.ID
	}
	return nil
}
