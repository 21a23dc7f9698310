package application

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/todo-backend/todo/domain/task"
)

// WithOccurrences gives the service the history of repeating tasks, which
// completing and skipping their occurrences write (with WithTransactor:
// the history is written in the unit of work that moves the task on).
// Without it, completing a repeating task completes it as any other.
func WithOccurrences(l task.OccurrenceLog) Option { return func(s *Service) { s.occurrences = l } }

// errRepeating sends a completion from the plain path (one Update) to the
// repeating task's (passOccurrence).
var errRepeating = errors.New("the task repeats")

// errOccurrences is a use case of repeating tasks on a service without
// their history or a unit of work.
var errOccurrences = errors.New("application: repeating tasks need WithOccurrences and WithTransactor")

// CompleteOccurrence is CompleteTask for a client that names the
// occurrence it completes (occurrence: the due_date it was shown; "" for
// the current one). Completing an open repeating task completes its current
// occurrence, records it in the history and moves the task on to its next
// one (task.PassOccurrence); naming an occurrence already passed changes
// nothing, so that a retried or replayed completion never passes two.
// Setting an open repeating task to not completed changes nothing; a
// repeating task completed for good toggles (reopens) as any task does.
// A task that does not repeat is completed (named occurrence) or toggled
// as before.
func (s *Service) CompleteOccurrence(ctx context.Context, a Actor, id task.ID, expect task.Version, completed *bool, occurrence string) (*task.Task, error) {
	now := s.now()
	t, err := s.tasks.Update(ctx, a.owner, id, expect, func(t *task.Task) error {
		switch {
		case t.Recurring() && !t.Completed() && (completed == nil || *completed):
			if s.occurrences != nil {
				return errRepeating
			}
		case t.Recurring() && !t.Completed():
			return nil // not completed already
		case t.Recurring() && occurrence != "":
			return nil // completed for good: every occurrence is passed
		}
		switch {
		case occurrence != "":
			if _, err := t.ParseOccurrence(occurrence); err != nil {
				return err
			}
			t.SetCompleted(true, now)
		case completed != nil:
			t.SetCompleted(*completed, now)
		default:
			t.ToggleCompleted(now)
		}
		return nil
	})
	if !errors.Is(err, errRepeating) {
		return t, err
	}
	return s.passOccurrence(ctx, a, id, expect, occurrence, task.OccurrenceCompleted)
}

// SkipOccurrence moves an open repeating task on to its next occurrence
// without completing the current one (named as in CompleteOccurrence),
// and records it as skipped. A task that does not repeat is a
// ValidationError.
func (s *Service) SkipOccurrence(ctx context.Context, a Actor, id task.ID, expect task.Version, occurrence string) (*task.Task, error) {
	return s.passOccurrence(ctx, a, id, expect, occurrence, task.OccurrenceSkipped)
}

// passOccurrence passes an occurrence of a repeating task in a unit of
// work: read the task, see whether the occurrence named is passed already
// (before the current due, or in the history), and if not move the task
// on at the version read and record the occurrence. Two clients passing
// the same occurrence at once both read one version; one writes it, the
// other's write finds another version (a *task.ConflictError) and, unless
// the client gave If-Match, reads again and finds the occurrence passed:
// exactly one advance, on every store and across instances.
func (s *Service) passOccurrence(ctx context.Context, a Actor, id task.ID, expect task.Version, occurrence string, kind task.OccurrenceKind) (*task.Task, error) {
	if s.occurrences == nil || s.tx == nil {
		return nil, errOccurrences
	}
	for attempt := 1; ; attempt++ {
		var out *task.Task
		err := s.InTx(ctx, func(ctx context.Context) error {
			t, err := s.tasks.Get(ctx, a.owner, id)
			if err != nil {
				return err
			}
			if err := task.Conflict(t, expect); err != nil {
				return err
			}
			occ, err := t.ParseOccurrence(occurrence)
			if err != nil {
				return err
			}
			if occurrence != "" && !(occ.Same(t.Due()) && !t.Completed()) && t.Recurring() {
				passed := t.OccurrencePassed(occ)
				if !passed {
					if passed, err = s.occurrences.Recorded(ctx, a.owner, id, occ); err != nil {
						return err
					}
				}
				if passed {
					out = t // done already: no change
					return nil
				}
			}
			var rec task.Occurrence
			now := s.now()
			out, err = s.tasks.Update(ctx, a.owner, id, t.Version(), func(t *task.Task) error {
				rec, err = t.PassOccurrence(occ, kind, now)
				return err
			})
			if err != nil {
				return err
			}
			// false: recorded before (the due was moved back to an
			// occurrence already passed, and passed again): the history
			// keeps the first.
			if _, err := s.occurrences.Record(ctx, a.owner, rec); err != nil {
				return err
			}
			if !out.Completed() {
				return s.reopenSubtasks(ctx, a, id, now)
			}
			return nil
		})
		if _, ok := errors.AsType[*task.ConflictError](err); ok && expect == task.AnyVersion && attempt < 5 {
			continue // another client moved it on first: read again
		}
		return out, err
	}
}

// reopenSubtasks reopens the completed subtasks of a repeating task that
// moved on to its next occurrence, at every level: a checklist of the
// occurrence is a checklist of the next one too.
func (s *Service) reopenSubtasks(ctx context.Context, a Actor, parent task.ID, now time.Time) error {
	var ids []task.ID
	queue := []task.ID{parent}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		q, err := task.Query{Parent: &p}.Normalized()
		if err != nil {
			return err
		}
		page, err := s.tasks.List(ctx, a.owner, q)
		if err != nil {
			return fmt.Errorf("list subtasks: %w", err)
		}
		for _, c := range page.Tasks {
			queue = append(queue, c.ID())
			if c.Completed() {
				ids = append(ids, c.ID())
			}
		}
	}
	for len(ids) > 0 {
		n := min(len(ids), task.MaxBatch)
		if _, err := s.tasks.UpdateAll(ctx, a.owner, ids[:n], func(t *task.Task) error {
			t.SetCompleted(false, now)
			return nil
		}); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// TaskOccurrences lists the occurrences of one of the actor's tasks from
// its current due onward that fall in [from, to) (see task.Occurrences;
// zone reads all-day and floating ones), at most task.MaxOccurrences: a
// window holding more is a ValidationError, so that a client narrows it
// rather than reading a truncated list.
func (s *Service) TaskOccurrences(ctx context.Context, a Actor, id task.ID, from, to time.Time, zone *time.Location) ([]task.Due, error) {
	if !to.After(from) {
		return nil, &task.ValidationError{Problems: []task.Problem{{Field: "to",
			Msg: "must be after from", Type: "value_error"}}}
	}
	t, err := s.tasks.Get(ctx, a.owner, id)
	if err != nil {
		return nil, err
	}
	out, complete := t.Occurrences(from, to, zone, task.MaxOccurrences)
	if !complete {
		return nil, &task.ValidationError{Problems: []task.Problem{{Field: "to",
			Msg: fmt.Sprintf("the window holds more than %d occurrences: narrow it", task.MaxOccurrences), Type: "value_error"}}}
	}
	return out, nil
}

// OccurrenceHistory is the history of one of the actor's tasks, the latest
// first, at most limit entries.
func (s *Service) OccurrenceHistory(ctx context.Context, a Actor, id task.ID, limit int) ([]task.Occurrence, error) {
	if s.occurrences == nil {
		return nil, errOccurrences
	}
	t, err := s.tasks.Get(ctx, a.owner, id)
	if err != nil {
		return nil, err
	}
	return s.occurrences.History(ctx, t.Owner(), id, limit) // a shared task's is its owner's
}
