package task

import (
	"context"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
)

// Needs is the action a change of a task from before to after needs on a
// shared list (list.Role.Allows decides whether a member may take it):
// list.ActComplete when it changes at most whether the task is completed,
// list.ActEdit for anything else.
func Needs(before, after *Task) list.Action {
	b := *before
	b.completed, b.completedAt = after.completed, after.completedAt
	if b.sameContent(after) {
		return list.ActComplete
	}
	return list.ActEdit
}

// Sharing tells who reaches the tasks of shared lists. A task of a shared
// list stays in its owner's rows; a member reaches it through their role on
// its list.
type Sharing interface {
	// Reach returns the owner of task id (live or in the trash) and
	// caller's role on its list when the caller is a member of that live
	// list (not its owner); ErrNotFound otherwise: a task in no list, a
	// stranger's, the caller's own (the caller reaches those as the owner).
	// On PostgreSQL in a transaction it locks the membership (see
	// list.Members.Access).
	Reach(ctx context.Context, caller auth.UserID, id ID) (list.Access, error)
	// Owners returns the owner of each of tasks ids that caller reaches as
	// a member of its list (any role; the caller's own and those they do
	// not reach are left out), locking nothing: a write of several owners'
	// tasks takes their locks in one order from it before Reach takes
	// them one by one.
	Owners(ctx context.Context, caller auth.UserID, ids []ID) (map[ID]auth.UserID, error)
}
