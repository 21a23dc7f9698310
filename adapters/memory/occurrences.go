package memory

import (
	"context"
	"slices"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

// OccurrenceLog is a task.OccurrenceLog held in memory, in a Store: its
// transactions (InTx) cover it with the tasks.
type OccurrenceLog struct {
	s *Store
}

var _ task.OccurrenceLog = (*OccurrenceLog)(nil)

// occurred is one task's history, oldest first, and its owner.
type occurred struct {
	owner auth.UserID
	list  []task.Occurrence
}

// Record adds o unless its occurrence is recorded already.
func (l *OccurrenceLog) Record(ctx context.Context, owner auth.UserID, o task.Occurrence) (bool, error) {
	defer l.s.write(ctx).done()
	h := l.s.occurrences[o.Task]
	if h != nil && slices.ContainsFunc(h.list, func(p task.Occurrence) bool { return p.Due.String() == o.Due.String() }) {
		return false, nil
	}
	if h == nil {
		h = &occurred{owner: owner}
	} else {
		h = &occurred{owner: h.owner, list: slices.Clone(h.list)}
	}
	if h.owner != owner {
		return false, task.ErrNotFound
	}
	h.list = append(h.list, o)
	l.s.occurrences[o.Task] = h
	return true, nil
}

// Recorded reports whether occurrence due of the task is recorded.
func (l *OccurrenceLog) Recorded(ctx context.Context, owner auth.UserID, id task.ID, due task.Due) (bool, error) {
	defer l.s.read(ctx).done()
	h := l.s.occurrences[id]
	return h != nil && h.owner == owner &&
		slices.ContainsFunc(h.list, func(p task.Occurrence) bool { return p.Due.String() == due.String() }), nil
}

// History is the task's history, the latest first.
func (l *OccurrenceLog) History(ctx context.Context, owner auth.UserID, id task.ID, limit int) ([]task.Occurrence, error) {
	defer l.s.read(ctx).done()
	h := l.s.occurrences[id]
	out := []task.Occurrence{}
	if h == nil || h.owner != owner {
		return out, nil
	}
	for i := len(h.list) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, h.list[i])
	}
	return out, nil
}
