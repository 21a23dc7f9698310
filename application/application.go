// Package application holds the use cases of the todo service. Each one checks
// who is asking, loads through a port, calls the domain, and saves.
package application

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/domain/user"
)

// Clock tells the time; tests pass a fixed one.
type Clock func() time.Time

// Service runs the use cases against the ports it is given.
type Service struct {
	tasks task.Repository
	users user.Repository
	now   Clock
	seen  *seenUsers
}

// New returns a Service. A nil clock means time.Now.
func New(tasks task.Repository, users user.Repository, now Clock) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{tasks: tasks, users: users, now: now, seen: newSeenUsers(10000)}
}

// Actor is a caller who was authenticated and allowed to act on one user's
// tasks. Only Authorize makes one, so no use case can run unchecked.
type Actor struct {
	owner auth.UserID
}

// Owner returns the user whose tasks the actor works on.
func (a Actor) Owner() auth.UserID { return a.owner }

// Authorize admits the bearer of a verified identity to act on pathUser's
// tasks: only their own (ErrForbidden otherwise). It records the user, which
// fails with user.ErrEmailTaken when their email belongs to another user id.
func (s *Service) Authorize(ctx context.Context, id auth.Identity, pathUser string) (Actor, error) {
	if strings.TrimSpace(string(id.UserID)) == "" {
		return Actor{}, auth.Unauthenticated("token has no user id")
	}
	if string(id.UserID) != pathUser {
		return Actor{}, auth.ErrForbidden
	}
	u := user.FromIdentity(id)
	if !s.seen.has(u) {
		if err := s.users.Save(ctx, u); err != nil {
			return Actor{}, fmt.Errorf("record user: %w", err)
		}
		s.seen.add(u)
	}
	return Actor{owner: id.UserID}, nil
}

// ListTasks returns the actor's tasks that match the filter.
func (s *Service) ListTasks(ctx context.Context, a Actor, f task.Filter) ([]*task.Task, error) {
	return s.tasks.List(ctx, a.owner, f)
}

// CreateTask adds a task for the actor.
func (s *Service) CreateTask(ctx context.Context, a Actor, title string, description *string) (*task.Task, error) {
	t, err := task.New(a.owner, title, description, s.now())
	if err != nil {
		return nil, err
	}
	return s.tasks.Add(ctx, t)
}

// GetTask returns one of the actor's tasks.
func (s *Service) GetTask(ctx context.Context, a Actor, id task.ID) (*task.Task, error) {
	return s.tasks.Get(ctx, a.owner, id)
}

// ReplaceTask sets the title and description; completed changes only when
// given. This is PUT: an absent description clears it.
func (s *Service) ReplaceTask(ctx context.Context, a Actor, id task.ID, title string, description *string, completed *bool) (*task.Task, error) {
	return s.tasks.Update(ctx, a.owner, id, func(t *task.Task) error {
		now := s.now()
		if err := t.Edit(title, description, now); err != nil {
			return err
		}
		if completed != nil {
			t.SetCompleted(*completed, now)
		}
		return nil
	})
}

// CompleteTask toggles the task, or sets it to *completed when given.
func (s *Service) CompleteTask(ctx context.Context, a Actor, id task.ID, completed *bool) (*task.Task, error) {
	return s.tasks.Update(ctx, a.owner, id, func(t *task.Task) error {
		if completed != nil {
			t.SetCompleted(*completed, s.now())
		} else {
			t.ToggleCompleted(s.now())
		}
		return nil
	})
}

// DeleteTask removes one of the actor's tasks.
func (s *Service) DeleteTask(ctx context.Context, a Actor, id task.ID) error {
	return s.tasks.Delete(ctx, a.owner, id)
}

// seenUsers remembers users already saved with the same email and name, so
// that a request does not write the users table when nothing changed. It is
// bounded: when full it forgets everything and starts again.
type seenUsers struct {
	mu  sync.Mutex
	max int
	m   map[auth.UserID]user.User
}

func newSeenUsers(max int) *seenUsers {
	return &seenUsers{max: max, m: make(map[auth.UserID]user.User)}
}

func (s *seenUsers) has(u user.User) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	got, ok := s.m[u.ID]
	return ok && got == u
}

func (s *seenUsers) add(u user.User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= s.max {
		clear(s.m)
	}
	s.m[u.ID] = u
}
