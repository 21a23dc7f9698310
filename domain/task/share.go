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
	// Owners returns the owner of each of tasks ids, and of each of the
	// live lists lists, that caller reaches as a member of the list (any
	// role; the caller's own and those they do not reach are left out), in
	// one statement at most, locking nothing: a write of several owners'
	// tasks, or into several owners' lists, takes their locks in one order
	// from it before Reach takes them one by one. A caller the store knows,
	// without a statement, to be nobody's member costs none.
	Owners(ctx context.Context, caller auth.UserID, ids []ID, lists []list.ID) (Owned, error)
}

// Owned is what Sharing.Owners found: the owners of the tasks and of the
// lists the caller reaches as a member.
type Owned struct {
	Tasks map[ID]auth.UserID
	Lists map[list.ID]auth.UserID
}
