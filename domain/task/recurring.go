package task

import (
	"context"
	"fmt"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/recur"
)

// MaxOccurrences bounds one listing of a repeating task's occurrences
// (Occurrences): a client pages through longer windows.
const MaxOccurrences = 1000

// WithRecurrence makes the task repeat by rule (an RFC 5545 RRULE, see
// recur.Parse), counted from "due" or "completion" (see recur.From). A
// repeating task needs a due: its first occurrence. Its problems are
// reported on recurrence.rule and recurrence.from, naming the RRULE part.
func WithRecurrence(rule, from string) Option {
	return func(v *validator, t *Task) {
		r, err := recur.NewRecurrence(rule, from)
		if err != nil {
			if ve, ok := err.(*recur.ValidationError); ok {
				for _, p := range ve.Problems {
					v.add("recurrence."+p.Field, p.Msg, p.Type)
				}
				return
			}
			v.add("recurrence", err.Error(), "value_error")
			return
		}
		t.setRecurrence(r)
	}
}

// WithoutRecurrence stops the task repeating (recurrence: null).
func WithoutRecurrence() Option {
	return func(_ *validator, t *Task) { t.setRecurrence(recur.Recurrence{}) }
}

// setRecurrence sets r; a recurrence other than the one the task has
// starts counting its occurrences (COUNT) again.
func (t *Task) setRecurrence(r recur.Recurrence) {
	if r.Rule().String() == t.Recurrence().Rule().String() && r.From() == t.Recurrence().From() {
		return
	}
	t.recurrence, t.recurrencePassed = nil, 0
	if !r.IsZero() {
		t.recurrence = &r
	}
}

// Recurrence is how the task repeats; the zero Recurrence when it does not.
func (t *Task) Recurrence() recur.Recurrence {
	if t.recurrence == nil {
		return recur.Recurrence{}
	}
	return *t.recurrence
}

// RecurrencePassed is how many occurrences of its recurrence the task has
// passed (completed or skipped) since the recurrence was set: its COUNT
// counts them.
func (t *Task) RecurrencePassed() int { return t.recurrencePassed }

// Recurring reports whether the task repeats.
func (t *Task) Recurring() bool { return t.recurrence != nil }

// OccurrenceKind says how an occurrence of a repeating task was passed.
type OccurrenceKind string

// The ways an occurrence is passed.
const (
	OccurrenceCompleted OccurrenceKind = "completed"
	OccurrenceSkipped   OccurrenceKind = "skipped"
)

// Occurrence is one passed occurrence of a repeating task: its history.
type Occurrence struct {
	Task ID
	Due  Due // the occurrence: the due the task had
	Kind OccurrenceKind
	At   time.Time // when it was completed or skipped
}

// ParseOccurrence reads the occurrence a client names ("occurrence": the
// due_date it was shown), in the form of the task's due: "" is the current
// one. An instant may be given with any offset.
func (t *Task) ParseOccurrence(s string) (Due, error) {
	if s == "" {
		return t.due, nil
	}
	fail := func() (Due, error) {
		return Due{}, &ValidationError{Problems: []Problem{{Field: "occurrence",
			Msg: fmt.Sprintf("must be an occurrence of the task, in the form of its due_date (%s), not %q", t.due.String(), s), Type: "value_error"}}}
	}
	kind, at, err := parseDueText(s)
	if err != nil {
		return fail()
	}
	switch {
	case kind == dueDay && t.due.allDay:
		return DueOn(at), nil
	case kind == dueLocal && t.due.floating:
		return DueFloating(at), nil
	case kind == dueInstant && !t.due.allDay && !t.due.floating:
		return DueIn(at, t.due.zone), nil
	}
	return fail()
}

// ErrNotRecurring is a skip of a task that does not repeat.
var errNotRecurring = &ValidationError{Problems: []Problem{{Field: "recurrence",
	Msg: "the task does not repeat: only an occurrence of a repeating task can be skipped", Type: "value_error"}}}

// PassOccurrence completes (or skips) the occurrence occ of a repeating
// task that is open, and moves the task on to its next occurrence: open
// again, same id, its due the next occurrence (counted from occ, or for a
// recurrence from completion from now, in the due's wall clock). When
// there is no next occurrence (COUNT or UNTIL reached), a completion
// completes the task for good and a skip does too (there is nothing left
// to do). It returns the record of the occurrence passed, for the history.
//
// occ must be the task's current occurrence (see ParseOccurrence); an
// earlier one is already passed, which the caller answers as no change
// (OccurrencePassed), and a later one is a ValidationError: completing an
// occurrence never passes two.
func (t *Task) PassOccurrence(occ Due, kind OccurrenceKind, now time.Time) (Occurrence, error) {
	if !t.Recurring() {
		return Occurrence{}, errNotRecurring
	}
	if t.completed {
		return Occurrence{}, &ValidationError{Problems: []Problem{{Field: "occurrence",
			Msg: "the task is completed for good: its recurrence has ended", Type: "value_error"}}}
	}
	if !occ.Same(t.due) {
		return Occurrence{}, &ValidationError{Problems: []Problem{{Field: "occurrence",
			Msg: fmt.Sprintf("is not the task's current occurrence (%s)", t.due.String()), Type: "value_error"}}}
	}
	now = clean(now)
	rec := Occurrence{Task: t.id, Due: t.due, Kind: kind, At: now}
	next, ok := t.nextOccurrence(now)
	t.recurrencePassed++
	if !ok {
		t.completed = true
		t.touch(now)
		at := t.updatedAt
		t.completedAt = &at
		return rec, nil
	}
	// Open again: completed_at stays null (the completion is in the
	// history).
	t.shiftReminders(t.due, next)
	t.due = next
	t.completedAt = nil
	t.touch(now)
	return rec, nil
}

// OccurrencePassed reports whether occ is an occurrence the task has moved
// past: one before its current due, or any once it is completed for good.
// The caller also asks the history (a recurrence from completion can
// move the due back).
func (t *Task) OccurrencePassed(occ Due) bool {
	if !t.Recurring() || t.due.IsZero() {
		return false
	}
	if t.completed {
		return true
	}
	return occ.Time().Before(t.due.Time())
}

// nextOccurrence is the occurrence after the current one, or false when the
// recurrence has ended.
func (t *Task) nextOccurrence(now time.Time) (Due, bool) {
	rule := t.Recurrence().Rule()
	if n := rule.Count(); n > 0 && t.recurrencePassed+1 >= n {
		return Due{}, false
	}
	cur := t.due.Civil()
	s := recur.NewSeries(rule, cur, t.due.seriesLocation())
	after := cur
	if t.Recurrence().From() == recur.FromCompletion {
		// The rule restarts on the day of completion, at the due's time of
		// day: the next occurrence is the first after that day's.
		var done recur.Civil
		switch {
		case t.due.allDay:
			done = DueOn(now.In(t.due.location())).Civil()
		case t.due.floating:
			done = recur.CivilOf(now) // no zone to read it in: UTC
		default:
			done = recur.CivilOf(now.In(t.due.location()))
		}
		y, m, d := done.Date()
		start := recur.Date(y, m, d)
		if cur.Timed() {
			start = civilAtClock(y, m, d, cur.Clock())
		}
		s = recur.NewSeries(rule, start, t.due.seriesLocation())
		after = start
	}
	c, ok := s.Next(after)
	for ok && c.Compare(cur) == 0 {
		// Restarted from a completion before the due, the rule can land on
		// the occurrence just completed (weekly on Friday, done on
		// Wednesday): the next is the one after it.
		c, ok = s.Next(c)
	}
	if !ok {
		return Due{}, false
	}
	return t.due.atCivil(c), true
}

func civilAtClock(y int, m time.Month, d int, clock time.Duration) recur.Civil {
	return recur.CivilOf(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Add(clock))
}

// ParseWindowBound reads a bound of an occurrence window: a date (its
// midnight in zone, nil meaning UTC) or an RFC 3339 date-time.
func ParseWindowBound(field, s string, zone *time.Location) (time.Time, error) {
	d, err := ParseDue(field, s)
	if err != nil {
		return time.Time{}, err
	}
	if !d.AllDay() {
		return d.Time(), nil
	}
	if zone == nil {
		zone = time.UTC
	}
	y, m, day := d.Time().Date()
	return time.Date(y, m, day, 0, 0, 0, 0, zone), nil
}

// Occurrences are the task's occurrences from its current due onward that
// fall in [from, to), compared as instants (a floating or all-day
// occurrence by its reading in zone), at most limit of them, and false when
// limit is not enough for all of them. A task that does not repeat has its
// due as its only occurrence; one completed for good has none.
func (t *Task) Occurrences(from, to time.Time, zone *time.Location, limit int) ([]Due, bool) {
	if t.due.IsZero() || t.completed && t.Recurring() || !to.After(from) {
		return []Due{}, true
	}
	if zone == nil {
		zone = time.UTC
	}
	instant := func(d Due) time.Time {
		if d.allDay || d.floating {
			return d.Civil().In(zone)
		}
		return d.at
	}
	out := []Due{}
	if !t.Recurring() {
		if at := instant(t.due); !at.Before(from) && at.Before(to) {
			out = append(out, t.due)
		}
		return out, true
	}
	s := recur.NewSeries(t.Recurrence().Rule(), t.due.Civil(), t.due.seriesLocation())
	keep := func(c recur.Civil) (bool, bool) { // in range, past the end
		d := t.due.atCivil(c)
		at := instant(d)
		return !at.Before(from) && at.Before(to), !at.Before(to)
	}
	if n := t.Recurrence().Rule().Count(); n > 0 {
		// At most MaxCount occurrences: walk them from the current one.
		left := n - t.recurrencePassed
		for c := range s.Occurrences(t.due.Civil()) {
			if left <= 0 {
				break
			}
			left--
			in, past := keep(c)
			if past {
				break
			}
			if in {
				if len(out) == limit {
					return out, false
				}
				out = append(out, t.due.atCivil(c))
			}
		}
		return out, true
	}
	// No COUNT: the window's occurrences, read a day wider on each side in
	// wall-clock time (no zone is more than a day from UTC), then held to
	// the instants. A rule has at most one occurrence a day, so a window
	// holding more than limit fills the wider read.
	read := zone
	if l := t.due.seriesLocation(); l != nil {
		read = l
	}
	lo, hi := recur.CivilOf(from.In(read)).AddDays(-1), recur.CivilOf(to.In(read)).AddDays(2)
	if lo.Before(t.due.Civil()) {
		lo = t.due.Civil()
	}
	capN := limit + 8
	cs := s.Between(lo, hi, capN)
	for _, c := range cs {
		if in, _ := keep(c); in {
			if len(out) == limit {
				return out, false
			}
			out = append(out, t.due.atCivil(c))
		}
	}
	return out, len(cs) < capN
}

// OccurrenceLog keeps the history of repeating tasks: each occurrence
// passed, once. Its calls run in the unit of work their context carries
// (application.Transactor), so that an occurrence is recorded with the
// write that moved its task on, or not at all. Every call is scoped to an
// owner, as Repository's are.
type OccurrenceLog interface {
	// Record adds o to the history of owner's task o.Task; false (and no
	// change) when that occurrence is in it already.
	Record(ctx context.Context, owner auth.UserID, o Occurrence) (bool, error)
	// Recorded reports whether occurrence due of owner's task id is in its
	// history.
	Recorded(ctx context.Context, owner auth.UserID, id ID, due Due) (bool, error)
	// History is the history of owner's task id, the latest first, at most
	// limit entries.
	History(ctx context.Context, owner auth.UserID, id ID, limit int) ([]Occurrence, error)
}
