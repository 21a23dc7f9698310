package transfer

import (
	"fmt"
	"strings"
	"time"
)

// DueKind says which of the three kinds of due (issue 18) a Due is.
type DueKind uint8

// The kinds of due.
const (
	DueNone     DueKind = iota
	DueDate             // a whole day, no time
	DueInstant          // an instant, optionally living in an IANA zone
	DueFloating         // a local date and time with no zone: "9:00 wherever I am"
)

// Due is when a task is due. Time is, by Kind: the day at 00:00 UTC (DueDate);
// the instant in UTC (DueInstant); the wall clock read as if UTC
// (DueFloating). Zone is the IANA zone of a DueInstant that lives in one
// ("Europe/Paris"), "" otherwise.
type Due struct {
	Kind DueKind
	Time time.Time
	Zone string
}

// DueOn is the all-day due of a calendar day.
func DueOn(year int, month time.Month, day int) Due {
	return Due{Kind: DueDate, Time: time.Date(year, month, day, 0, 0, 0, 0, time.UTC)}
}

// DueAt is the due of an instant; zone is its IANA zone or "".
func DueAt(t time.Time, zone string) Due {
	return Due{Kind: DueInstant, Time: t.UTC(), Zone: zone}
}

// DueFloatingAt is the floating due of a wall clock (its location is ignored).
func DueFloatingAt(wall time.Time) Due {
	y, m, d := wall.Date()
	h, mi, s := wall.Clock()
	return Due{Kind: DueFloating, Time: time.Date(y, m, d, h, mi, s, wall.Nanosecond(), time.UTC)}
}

// IsZero reports whether there is no due.
func (d Due) IsZero() bool { return d.Kind == DueNone }

// Wall is the due's date and time as its owner reads it: in its zone for a
// zoned instant, in UTC for an instant without one, as is otherwise.
func (d Due) Wall() time.Time {
	if d.Kind == DueInstant && d.Zone != "" {
		if loc, err := loadZone(d.Zone); err == nil {
			return d.Time.In(loc)
		}
	}
	return d.Time
}

const (
	dateLayout     = "2006-01-02"
	floatingLayout = "2006-01-02T15:04:05.999999999"
)

// String is the due as the API shows it in due_date: "2026-03-01",
// "2026-03-01T16:00:00Z" (an instant, in UTC whatever its zone) or
// "2026-03-01T09:00:00" (floating); "" for none.
func (d Due) String() string {
	switch d.Kind {
	case DueDate:
		return d.Time.Format(dateLayout)
	case DueInstant:
		return d.Time.UTC().Format(time.RFC3339Nano)
	case DueFloating:
		return d.Time.Format(floatingLayout)
	}
	return ""
}

// parseDue reads the three API fields back into a Due: due_date, due_tz and
// due_floating. It refuses what the API would: a zone on a date or a
// floating time, a floating flag on a value with an offset.
func parseDue(date string, tz *string, floating bool) (Due, error) {
	zone := ""
	if tz != nil {
		zone = *tz
	}
	if date == "" {
		if zone != "" || floating {
			return Due{}, fmt.Errorf("due_tz and due_floating need a due_date")
		}
		return Due{}, nil
	}
	if len(date) == len(dateLayout) {
		t, err := time.Parse(dateLayout, date)
		if err != nil {
			return Due{}, fmt.Errorf("due_date %q is not a date (YYYY-MM-DD)", date)
		}
		if zone != "" || floating {
			return Due{}, fmt.Errorf("a due_date without a time takes no due_tz and is not floating")
		}
		return Due{Kind: DueDate, Time: t}, nil
	}
	if floating {
		t, err := time.Parse(floatingLayout, date)
		if err != nil || strings.ContainsAny(date, "Zz+") || strings.Count(date, "-") > 2 {
			return Due{}, fmt.Errorf("a floating due_date is a local date-time without offset (2026-03-01T09:00:00), not %q", date)
		}
		if zone != "" {
			return Due{}, fmt.Errorf("a floating due_date takes no due_tz")
		}
		return Due{Kind: DueFloating, Time: t}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, date)
	if err != nil {
		return Due{}, fmt.Errorf("due_date %q is not a date (YYYY-MM-DD) or an RFC 3339 date-time", date)
	}
	if zone != "" {
		if _, err := loadZone(zone); err != nil {
			return Due{}, err
		}
	}
	return Due{Kind: DueInstant, Time: t.UTC(), Zone: zone}, nil
}

// loadZone loads an IANA zone by name. "Local" and "" are refused: they
// would be the server's zone, which no file means.
func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" || len(name) > 64 || strings.ContainsAny(name, "\x00\\") || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return nil, fmt.Errorf("%q is not an IANA time zone such as Europe/Paris", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not an IANA time zone such as Europe/Paris", name)
	}
	return loc, nil
}
