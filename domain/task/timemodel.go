package task

import (
	"fmt"
	"strings"
	"time"
)

// dueInput is what an operation says about the due: the date (due_date),
// its zone (due_tz) and whether it floats (due_floating), each given or
// not. They are read together once every option has run (resolve), since
// each one's meaning depends on the others and on the due the task has.
type dueInput struct {
	date     *string // nil: not given; "": null (no due)
	kind     dueText // the date's form, 0 when it could not be read (reported)
	at       time.Time
	tz       *string // nil: not given; "": null (no zone)
	floating *bool   // nil: not given
}

func (v *validator) dueIn() *dueInput {
	if v.due == nil {
		v.due = &dueInput{}
	}
	return v.due
}

// WithDue sets the due date from YYYY-MM-DD (all-day), an RFC 3339
// date-time, or a local date-time without an offset (YYYY-MM-DDTHH:MM:SS,
// which needs a zone or floating); "" clears it, and with it the zone and
// floating.
func WithDue(s string) Option {
	return func(v *validator, _ *Task) {
		in := v.dueIn()
		in.date, in.kind = &s, 0
		if s == "" {
			return
		}
		// Read at once, so that a malformed date is reported where it was
		// before the zone and floating existed.
		kind, at, err := parseDueText(s)
		if err != nil {
			v.merge(err)
			return
		}
		in.kind, in.at = kind, at
	}
}

// WithDueZone sets the IANA zone a timed due lives in (due_tz); "" clears
// it. See resolve for how it combines with the date.
func WithDueZone(name string) Option {
	return func(v *validator, _ *Task) { v.dueIn().tz = &name }
}

// WithDueFloating says whether a timed due is a floating local date-time
// (due_floating).
func WithDueFloating(f bool) Option {
	return func(v *validator, _ *Task) { v.dueIn().floating = &f }
}

// The kinds of due_date text.
type dueText uint8

const (
	dueDay     dueText = iota + 1 // YYYY-MM-DD
	dueInstant                    // RFC 3339, with an offset
	dueLocal                      // YYYY-MM-DDTHH:MM:SS[.f], no offset
)

// parseDueText reads due_date in any of its three forms; local is the
// wall-clock reading of a dueLocal, labelled UTC.
func parseDueText(s string) (dueText, time.Time, error) {
	if len(s) > len(dateLayout) && !strings.ContainsAny(s[len(dateLayout):], "Zz+-") {
		t, err := time.Parse("2006-01-02T15:04:05.999999999", s)
		if err == nil && s[10] == 'T' && t.Year() >= 1 {
			return dueLocal, t, nil
		}
		// Not a local date-time either: ParseDue's error, as before.
	}
	d, err := ParseDue("due_date", s)
	if err != nil {
		return 0, time.Time{}, err
	}
	if d.AllDay() {
		return dueDay, d.Time(), nil
	}
	return dueInstant, d.Time(), nil
}

// resolve sets t's due from what the operation gave, with the due t has for
// what it did not give, and reports every combination that makes no sense:
//   - a whole day has no zone and does not float (an all-day due is in no
//     zone already);
//   - a floating due has no zone, and its date-time no offset;
//   - a local date-time without an offset needs a zone (it is then read
//     there, as RFC 5545 reads a DATE-TIME with a TZID) or floating;
//   - a zone or floating needs a due.
//
// What is not given: a new date that is a whole day drops the zone and
// floating; a new instant keeps the zone of the due it replaces and stops
// floating; a new local date-time keeps the zone, or floats when the due
// it replaces did. A zone given alone re-zones an instant (same instant)
// or pins a floating due's reading there; floating given alone turns an
// instant into its wall-clock reading in its zone.
func (in *dueInput) resolve(v *validator, t *Task) {
	if in.date != nil && *in.date != "" && in.kind == 0 {
		return // reported by WithDue
	}
	cur := t.due
	var zone *time.Location
	zoneGiven := in.tz != nil
	if zoneGiven && *in.tz != "" {
		l, err := ParseTimeZone(*in.tz)
		if err != nil {
			v.add("due_tz", fmt.Sprintf("Input should be an IANA time zone such as Europe/Paris, not %q", *in.tz), "value_error")
			return
		}
		zone = l
	}
	floatTrue := in.floating != nil && *in.floating
	if in.date != nil && *in.date == "" || in.date == nil && cur.IsZero() {
		if zone != nil {
			v.add("due_tz", "a time zone needs a due_date with a time", "value_error")
		}
		if floatTrue {
			v.add("due_floating", "floating needs a due_date with a time", "value_error")
		}
		if in.date != nil {
			t.due = Due{}
		}
		return
	}
	if in.date == nil { // the due as it is, re-zoned or made floating
		switch {
		case cur.allDay:
			if zone != nil {
				v.add("due_tz", "a whole-day due_date has no time zone", "value_error")
			}
			if floatTrue {
				v.add("due_floating", "a whole-day due_date does not float: it is in no zone already", "value_error")
			}
		case floatTrue && zone != nil:
			v.add("due_floating", "a floating due has no time zone (due_tz must be null)", "value_error")
		case floatTrue:
			if !cur.floating {
				t.due = DueFloating(cur.at.In(cur.location()))
			}
		case cur.floating && (zone != nil || in.floating != nil):
			loc := zone
			if loc == nil {
				loc = time.UTC
			}
			t.due = DueIn(cur.Civil().In(loc), zone)
		case zoneGiven:
			t.due = DueIn(cur.at, zone)
		}
		return
	}
	kind, at := in.kind, in.at
	switch kind {
	case dueDay:
		if zone != nil {
			v.add("due_tz", "a whole-day due_date has no time zone", "value_error")
		}
		if floatTrue {
			v.add("due_floating", "a whole-day due_date does not float: it is in no zone already", "value_error")
		}
		t.due = DueOn(at)
	case dueInstant:
		if floatTrue {
			v.add("due_floating", "a floating due_date has no offset: give it as YYYY-MM-DDTHH:MM:SS", "value_error")
			return
		}
		if !zoneGiven {
			zone = cur.zone
		}
		t.due = DueIn(at, zone)
	case dueLocal:
		if !zoneGiven && !floatTrue {
			zone = cur.zone
		}
		floats := floatTrue || in.floating == nil && zone == nil && cur.floating
		switch {
		case floats && zone != nil:
			v.add("due_floating", "a floating due has no time zone (due_tz must be null)", "value_error")
		case floats:
			t.due = DueFloating(at)
		case zone != nil:
			c := DueFloating(at).Civil()
			t.due = DueIn(c.In(zone), zone)
		case in.tz == nil && in.floating == nil:
			// What a request without due_tz and due_floating was answered
			// before they existed.
			_, err := ParseDue("due_date", *in.date)
			v.merge(err)
		default:
			v.add("due_date", "a date-time without an offset needs due_tz (read in that zone) or due_floating: true", "value_error")
		}
	}
}
