// Package memory keeps tasks and users in maps: the store for fast tests and
// for DATABASE_URL=memory:. It has the same semantics as the SQL stores (ids
// from 1 upwards, oldest first, owner-scoped) and is safe for concurrent use.
package memory

import (
	"cmp"
	"context"
	"slices"
	"sync"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/domain/user"
)

// TaskRepository is a task.Repository held in memory.
type TaskRepository struct {
	mu     sync.RWMutex
	lastID task.ID
	tasks  map[task.ID]*task.Task
}

var _ task.Repository = (*TaskRepository)(nil)

// NewTaskRepository returns an empty repository.
func NewTaskRepository() *TaskRepository {
	return &TaskRepository{tasks: make(map[task.ID]*task.Task)}
}

// Add stores t under the next id.
func (r *TaskRepository) Add(_ context.Context, t *task.Task) (*task.Task, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastID++
	stored := t.WithID(r.lastID)
	r.tasks[stored.ID()] = stored
	return stored.WithID(stored.ID()), nil
}

// Get returns a copy of owner's task id.
func (r *TaskRepository) Get(_ context.Context, owner auth.UserID, id task.ID) (*task.Task, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.tasks[id]
	if !ok || t.Owner() != owner {
		return nil, task.ErrNotFound
	}
	return t.WithID(id), nil
}

// List returns copies of owner's tasks matching f, oldest first.
func (r *TaskRepository) List(_ context.Context, owner auth.UserID, f task.Filter) ([]*task.Task, error) {
	r.mu.RLock()
	out := make([]*task.Task, 0)
	for _, t := range r.tasks {
		if t.Owner() != owner || !matches(t, f) {
			continue
		}
		out = append(out, t.WithID(t.ID()))
	}
	r.mu.RUnlock()
	slices.SortFunc(out, func(a, b *task.Task) int {
		if c := a.CreatedAt().Compare(b.CreatedAt()); c != 0 {
			return c
		}
		return cmp.Compare(a.ID(), b.ID())
	})
	return out, nil
}

func matches(t *task.Task, f task.Filter) bool {
	switch f.Status {
	case task.StatusPending:
		return !t.Completed()
	case task.StatusCompleted:
		return t.Completed()
	}
	return true
}

// Update applies fn to a copy under the write lock and keeps the copy only if
// fn succeeds.
func (r *TaskRepository) Update(_ context.Context, owner auth.UserID, id task.ID, fn func(*task.Task) error) (*task.Task, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.tasks[id]
	if !ok || t.Owner() != owner {
		return nil, task.ErrNotFound
	}
	c := t.WithID(id)
	if err := fn(c); err != nil {
		return nil, err
	}
	r.tasks[id] = c
	return c.WithID(id), nil
}

// Delete removes owner's task id.
func (r *TaskRepository) Delete(_ context.Context, owner auth.UserID, id task.ID) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, ok := r.tasks[id]
	if !ok || t.Owner() != owner {
		return task.ErrNotFound
	}
	delete(r.tasks, id)
	return nil
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
