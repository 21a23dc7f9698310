package task

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Bounds on reminders (issue 18): at most MaxReminders a task, each at most
// MaxReminderBefore ahead of its due.
const (
	MaxReminders      = 10
	MaxReminderBefore = 366 * 24 * time.Hour
)

// Reminder is when to remind the user of a task: at an instant, or a
// duration before the task's due (recomputed whenever the due moves, as a
// repeating task's does). Delivery is not built yet; the task keeps them.
type Reminder struct {
	at       time.Time     // absolute: UTC, whole microseconds
	before   time.Duration // relative: how long before the due
	relative bool
}

// ReminderAt is a reminder at the instant t.
func ReminderAt(t time.Time) Reminder { return Reminder{at: clean(t)} }

// ReminderBefore is a reminder d before the due.
func ReminderBefore(d time.Duration) Reminder { return Reminder{before: d, relative: true} }

// At is an absolute reminder's instant; false for a relative one.
func (r Reminder) At() (time.Time, bool) { return r.at, !r.relative }

// Before is a relative reminder's lead; false for an absolute one.
func (r Reminder) Before() (time.Duration, bool) { return r.before, r.relative }

// FiresAt is when the reminder fires for a task due d: its instant, or d's
// instant less its lead. A relative reminder of an all-day or floating due
// has no instant until it is read in the user's zone (delivery's job):
// false, as for no due.
func (r Reminder) FiresAt(d Due) (time.Time, bool) {
	if !r.relative {
		return r.at, true
	}
	if d.IsZero() || d.allDay || d.floating {
		return time.Time{}, false
	}
	return d.at.Add(-r.before), true
}

// Equal reports whether two reminders are the same.
func (r Reminder) Equal(o Reminder) bool {
	return r.relative == o.relative && r.before == o.before && r.at.Equal(o.at)
}

// String is the reminder as stores keep it and the API shows it: "at" and
// an RFC 3339 instant, or "before" and an ISO 8601 duration.
func (r Reminder) String() string {
	if r.relative {
		return "before " + FormatDuration(r.before)
	}
	return "at " + r.at.Format(time.RFC3339Nano)
}

// ParseReminder reads String's form back.
func ParseReminder(s string) (Reminder, error) {
	kind, v, _ := strings.Cut(s, " ")
	switch kind {
	case "at":
		t, err := time.Parse(time.RFC3339Nano, v)
		if err == nil {
			return ReminderAt(t), nil
		}
	case "before":
		if d, err := ParseDuration("before", v); err == nil {
			return ReminderBefore(d), nil
		}
	}
	return Reminder{}, fmt.Errorf("reminder %q: not 'at <RFC 3339>' or 'before <ISO 8601 duration>'", s)
}

// ReminderInput is a reminder as a client gives it: exactly one of At (an
// RFC 3339 date-time) and Before (an ISO 8601 duration such as PT15M).
type ReminderInput struct {
	At, Before *string
}

// WithReminders replaces the reminders (none: no reminders). Each is
// checked; a relative one needs a due (checked once every option ran).
// Duplicates are dropped.
func WithReminders(in []ReminderInput) Option {
	return func(v *validator, t *Task) {
		if len(in) > MaxReminders {
			v.add("reminders", fmt.Sprintf("must have at most %d reminders, not %d", MaxReminders, len(in)), "too_long")
			return
		}
		var out []Reminder
		ok := true
		for i, r := range in {
			field := "reminders." + strconv.Itoa(i)
			var rem Reminder
			switch {
			case (r.At == nil) == (r.Before == nil):
				v.add(field, "must have exactly one of at (an RFC 3339 date-time) and before (an ISO 8601 duration such as PT15M)", "value_error")
				ok = false
				continue
			case r.At != nil:
				at, err := time.Parse(time.RFC3339Nano, *r.At)
				if err != nil || strings.ContainsAny(*r.At, "tz") || at.UTC().Year() < 1 || at.UTC().Year() > 9999 {
					v.add(field+".at", fmt.Sprintf("Input should be an RFC 3339 date-time, not %q", *r.At), "datetime_parsing")
					ok = false
					continue
				}
				rem = ReminderAt(at)
			default:
				d, err := ParseDuration(field+".before", *r.Before)
				if err != nil {
					v.merge(err)
					ok = false
					continue
				}
				rem = ReminderBefore(d)
			}
			dup := false
			for _, o := range out {
				dup = dup || o.Equal(rem)
			}
			if !dup {
				out = append(out, rem)
			}
		}
		if ok {
			t.reminders = out
		}
	}
}

// Reminders returns the task's reminders, in the order given; never nil.
func (t *Task) Reminders() []Reminder {
	out := make([]Reminder, len(t.reminders))
	copy(out, t.reminders)
	return out
}

// shiftReminders moves the absolute reminders with a due that moved from
// old to next (a repeating task's next occurrence): each keeps its distance
// to the due. Relative ones follow the due by themselves.
func (t *Task) shiftReminders(old, next Due) {
	if len(t.reminders) == 0 {
		return
	}
	delta := next.Time().Sub(old.Time())
	out := make([]Reminder, len(t.reminders))
	for i, r := range t.reminders {
		if !r.relative {
			r.at = r.at.Add(delta)
		}
		out[i] = r
	}
	t.reminders = out
}

func equalReminders(a, b []Reminder) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

// ParseDuration reads an ISO 8601 duration of weeks, days, hours, minutes
// and seconds (P1W, P1D, PT15M, P1DT2H, PT0S), from zero to
// MaxReminderBefore. Years and months are refused: their length depends on
// the date.
func ParseDuration(field, s string) (time.Duration, error) {
	fail := func(msg string) (time.Duration, error) {
		return 0, &ValidationError{Problems: []Problem{{Field: field, Msg: msg, Type: "value_error"}}}
	}
	bad := func() (time.Duration, error) {
		return fail(fmt.Sprintf("Input should be an ISO 8601 duration of weeks, days, hours, minutes and seconds such as PT15M or P1D, not %q", s))
	}
	if len(s) < 3 || len(s) > 32 || s[0] != 'P' {
		return bad()
	}
	var total time.Duration
	inTime, seen, order := false, false, 0
	units := map[byte]struct {
		d     time.Duration
		time  bool
		order int
	}{'W': {7 * 24 * time.Hour, false, 1}, 'D': {24 * time.Hour, false, 2}, 'H': {time.Hour, true, 3}, 'M': {time.Minute, true, 4}, 'S': {time.Second, true, 5}}
	num := 0
	digits := 0
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 'T' && !inTime && digits == 0:
			inTime = true
			if i == len(s)-1 {
				return bad()
			}
		case c >= '0' && c <= '9':
			if digits >= 6 {
				return bad()
			}
			num, digits = num*10+int(c-'0'), digits+1
		default:
			u, ok := units[c]
			if !ok || digits == 0 || u.time != inTime || u.order <= order {
				return bad()
			}
			total += time.Duration(num) * u.d
			num, digits, order, seen = 0, 0, u.order, true
		}
	}
	if !seen || digits > 0 {
		return bad()
	}
	if total > MaxReminderBefore {
		return fail("must be at most P366D")
	}
	return total, nil
}

// FormatDuration writes d as ParseDuration reads it, in days, hours,
// minutes and seconds ("PT15M", "P1DT2H", "PT0S").
func FormatDuration(d time.Duration) string {
	if d <= 0 {
		return "PT0S"
	}
	var b strings.Builder
	b.WriteByte('P')
	if days := d / (24 * time.Hour); days > 0 {
		b.WriteString(strconv.FormatInt(int64(days), 10) + "D")
		d -= days * 24 * time.Hour
	}
	if d > 0 {
		b.WriteByte('T')
		for _, u := range []struct {
			d time.Duration
			c string
		}{{time.Hour, "H"}, {time.Minute, "M"}, {time.Second, "S"}} {
			if n := d / u.d; n > 0 {
				b.WriteString(strconv.FormatInt(int64(n), 10) + u.c)
				d -= n * u.d
			}
		}
	}
	return b.String()
}
