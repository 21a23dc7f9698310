// Package memory keeps tasks and users in maps: the store for fast tests and
// for DATABASE_URL=memory:. It has the same semantics as the SQL stores (ids
// from 1 upwards, oldest first, owner-scoped) and is safe for concurrent use.
package memory

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/domain/user"
)

// TaskRepository is a task.Repository held in memory.
type TaskRepository struct {
	mu     sync.RWMutex
	lastID task.ID
	tasks  map[task.ID]*entry
}

// entry is a stored task and, when it is in the trash, since when.
type entry struct {
	t         *task.Task
	deletedAt *time.Time
}

var _ task.Repository = (*TaskRepository)(nil)

// NewTaskRepository returns an empty repository.
func NewTaskRepository() *TaskRepository {
	return &TaskRepository{tasks: make(map[task.ID]*entry)}
}

// Add stores t under the next id, at version 1.
func (r *TaskRepository) Add(_ context.Context, t *task.Task) (*task.Task, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.add(t), nil
}

// add stores t; r.mu is held.
func (r *TaskRepository) add(t *task.Task) *task.Task {
	r.lastID++
	stored := t.WithID(r.lastID).WithVersion(1)
	r.tasks[stored.ID()] = &entry{t: stored}
	return stored.WithID(stored.ID())
}

// AddAll stores every task under one lock: nothing can fail half-way.
func (r *TaskRepository) AddAll(_ context.Context, ts []*task.Task) ([]*task.Task, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]*task.Task, len(ts))
	for i, t := range ts {
		out[i] = r.add(t)
	}
	return out, nil
}

// live returns owner's task id when it is not in the trash; r.mu is held.
func (r *TaskRepository) live(owner auth.UserID, id task.ID) (*entry, bool) {
	e, ok := r.tasks[id]
	if !ok || e.t.Owner() != owner || e.deletedAt != nil {
		return nil, false
	}
	return e, true
}

// Get returns a copy of owner's task id.
func (r *TaskRepository) Get(_ context.Context, owner auth.UserID, id task.ID) (*task.Task, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e, ok := r.live(owner, id)
	if !ok {
		return nil, task.ErrNotFound
	}
	return e.t.WithID(id), nil
}

// List returns a page of copies of owner's tasks, through the domain's
// reference implementation (Query.Apply), which the SQL stores match. The
// service's queries come normalized (Normalized then does nothing); others
// are normalized here.
func (r *TaskRepository) List(_ context.Context, owner auth.UserID, q task.Query) (task.Page, error) {
	q, err := q.Normalized()
	if err != nil {
		return task.Page{}, err
	}
	return q.Apply(r.owned(owner)), nil
}

// owned returns copies of owner's live tasks, in no order.
func (r *TaskRepository) owned(owner auth.UserID) []*task.Task {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []*task.Task
	for _, e := range r.tasks {
		if e.t.Owner() == owner && e.deletedAt == nil {
			out = append(out, e.t.WithID(e.t.ID()))
		}
	}
	return out
}

// Tags counts owner's tags by key; each is shown in its smallest spelling.
func (r *TaskRepository) Tags(_ context.Context, owner auth.UserID) ([]task.TagCount, error) {
	byKey := map[string]*task.TagCount{}
	for _, t := range r.owned(owner) {
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

// Stats counts owner's tasks with the domain's reference (task.StatsOf).
func (r *TaskRepository) Stats(_ context.Context, owner auth.UserID, m task.Moment) (task.Stats, error) {
	return task.StatsOf(r.owned(owner), m), nil
}

// Update applies fn to a copy under the write lock and keeps the copy, one
// version up, only if fn succeeds.
func (r *TaskRepository) Update(_ context.Context, owner auth.UserID, id task.ID, expect task.Version, fn func(*task.Task) error) (*task.Task, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
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
	e.t = c.WithVersion(e.t.Version() + 1)
	return e.t.WithID(id), nil
}

// UpdateAll applies fn to copies of every task, then keeps them all, or
// none when an id is missing or fn fails.
func (r *TaskRepository) UpdateAll(_ context.Context, owner auth.UserID, ids []task.ID, fn func(*task.Task) error) ([]*task.Task, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids = task.UniqueIDs(ids)
	entries := make([]*entry, len(ids))
	for i, id := range ids {
		e, ok := r.live(owner, id)
		if !ok {
			return nil, task.ErrNotFound
		}
		entries[i] = e
	}
	next := make([]*task.Task, len(ids))
	for i, e := range entries {
		c := e.t.WithID(e.t.ID())
		if err := fn(c); err != nil {
			return nil, err
		}
		next[i] = c.WithVersion(e.t.Version() + 1)
	}
	out := make([]*task.Task, len(ids))
	for i, e := range entries {
		e.t = next[i]
		out[i] = e.t.WithID(e.t.ID())
	}
	return out, nil
}

// Trash marks owner's task id as deleted at at.
func (r *TaskRepository) Trash(_ context.Context, owner auth.UserID, id task.ID, expect task.Version, at time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.live(owner, id)
	if !ok {
		return task.ErrNotFound
	}
	if err := task.Conflict(e.t.WithID(id), expect); err != nil {
		return err
	}
	e.deletedAt = trashTime(at)
	return nil
}

func trashTime(at time.Time) *time.Time {
	at = at.UTC().Truncate(time.Microsecond)
	return &at
}

// TrashAll marks every task as deleted, or none when an id is missing.
func (r *TaskRepository) TrashAll(_ context.Context, owner auth.UserID, ids []task.ID, at time.Time) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ids = task.UniqueIDs(ids)
	for _, id := range ids {
		if _, ok := r.live(owner, id); !ok {
			return 0, task.ErrNotFound
		}
	}
	for _, id := range ids {
		r.tasks[id].deletedAt = trashTime(at)
	}
	return len(ids), nil
}

// TrashCompleted marks owner's completed tasks as deleted.
func (r *TaskRepository) TrashCompleted(_ context.Context, owner auth.UserID, at time.Time) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.tasks {
		if e.t.Owner() == owner && e.deletedAt == nil && e.t.Completed() {
			e.deletedAt = trashTime(at)
			n++
		}
	}
	return n, nil
}

// ListTrash returns owner's deleted tasks, the latest first.
func (r *TaskRepository) ListTrash(_ context.Context, owner auth.UserID, limit, offset int) (task.TrashPage, error) {
	r.mu.RLock()
	var all []task.Trashed
	for _, e := range r.tasks {
		if e.t.Owner() == owner && e.deletedAt != nil {
			all = append(all, task.Trashed{Task: e.t.WithID(e.t.ID()), DeletedAt: *e.deletedAt})
		}
	}
	r.mu.RUnlock()
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

// RestoreFromTrash clears the task's deletion.
func (r *TaskRepository) RestoreFromTrash(_ context.Context, owner auth.UserID, id task.ID) (*task.Task, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.tasks[id]
	if !ok || e.t.Owner() != owner {
		return nil, task.ErrNotFound
	}
	e.deletedAt = nil
	return e.t.WithID(id), nil
}

// Delete removes owner's task id, live or in the trash.
func (r *TaskRepository) Delete(_ context.Context, owner auth.UserID, id task.ID, expect task.Version) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.tasks[id]
	if !ok || e.t.Owner() != owner {
		return task.ErrNotFound
	}
	if err := task.Conflict(e.t.WithID(id), expect); err != nil {
		return err
	}
	delete(r.tasks, id)
	return nil
}

// EmptyTrash removes owner's deleted tasks.
func (r *TaskRepository) EmptyTrash(_ context.Context, owner auth.UserID) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for id, e := range r.tasks {
		if e.t.Owner() == owner && e.deletedAt != nil {
			delete(r.tasks, id)
			n++
		}
	}
	return n, nil
}

// PurgeTrash removes up to limit tasks deleted before cutoff, the oldest
// deletions first.
func (r *TaskRepository) PurgeTrash(_ context.Context, cutoff time.Time, limit int) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
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
		delete(r.tasks, id)
	}
	return len(old), nil
}

// UserRepository is a user.Repository held in memory.
type UserRepository struct {
	mu      sync.Mutex
	byID    map[auth.UserID]user.User
	byEmail map[string]auth.UserID
}

var _ user.Repository = (*UserRepository)(nil)

// NewUserRepository returns an empty repository.
func NewUserRepository() *UserRepository {
	return &UserRepository{byID: make(map[auth.UserID]user.User), byEmail: make(map[string]auth.UserID)}
}

// Save inserts or updates u, refusing an email held by another id.
func (r *UserRepository) Save(_ context.Context, u user.User) error {
	r.mu.Lock()
	defer r.mu.Unlock()
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
