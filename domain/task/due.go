package task

import (
	"fmt"
	"strings"
	"time"
)

// dateLayout is a full date, RFC 3339's full-date.
const dateLayout = "2006-01-02"

// Due is when a task is due: either a whole day (all-day, no time) or an
// instant. It remembers which, so that an all-day task comes back as
// "2026-03-01" and never as midnight in some zone. The zero Due means none.
type Due struct {
	at     time.Time // UTC, whole microseconds; for an all-day Due, the date at 00:00 UTC
	allDay bool
	set    bool
}

// DueOn is the all-day Due of date's calendar day (as read in date's own
// location).
func DueOn(date time.Time) Due {
	y, m, d := date.Date()
	return Due{at: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), allDay: true, set: true}
}

// DueAt is the Due of an instant, kept in UTC at microsecond precision.
func DueAt(t time.Time) Due {
	return Due{at: clean(t), set: true}
}

// ParseDue reads a full date (YYYY-MM-DD: all-day) or an RFC 3339 date-time
// (stored in UTC). field names the input in the problem it reports. Years
// run from 1 to 9999, in UTC too, which every store can hold.
func ParseDue(field, s string) (Due, error) {
	fail := func(msg string) (Due, error) {
		return Due{}, &ValidationError{Problems: []Problem{{Field: field, Msg: msg, Type: "datetime_parsing"}}}
	}
	if len(s) == len(dateLayout) {
		d, err := time.Parse(dateLayout, s)
		if err != nil || d.Year() < 1 {
			return fail(fmt.Sprintf("Input should be a valid date (YYYY-MM-DD), not %q", s))
		}
		return DueOn(d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	// Go accepts a lower-case t or z; RFC 3339 allows it, but the document's
	// pattern shows upper case only, so keep to that.
	if err != nil || strings.ContainsAny(s, "tz") {
		return fail(fmt.Sprintf("Input should be a date (YYYY-MM-DD) or an RFC 3339 date-time, not %q", s))
	}
	if u := t.UTC(); u.Year() < 1 || u.Year() > 9999 {
		return fail("Input should be a date-time between years 1 and 9999 in UTC")
	}
	return DueAt(t), nil
}

// IsZero reports whether there is no due date.
func (d Due) IsZero() bool { return !d.set }

// AllDay reports whether the Due is a whole day rather than an instant.
func (d Due) AllDay() bool { return d.allDay }

// Time is the Due as an instant, in UTC: the instant itself, or for an
// all-day Due its date at 00:00 UTC (which is how stores order and compare
// it). The zero time when there is no due date.
func (d Due) Time() time.Time { return d.at }

// String is the Due as the API shows it: "2026-03-01" for an all-day Due,
// RFC 3339 in UTC otherwise, "" for none.
func (d Due) String() string {
	switch {
	case !d.set:
		return ""
	case d.allDay:
		return d.at.Format(dateLayout)
	}
	return d.at.Format(time.RFC3339Nano)
}

// Equal reports whether two Dues are the same day or the same instant.
func (d Due) Equal(o Due) bool {
	return d.set == o.set && d.allDay == o.allDay && d.at.Equal(o.at)
}

// Moment is the present as one user sees it: the instant and their time
// zone. It decides what is overdue and what is due today.
type Moment struct {
	Now  time.Time
	Zone *time.Location // nil means UTC
}

// Cutoffs are the bounds a Moment sets, in the form stores compare due keys
// with (Due.Time): an all-day task is overdue when its key is before Today
// and due today when its key equals Today; a timed task is overdue when it
// is before Now and due today when it is in [TodayStart, TomorrowStart).
type Cutoffs struct {
	Today         time.Time
	Now           time.Time
	TodayStart    time.Time
	TomorrowStart time.Time
}

// Cutoffs computes the bounds of m.
func (m Moment) Cutoffs() Cutoffs {
	zone := m.Zone
	if zone == nil {
		zone = time.UTC
	}
	y, mo, d := m.Now.In(zone).Date()
	return Cutoffs{
		Today:         time.Date(y, mo, d, 0, 0, 0, 0, time.UTC),
		Now:           clean(m.Now),
		TodayStart:    clean(time.Date(y, mo, d, 0, 0, 0, 0, zone)),
		TomorrowStart: clean(time.Date(y, mo, d+1, 0, 0, 0, 0, zone)),
	}
}

// Overdue reports whether a task due d, not completed, is late at c: an
// all-day task once its day is over in the user's zone, a timed one once its
// instant has passed.
func (c Cutoffs) Overdue(d Due) bool {
	switch {
	case !d.set:
		return false
	case d.allDay:
		return d.at.Before(c.Today)
	}
	return d.at.Before(c.Now)
}

// DueToday reports whether d falls on the user's today.
func (c Cutoffs) DueToday(d Due) bool {
	switch {
	case !d.set:
		return false
	case d.allDay:
		return d.at.Equal(c.Today)
	}
	return !d.at.Before(c.TodayStart) && d.at.Before(c.TomorrowStart)
}

// ParseTimeZone reads an IANA time zone name such as Europe/Paris; "" and
// "UTC" are UTC. "Local" is refused: it would be the server's zone, which
// no client can know.
func ParseTimeZone(s string) (*time.Location, error) {
	if s == "" || s == "UTC" {
		return time.UTC, nil
	}
	if s != "Local" && !strings.ContainsRune(s, 0) && len(s) <= 64 {
		if loc, err := time.LoadLocation(s); err == nil {
			return loc, nil
		}
	}
	return nil, &ValidationError{Problems: []Problem{{
		Field: "tz",
		Msg:   fmt.Sprintf("Input should be an IANA time zone such as Europe/Paris, not %q", s),
		Type:  "value_error",
	}}}
}
