package task

import (
	"context"
	"fmt"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
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

// Stats are the counts a sidebar shows, for one user at one Moment.
type Stats struct {
	Total     int
	Completed int
	Pending   int
	// Overdue counts pending tasks that are late (Cutoffs.Overdue).
	Overdue int
	// DueToday counts pending tasks due on the user's today, timed ones
	// already past included (they are overdue too).
	DueToday int
	// ByPriority counts pending tasks by priority; every priority is present.
	ByPriority map[Priority]int
}

// StatsOf computes Stats from tasks: the reference the stores' own counting
// must agree with.
func StatsOf(tasks []*Task, m Moment) Stats {
	c := m.Cutoffs()
	s := Stats{ByPriority: map[Priority]int{}}
	for _, p := range Priorities() {
		s.ByPriority[p] = 0
	}
	for _, t := range tasks {
		s.Total++
		if t.completed {
			s.Completed++
			continue
		}
		s.Pending++
		s.ByPriority[t.priority]++
		if c.Overdue(t.due) {
			s.Overdue++
		}
		if c.DueToday(t.due) {
			s.DueToday++
		}
	}
	return s
}

// Repository stores tasks. Every call is scoped to an owner: another user's
// task is ErrNotFound, exactly like a task that does not exist. The reads
// (Get, List, Stats, Revisions) are scoped to the caller instead: their
// own tasks and those of the shared lists where their role reads
// (list.Role.Allows(list.ActRead)), each with its owner (Task.Owner); the
// writes stay the owner's, and the application decides a member's. A task in
// the trash is ErrNotFound too, and is not listed or counted, except by the
// calls about the trash.
//
// Every write of a task adds one to its version. An fn given to Update or
// UpdateAll that leaves the task as it was (Task.Changed false) is no
// write: the task is returned as read, at its version, with its
// updated_at. A write given an expected
// version other than AnyVersion checks it in the same statement that
// writes (UPDATE ... WHERE version = ?), so that of many writers holding
// one version exactly one succeeds; the others get a *ConflictError with
// the task as it is.
//
// Tasks form trees (see tree.go), and the stores keep these rules:
//   - a live task's list, and its ancestors, are live: a task is never in
//     the trash's shadow;
//   - a subtask is in its parent's list, at most MaxDepth levels deep;
//   - keys (Task.Position) are unique within a scope, counting the tasks in
//     the trash, so that a restored task never collides; a new task gets
//     position.Implicit(id), the bottom of its scope, without a read;
//   - completing a task (a write whose fn makes an open task completed)
//     completes its open descendants in the same write, each one version
//     up, as at the task's UpdatedAt; reopening reopens none;
//   - trashing a task trashes its live subtree (marked MarkTask); restoring
//     it restores what was trashed with it (RestoredWith, at the same
//     deletion time) and, when its parent or list is in the trash, those
//     ancestors alone, so that it has a home; deleting a task for good
//     deletes its subtree.
type Repository interface {
	// Add stores a new task and returns it with its assigned ID, at
	// version 1, at the bottom of its scope. A list that is not one of the
	// owner's live lists is list.ErrNotFound; a parent that is not one of
	// the owner's live tasks ErrNotFound; a parent in another list than
	// the task's, or at level MaxDepth, a ValidationError.
	Add(ctx context.Context, t *Task) (*Task, error)
	// AddAll stores new tasks of one owner, all or none, and returns them
	// with their IDs in the order given, each checked as in Add.
	AddAll(ctx context.Context, ts []*Task) ([]*Task, error)
	// Move places owner's tasks m.IDs (duplicates once), in that order,
	// together at m.To, all or none, each one version up (see Placement):
	// an id, a new parent or an anchor that is not one of owner's live
	// tasks is ErrNotFound, a list that is not one of owner's live lists
	// list.ErrNotFound, a placement that breaks a rule (a cycle, too deep,
	// an anchor outside the target scope) a ValidationError saying why.
	// Tasks moved to another list take their subtrees along (each live
	// subtask one version up). With one id, m.Expect is checked as in
	// Update. It returns the moved tasks in the order given.
	Move(ctx context.Context, owner auth.UserID, m Move) ([]*Task, error)
	// Get returns one live task caller reads (see above).
	Get(ctx context.Context, caller auth.UserID, id ID) (*Task, error)
	// List returns one page of the tasks caller reads (see above; of one
	// list when q.List names one, the caller's own in the inbox): those q.Matches, in q's order
	// (q.Compare), after q.After or q.Offset tasks, at most q.Limit of them
	// (every one when 0), the total that match, and the cursor of the next
	// page when there is one (q.CursorAt of the page's last task). Stores
	// normalize q themselves, so any Query is safe to pass.
	List(ctx context.Context, caller auth.UserID, q Query) (Page, error)
	// Update loads the task, applies fn and stores the result atomically: no
	// other change to the task can land between the load and the store. If
	// fn fails, nothing is stored and its error is returned. With expect
	// other than AnyVersion, a task at another version is a *ConflictError
	// and fn is not called.
	Update(ctx context.Context, owner auth.UserID, id ID, expect Version, fn func(*Task) error) (*Task, error)
	// UpdateAll applies fn to each of owner's tasks ids (in the order given,
	// duplicates once) and stores them, all or none: when one id is not
	// owner's live task the error is ErrNotFound, when fn fails its error,
	// and nothing changes.
	UpdateAll(ctx context.Context, owner auth.UserID, ids []ID, fn func(*Task) error) ([]*Task, error)
	// Trash moves the task to the trash, as deleted at at. Its version and
	// fields stay as they are, so that RestoreFromTrash brings it back
	// exactly. expect is checked as in Update.
	Trash(ctx context.Context, owner auth.UserID, id ID, expect Version, at time.Time) error
	// TrashAll moves owner's tasks ids to the trash, all or none (ErrNotFound
	// when one is not owner's live task), and returns how many.
	TrashAll(ctx context.Context, owner auth.UserID, ids []ID, at time.Time) (int, error)
	// TrashCompleted moves every completed task of owner to the trash and
	// returns how many.
	TrashCompleted(ctx context.Context, owner auth.UserID, at time.Time) (int, error)
	// ListTrash returns owner's trash, the most recently deleted first (then
	// the highest id), skipping offset tasks and returning at most limit
	// (every one when 0).
	ListTrash(ctx context.Context, owner auth.UserID, limit, offset int) (TrashPage, error)
	// RestoreFromTrash brings a task back from the trash as it was. A task
	// not in the trash is returned as it is; one that does not exist is
	// ErrNotFound.
	RestoreFromTrash(ctx context.Context, owner auth.UserID, id ID) (*Task, error)
	// Delete removes the task for good, from the list or from the trash.
	// expect is checked as in Update.
	Delete(ctx context.Context, owner auth.UserID, id ID, expect Version) error
	// EmptyTrash removes every task in owner's trash for good and returns
	// how many.
	EmptyTrash(ctx context.Context, owner auth.UserID) (int, error)
	// PurgeTrash removes for good, whoever owns them, at most limit tasks
	// that went to the trash before cutoff, with their subtrees, and
	// returns how many (a subtask removed with its parent may not count).
	PurgeTrash(ctx context.Context, cutoff time.Time, limit int) (int, error)
	// Tags returns owner's tags, each with how many tasks carry it, ordered
	// by TagKey (byte-wise).
	Tags(ctx context.Context, owner auth.UserID) ([]TagCount, error)
	// Stats counts the tasks caller reads as StatsOf does: all of them (in
	// nil), or those of one list or of the inbox (list.Inbox).
	Stats(ctx context.Context, caller auth.UserID, m Moment, in *list.ID) (Stats, error)
	// Revisions is the history of task id (live or in the trash) when
	// caller reads it, newest first: its revisions after version since (0:
	// all it keeps). ErrNotFound otherwise.
	Revisions(ctx context.Context, caller auth.UserID, id ID, since Version) ([]Revision, error)
	// Lock takes, in the transaction ctx carries, the locks that writes of
	// owner's tasks ids take, in the one order every writer takes them
	// (the owner's scope, then the rows in id order), and holds them until
	// that transaction ends: a unit of work that then writes those tasks
	// in any order, and creates tasks, cannot deadlock with another doing
	// the same in another order. Ids that are not owner's are skipped.
	// Outside a transaction, and on a store whose transaction excludes
	// every other writer already, it does nothing.
	Lock(ctx context.Context, owner auth.UserID, ids []ID) error
}

// Move is a move of tasks (Repository.Move).
type Move struct {
	IDs []ID
	To  Placement
	// Expect is the version the task must be at, with one id (AnyVersion:
	// any).
	Expect Version
	// At is when the move happens.
	At time.Time
	// Edit, when set, is applied to each moved task in the same write (a
	// PATCH that changes the list with other fields); its error stops the
	// move.
	Edit func(*Task) error
	// Follow, when set, is applied to each live subtask that follows a
	// moved task to another list, in the same write (the assignee a list
	// change clears, application's keepAssignable); its error stops the
	// move.
	Follow func(*Task) error
}
