package recur

import (
	"fmt"
	"time"
)

// Civil is a wall-clock reading with no zone: a date and, unless it stands
// for a whole day, a time of day. Occurrences are computed as Civil values
// and become instants only afterwards (In), so that a task due at 17:00
// stays at 17:00 on both sides of a clock change.
//
// Civil values made by Date, DateTime and CivilOf are normalized, so == and
// Compare agree. The zero Civil is 0000-00-00 and no occurrence of any rule.
type Civil struct {
	year  int
	month time.Month
	day   int
	clock time.Duration // since midnight, in [0, 24h); 0 when not timed
	timed bool
}

// Date is the whole day year-month-day (an all-day due). Out-of-range
// months and days normalize as in time.Date: Date(2026, 2, 29) is 1 March.
func Date(year int, month time.Month, day int) Civil {
	y, m, d := civilFromDays(daysFromCivil(year, month, day))
	return Civil{year: y, month: m, day: d}
}

// DateTime is the local date-time year-month-day hour:min:sec (a timed or
// floating due). Out-of-range values normalize as in time.Date.
func DateTime(year int, month time.Month, day, hour, min, sec int) Civil {
	t := time.Date(year, month, day, hour, min, sec, 0, time.UTC)
	return CivilOf(t)
}

// CivilOf is t's wall-clock reading in t's own location, to the nanosecond:
// CivilOf(t.In(loc)) is what a clock in loc showed at t.
func CivilOf(t time.Time) Civil {
	y, m, d := t.Date()
	h, mi, s := t.Clock()
	clock := time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute +
		time.Duration(s)*time.Second + time.Duration(t.Nanosecond())
	return Civil{year: y, month: m, day: d, clock: clock, timed: true}
}

// Date is the civil date.
func (c Civil) Date() (year int, month time.Month, day int) { return c.year, c.month, c.day }

// Timed reports whether c has a time of day; an all-day Civil has none.
func (c Civil) Timed() bool { return c.timed }

// Clock is c's time of day since midnight (0 for an all-day Civil).
func (c Civil) Clock() time.Duration { return c.clock }

// Weekday is the day of the week of c's date.
func (c Civil) Weekday() time.Weekday { return weekdayOf(c.days()) }

// AddDays is c moved by n days (negative: back), keeping its time of day.
func (c Civil) AddDays(n int) Civil { return c.withDays(c.days() + int64(n)) }

// IsZero reports whether c is the zero Civil.
func (c Civil) IsZero() bool { return c == Civil{} }

// Compare orders by date, then time of day; an all-day Civil reads as the
// start of its day. It returns -1, 0 or +1.
func (c Civil) Compare(o Civil) int {
	switch {
	case c.year != o.year:
		return cmp(c.year, o.year)
	case c.month != o.month:
		return cmp(c.month, o.month)
	case c.day != o.day:
		return cmp(c.day, o.day)
	}
	return cmp(c.clock, o.clock)
}

// Before reports whether c is earlier than o (see Compare).
func (c Civil) Before(o Civil) bool { return c.Compare(o) < 0 }

// After reports whether c is later than o (see Compare).
func (c Civil) After(o Civil) bool { return c.Compare(o) > 0 }

func cmp[T ~int | ~int64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// String is c in ISO 8601 without an offset: "2026-03-06" for a whole day,
// "2026-03-06T17:00:00" (with a fraction when there is one) otherwise.
func (c Civil) String() string {
	date := fmt.Sprintf("%04d-%02d-%02d", c.year, int(c.month), c.day)
	if !c.timed {
		return date
	}
	s := c.clock / time.Second
	out := fmt.Sprintf("%sT%02d:%02d:%02d", date, s/3600, s/60%60, s%60)
	if ns := c.clock % time.Second; ns != 0 {
		frac := fmt.Sprintf("%09d", int64(ns))
		for frac[len(frac)-1] == '0' {
			frac = frac[:len(frac)-1]
		}
		out += "." + frac
	}
	return out
}

// In is the instant at which a clock in loc shows c (an all-day Civil reads
// as its midnight), resolved as RFC 5545 section 3.3.5 says for a DATE-TIME
// with a TZID: a local time that occurs twice (clocks going back) is the
// first of the two; a local time that does not occur (clocks going forward)
// is read with the UTC offset in effect before the gap, which lands it the
// gap's length later (02:30 on the day New York springs forward is 03:30
// EDT). time.Date does not promise either choice, and does differ: it reads
// New York's 02:30 as 01:30 EST and London's repeated 01:30 as GMT.
//
// It assumes at most one change of offset within a day either side of c,
// which holds for every zone in the tz database today. loc must not be nil
// (as for time.Date).
func (c Civil) In(loc *time.Location) time.Time {
	wall := c.days()*secondsPerDay + int64(c.clock/time.Second) // the reading, as if it were UTC
	nsec := int64(c.clock % time.Second)
	at := func(unix int64) time.Time { return time.Unix(unix, nsec).In(loc) }
	early, late := offsetAt(loc, wall-secondsPerDay), offsetAt(loc, wall+secondsPerDay)
	if early == late {
		return at(wall - early)
	}
	first, second := wall-early, wall-late
	firstOK, secondOK := offsetAt(loc, first) == early, offsetAt(loc, second) == late
	switch {
	case firstOK && secondOK: // the reading occurs twice: take the earlier
		return at(min(first, second))
	case secondOK:
		return at(second)
	}
	// The reading occurs once with the earlier offset, or (in a gap) never:
	// then too the offset before the gap applies.
	return at(first)
}

const secondsPerDay = 24 * 60 * 60

// offsetAt is loc's UTC offset, in seconds, at the instant unix.
func offsetAt(loc *time.Location, unix int64) int64 {
	_, off := time.Unix(unix, 0).In(loc).Zone()
	return int64(off)
}

// days is c's date as a day number (see daysFromCivil).
func (c Civil) days() int64 { return daysFromCivil(c.year, c.month, c.day) }

// withDays is c moved to the date of day number d, keeping its time of day.
func (c Civil) withDays(d int64) Civil {
	c.year, c.month, c.day = civilFromDays(d)
	return c
}

// daysFromCivil is the number of days from 1970-01-01 to y-m-d in the
// proleptic Gregorian calendar (negative before). Months outside 1..12 carry
// into the year. It is H. Hinnant's days_from_civil, which needs no tables
// and no loops: occurrences are searched day by day, so this is hot.
func daysFromCivil(y int, m time.Month, d int) int64 {
	yy, mm := int64(y), int64(m)-1
	yy += floorDiv(mm, 12)
	mm = mm - floorDiv(mm, 12)*12 + 1 // 1..12
	if mm <= 2 {
		yy--
	}
	era := floorDiv(yy, 400)
	yoe := yy - era*400                    // [0, 399]
	mp := (mm + 9) % 12                    // March = 0
	doy := (153*mp+2)/5 + int64(d) - 1     // [0, 365] for an in-range day
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return era*146097 + doe - 719468       // 719468: days from 0000-03-01 to 1970-01-01
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (int, time.Month, int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	y := yoe + era*400
	if m <= 2 {
		y++
	}
	return int(y), time.Month(m), int(d)
}

// weekdayOf is the weekday of day number d (1970-01-01 was a Thursday).
func weekdayOf(d int64) time.Weekday { return time.Weekday(floorMod(d+4, 7)) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// daysIn is the length of month m of year y.
func daysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if isLeap(y) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}
