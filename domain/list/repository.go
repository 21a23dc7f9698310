package list

import (
	"context"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/check"
)

// Anchor says where a moved list goes in a user's sidebar: right after one
// of the lists there, right before one, or (neither) at the top. A user's
// sidebar is their own lists and the lists shared with them, in one order
// that is theirs alone: their own lists by the list's key (List.Position),
// the shared ones by the key of their membership (Members.Place), one key
// space per user.
type Anchor struct {
	After, Before *ID
}

// Check refuses an anchor that names both sides, or a list id that cannot
// exist.
func (a Anchor) Check() error {
	switch {
	case a.After != nil && a.Before != nil:
		return check.Invalid("before_id", "give after_id or before_id, not both", "value_error")
	case a.After != nil && *a.After <= 0:
		return check.Invalid("after_id", "must be a positive integer", "greater_than")
	case a.Before != nil && *a.Before <= 0:
		return check.Invalid("before_id", "must be a positive integer", "greater_than")
	}
	return nil
}

// Repository stores lists. Every call is scoped to an owner: another user's
// list is ErrNotFound, exactly like a list that does not exist; so is a
// list in the trash, except for the calls about the trash.
//
// A list's tasks go with it: trashing a list trashes its live tasks (marked
// as trashed with it, task.MarkList); restoring it restores those, and not
// the tasks that were in the trash on their own before; deleting it for
// good deletes all its tasks.
type Repository interface {
	// Add stores a new list at the bottom of owner's lists, at version 1.
	// ErrNameTaken when one of the owner's live lists has its name (see
	// NameKey: the naming rule).
	Add(ctx context.Context, l *List) (Summary, error)
	// Get returns one live list of owner with its counts.
	Get(ctx context.Context, owner auth.UserID, id ID) (Summary, error)
	// List returns owner's live lists in their order (by Position), each
	// with its counts, without reading the lists' tasks.
	List(ctx context.Context, owner auth.UserID) ([]Summary, error)
	// Update loads owner's list, applies fn and stores the result one
	// version up, atomically; with expect other than AnyVersion a list at
	// another version is a *ConflictError and fn is not called. by is who
	// changes it: owner, or an admin of the shared list. ErrNameTaken when
	// the new name is that of another live list by owns (by's lists only,
	// never owner's when by is someone else: see NameKey).
	Update(ctx context.Context, by, owner auth.UserID, id ID, expect Version, fn func(*List) error) (Summary, error)
	// Move places the list at a in owner's sidebar (the top when a names
	// no list), one version up, at at: a key between its new neighbours'
	// among owner's lists and the lists shared with owner. expect as in
	// Update; an anchor that is neither one of owner's live lists nor a
	// live list shared with owner is ErrNotFound, the list itself a
	// ValidationError. The members' places of the list do not change.
	Move(ctx context.Context, owner auth.UserID, id ID, expect Version, a Anchor, at time.Time) (Summary, error)
	// Trash moves the list and its live tasks to the trash, as deleted at
	// at, in one step. expect as in Update.
	Trash(ctx context.Context, owner auth.UserID, id ID, expect Version, at time.Time) error
	// Restore brings a list back from the trash with the tasks trashed with
	// it. A live list is returned as it is; ErrNameTaken (and nothing
	// restored) when a live list took its name meanwhile.
	Restore(ctx context.Context, owner auth.UserID, id ID) (Summary, error)
	// Delete removes the list and all its tasks for good, live or in the
	// trash. expect as in Update.
	Delete(ctx context.Context, owner auth.UserID, id ID, expect Version) error
	// ListTrash returns owner's trashed lists, the latest deletion first
	// (then the highest id).
	ListTrash(ctx context.Context, owner auth.UserID) ([]Trashed, error)
	// EmptyTrash removes owner's trashed lists, with their tasks, for good
	// and returns how many lists.
	EmptyTrash(ctx context.Context, owner auth.UserID) (int, error)
	// PurgeTrash removes for good, whoever owns them, at most limit lists
	// that went to the trash before cutoff, with their tasks, and returns
	// how many lists.
	PurgeTrash(ctx context.Context, cutoff time.Time, limit int) (int, error)
}
