package task

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/todo-backend/todo/domain/recur"
)

// dateLayout is a full date, RFC 3339's full-date; localLayout a local
// date-time without an offset (a floating due), with a fraction when it has
// one.
const (
	dateLayout  = "2006-01-02"
	localLayout = "2006-01-02T15:04:05.999999"
)

// Due is when a task is due, one of three kinds (issue 18's time model):
//   - a whole day (all-day, no time, no zone): "2026-03-01";
//   - an instant, optionally with the IANA zone it lives in (Zone), whose
//     wall clock a repeating task keeps across clock changes;
//   - a floating local date-time, no zone ("9:00 wherever I am"):
//     "2026-03-01T09:00:00".
//
// It remembers which, so that an all-day task comes back as "2026-03-01"
// and never as midnight in some zone. The zero Due means none.
type Due struct {
	at       time.Time // UTC, whole microseconds; for an all-day Due the date at 00:00 UTC, for a floating one its wall-clock reading labelled UTC
	allDay   bool
	floating bool
	set      bool
	zone     *time.Location // a zoned instant's zone; nil otherwise
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

// DueIn is the Due of an instant that lives in zone (nil: none, as DueAt).
func DueIn(t time.Time, zone *time.Location) Due {
	d := DueAt(t)
	if zone != nil {
		d.zone = zone
	}
	return d
}

// DueFloating is the floating Due of the wall-clock reading of local (its
// fields as they read in local's own location), to the microsecond.
func DueFloating(local time.Time) Due {
	y, m, d := local.Date()
	h, mi, sec := local.Clock()
	at := time.Date(y, m, d, h, mi, sec, local.Nanosecond(), time.UTC).Truncate(time.Microsecond)
	return Due{at: at, floating: true, set: true}
}

// RestoreDue rebuilds a stored Due: at is its key (Time), zone its zone's
// name ("" for none). A zone that no longer loads is an error, as is a
// zone on an all-day or floating Due.
func RestoreDue(at time.Time, allDay, floating bool, zone string) (Due, error) {
	switch {
	case allDay && (floating || zone != ""):
		return Due{}, fmt.Errorf("restore due: an all-day due with a zone or floating")
	case floating && zone != "":
		return Due{}, fmt.Errorf("restore due: a floating due with a zone")
	case allDay:
		return DueOn(at.UTC()), nil
	case floating:
		return DueFloating(at.UTC()), nil
	case zone == "":
		return DueAt(at), nil
	}
	loc, err := loadZone(zone)
	if err != nil {
		return Due{}, fmt.Errorf("restore due: zone %q: %w", zone, err)
	}
	return DueIn(at, loc), nil
}

// zones caches loaded time zones: time.LoadLocation reads the tz database
// on every call, and stores restore a zone per row.
var zones sync.Map // name -> *time.Location

func loadZone(name string) (*time.Location, error) {
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, l)
	return l, nil
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

// Floating reports whether the Due is a local date-time in no zone.
func (d Due) Floating() bool { return d.floating }

// Zone is the zone a zoned instant lives in; nil for any other Due.
func (d Due) Zone() *time.Location { return d.zone }

// ZoneName is Zone's IANA name, "" when there is none.
func (d Due) ZoneName() string {
	if d.zone == nil {
		return ""
	}
	return d.zone.String()
}

// Civil is the Due's wall-clock reading: the date of an all-day Due, the
// reading of a floating one, and an instant's reading in its zone (UTC
// when it has none). The zero Civil for no due.
func (d Due) Civil() recur.Civil {
	switch {
	case !d.set:
		return recur.Civil{}
	case d.allDay:
		y, m, day := d.at.Date()
		return recur.Date(y, m, day)
	case d.floating:
		return recur.CivilOf(d.at)
	}
	return recur.CivilOf(d.at.In(d.location()))
}

// location is the zone an instant's wall clock is read in: its own, or UTC.
func (d Due) location() *time.Location {
	if d.zone != nil {
		return d.zone
	}
	return time.UTC
}

// seriesLocation is the zone a series from d resolves in: nil for a
// floating or all-day Due (see recur.NewSeries).
func (d Due) seriesLocation() *time.Location {
	if d.allDay || d.floating {
		return nil
	}
	return d.location()
}

// at is a Due of d's kind (and zone) at the wall-clock reading c: how an
// occurrence of a repeating task becomes its next due.
func (d Due) atCivil(c recur.Civil) Due {
	switch {
	case d.allDay:
		y, m, day := c.Date()
		return DueOn(time.Date(y, m, day, 0, 0, 0, 0, time.UTC))
	case d.floating:
		return DueFloating(c.In(time.UTC))
	}
	return DueIn(c.In(d.location()), d.zone)
}

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
	case d.floating:
		return d.at.Format(localLayout)
	}
	return d.at.Format(time.RFC3339Nano)
}

// Equal reports whether two Dues are the same day, the same local
// date-time or the same instant in the same zone.
func (d Due) Equal(o Due) bool {
	return d.set == o.set && d.allDay == o.allDay && d.floating == o.floating && d.at.Equal(o.at) &&
		d.ZoneName() == o.ZoneName()
}

// Same reports whether d and o name the same occurrence: the same day, local
// date-time or instant, whatever zone an instant is in.
func (d Due) Same(o Due) bool {
	return d.set == o.set && d.allDay == o.allDay && d.floating == o.floating && d.at.Equal(o.at)
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
//
// A floating task is compared by its wall-clock reading with the user's:
// overdue when its key is before Local (the user's wall clock now, labelled
// UTC as floating keys are), due today when its key is in [Today, Tomorrow).
type Cutoffs struct {
	Today         time.Time
	Now           time.Time
	TodayStart    time.Time
	TomorrowStart time.Time
	Local         time.Time
	Tomorrow      time.Time
}

// Cutoffs computes the bounds of m.
func (m Moment) Cutoffs() Cutoffs {
	zone := m.Zone
	if zone == nil {
		zone = time.UTC
	}
	local := m.Now.In(zone)
	y, mo, d := local.Date()
	return Cutoffs{
		Local:         DueFloating(local).at,
		Tomorrow:      time.Date(y, mo, d+1, 0, 0, 0, 0, time.UTC),
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
	case d.floating:
		return d.at.Before(c.Local)
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
	case d.floating:
		return !d.at.Before(c.Today) && d.at.Before(c.Tomorrow)
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
		if loc, err := loadZone(s); err == nil {
			return loc, nil
		}
	}
	return nil, &ValidationError{Problems: []Problem{{
		Field: "tz",
		Msg:   fmt.Sprintf("Input should be an IANA time zone such as Europe/Paris, not %q", s),
		Type:  "value_error",
	}}}
}
