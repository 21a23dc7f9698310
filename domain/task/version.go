package task

import (
	"errors"
	"fmt"
)

// Version counts the writes of a stored task: 1 when it is added, one more on
// every change. A client sends back the version its change is based on (as
// an ETag in If-Match) so that a change made meanwhile by someone else is
// never silently overwritten.
type Version int64

// AnyVersion asks a write to skip the version check.
const AnyVersion Version = 0

// ErrVersionMismatch means a write expected a version the task no longer
// has. The error carrying it is a *ConflictError.
var ErrVersionMismatch = errors.New("task version does not match")

// ConflictError is a write refused because the task is no longer at the
// expected version; nothing was written. Current is the task as it is now,
// so that a client can show the other change.
type ConflictError struct {
	Expected Version
	Current  *Task
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("task %d is at version %d, not %d", e.Current.ID(), e.Current.Version(), e.Expected)
}

// Is makes errors.Is(err, ErrVersionMismatch) hold.
func (e *ConflictError) Is(target error) bool { return target == ErrVersionMismatch }

// Conflict returns the ConflictError of a write that expected version want
// of current, or nil when the versions agree (or want is AnyVersion). Stores
// call it on the task they read; the write itself checks the version again.
func Conflict(current *Task, want Version) error {
	if want == AnyVersion || current.Version() == want {
		return nil
	}
	return &ConflictError{Expected: want, Current: current}
}
