package task

import (
	"context"
	"fmt"

	"github.com/todo-backend/todo/domain/auth"
)

// Status selects tasks by completion.
type Status string

// The statuses a list can ask for.
const (
	StatusAll       Status = "all"
	StatusPending   Status = "pending"
	StatusCompleted Status = "completed"
)

// Statuses lists every Status, in the order documentation shows them.
func Statuses() []Status { return []Status{StatusAll, StatusPending, StatusCompleted} }

// ParseStatus reads a status filter; the empty string means StatusAll.
func ParseStatus(s string) (Status, error) {
	switch Status(s) {
	case "", StatusAll:
		return StatusAll, nil
	case StatusPending, StatusCompleted:
		return Status(s), nil
	}
	return "", &ValidationError{Problems: []Problem{{
		Field: "status",
		Msg:   fmt.Sprintf("Input should be 'all', 'pending' or 'completed', not %q", s),
		Type:  "enum",
	}}}
}

// Filter narrows a list. The zero Filter lists every task.
type Filter struct {
	Status Status
}

// Repository stores tasks. Every call is scoped to an owner: another user's
// task is ErrNotFound, exactly like a task that does not exist.
type Repository interface {
	// Add stores a new task and returns it with its assigned ID.
	Add(ctx context.Context, t *Task) (*Task, error)
	// Get returns one task of owner.
	Get(ctx context.Context, owner auth.UserID, id ID) (*Task, error)
	// List returns owner's tasks matching f, oldest first (creation time, then
	// id). It returns an empty, non-nil slice when there are none.
	List(ctx context.Context, owner auth.UserID, f Filter) ([]*Task, error)
	// Update loads the task, applies fn and stores the result atomically: no
	// other change to the task can land between the load and the store. If fn
	// fails, nothing is stored and its error is returned.
	Update(ctx context.Context, owner auth.UserID, id ID, fn func(*Task) error) (*Task, error)
	// Delete removes the task.
	Delete(ctx context.Context, owner auth.UserID, id ID) error
}
