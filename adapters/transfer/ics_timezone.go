package transfer

import (
	"fmt"
	"strings"
	"time"
)

// Why we generate VTIMEZONEs: RFC 5545 (section 3.2.19) says every TZID an
// iCalendar object uses MUST have its VTIMEZONE. Google Calendar, Apple
// Calendar and Thunderbird (libical) resolve an IANA TZID by name, and accept
// a file without VTIMEZONE, but Outlook and strict parsers want the rules.
// Converting to UTC instead would be accepted everywhere but breaks
// recurrence: a weekly 17:00 Europe/Paris task expanded in UTC lands at 18:00
// half of the year (issue 18). So a zoned due keeps TZID=<IANA name>, which
// the name-resolving apps use as is, and the file carries the zone's rules,
// generated from Go's own database, for the others.
//
// The rules are written as the zone's transitions: each change of offset
// since 1970 as an observance onset (DTSTART plus RDATEs, grouped by offset
// and name), and the yearly rule in force today (the last run of transitions
// that repeat every year on the same weekday of the same month at the same
// time through 2099) as an RRULE, as Google and Apple write theirs.

var (
	tzFrom = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	tzTo   = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
)

// transition is a change of a zone's offset or name, at an instant.
type transition struct {
	at       time.Time // UTC
	from, to int       // offsets in seconds east of UTC
	name     string    // abbreviation after it
	dst      bool
}

// key groups transitions into one observance.
func (t transition) key() string { return fmt.Sprintf("%t %d %d %s", t.dst, t.from, t.to, t.name) }

// local is the onset as an observance writes it: the wall clock just before
// the change, in the offset it changes from.
func (t transition) local() time.Time { return t.at.Add(time.Duration(t.from) * time.Second).UTC() }

func zoneTransitions(loc *time.Location) (first transition, ts []transition) {
	name, off := tzFrom.In(loc).Zone()
	first = transition{at: tzFrom, from: off, to: off, name: name, dst: tzFrom.In(loc).IsDST()}
	for t := tzFrom; ; {
		end := nextBound(loc, t)
		if end.IsZero() || !end.Before(tzTo) {
			break
		}
		_, from := end.Add(-time.Second).In(loc).Zone()
		in := end.In(loc)
		name, to := in.Zone()
		if to != from || name != ts0name(ts, first) {
			ts = append(ts, transition{at: end, from: from, to: to, name: name, dst: in.IsDST()})
		}
		t = end
	}
	return first, ts
}

// nextBound is the next instant after t where loc's offset or name may
// change. It is ZoneBounds' end, except where that does not move on: in the
// years Go computes from the zone's rule string, ZoneBounds ends a leap year
// one day early (at Dec 31 00:00 UTC, and again from there), so from such a
// point the next change is searched hour by hour, then to the second.
func nextBound(loc *time.Location, t time.Time) time.Time {
	if _, end := t.In(loc).ZoneBounds(); end.IsZero() || end.After(t) {
		return end
	}
	name, off := t.In(loc).Zone()
	same := func(u time.Time) bool { n, o := u.In(loc).Zone(); return n == name && o == off }
	hi := t
	for same(hi) {
		if hi = hi.Add(time.Hour); !hi.Before(tzTo) {
			return time.Time{}
		}
		if _, end := hi.In(loc).ZoneBounds(); same(hi) && end.After(hi) {
			return end // past the stall, with no change on the way
		}
	}
	lo := hi.Add(-time.Hour)
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Second)
		if same(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

func ts0name(ts []transition, first transition) string {
	if len(ts) == 0 {
		return first.name
	}
	return ts[len(ts)-1].name
}

// yearlyRule is an RRULE that gives exactly the onsets of ts (one a year,
// consecutive years, same month, weekday and wall time), or "".
func yearlyRule(ts []transition) string {
	if len(ts) < 4 {
		return ""
	}
	l0 := ts[0].local()
	minDay, maxDay := 31, 1
	nth, last := (l0.Day()-1)/7+1, true
	for i, t := range ts {
		l := t.local()
		if l.Month() != l0.Month() || l.Weekday() != l0.Weekday() || l.Hour() != l0.Hour() || l.Minute() != l0.Minute() || l.Second() != l0.Second() ||
			l.Year() != l0.Year()+i || t.key() != ts[0].key() {
			return ""
		}
		minDay, maxDay = min(minDay, l.Day()), max(maxDay, l.Day())
		if (l.Day()-1)/7+1 != nth {
			nth = 0
		}
		if l.Day()+7 <= daysIn(l.Year(), l.Month()) {
			last = false
		}
	}
	wd := strings.ToUpper(l0.Weekday().String()[:2])
	rule := fmt.Sprintf("FREQ=YEARLY;BYMONTH=%d;", int(l0.Month()))
	switch {
	case nth > 0 && nth < 5:
		return rule + fmt.Sprintf("BYDAY=%d%s", nth, wd)
	case last:
		return rule + "BYDAY=-1" + wd
	case maxDay-minDay <= 6 && minDay+6 <= daysIn(l0.Year(), l0.Month()):
		days := make([]string, 7)
		for i := range days {
			days[i] = fmt.Sprint(minDay + i)
		}
		return rule + "BYDAY=" + wd + ";BYMONTHDAY=" + strings.Join(days, ",")
	}
	return ""
}

func daysIn(y int, m time.Month) int { return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day() }

// splitTail finds the run of transitions at the end that two yearly rules
// give (standard and daylight time alternating through 2099): its start
// index and the two rules, or len(ts) when there is none.
func splitTail(ts []transition) (int, [2]string) {
	n := len(ts)
	if n < 8 || ts[n-1].at.Year() < tzTo.Year()-2 {
		return n, [2]string{}
	}
	// Walk back while the transitions alternate between the last two keys.
	a, b := ts[n-1].key(), ts[n-2].key()
	start := n
	for i := n - 1; i >= 0; i-- {
		want := a
		if (n-1-i)%2 == 1 {
			want = b
		}
		if ts[i].key() != want {
			break
		}
		start = i
	}
	// Shrink from the front until each half is one yearly rule.
	for ; n-start >= 8; start++ {
		var odd, even []transition
		for i := start; i < n; i++ {
			if (i-start)%2 == 0 {
				even = append(even, ts[i])
			} else {
				odd = append(odd, ts[i])
			}
		}
		r1, r2 := yearlyRule(even), yearlyRule(odd)
		if r1 != "" && r2 != "" {
			return start, [2]string{r1, r2}
		}
	}
	return n, [2]string{}
}

func formatOffset(sec int) string {
	sign := '+'
	if sec < 0 {
		sign, sec = '-', -sec
	}
	s := fmt.Sprintf("%c%02d%02d", sign, sec/3600, sec/60%60)
	if sec%60 != 0 {
		s += fmt.Sprintf("%02d", sec%60)
	}
	return s
}

// writeVTimezone writes the VTIMEZONE of an IANA zone.
func writeVTimezone(iw *icsWriter, name string) error {
	loc, err := loadZone(name)
	if err != nil {
		return err
	}
	first, ts := zoneTransitions(loc)
	tail, rules := splitTail(ts)
	iw.line("BEGIN", "VTIMEZONE")
	iw.line("TZID", name)
	iw.line("X-LIC-LOCATION", name)
	observance := func(t transition, rdates []time.Time, rrule string) {
		kind := "STANDARD"
		if t.dst {
			kind = "DAYLIGHT"
		}
		iw.line("BEGIN", kind)
		iw.line("DTSTART", t.local().Format(icsLocal))
		iw.line("TZOFFSETFROM", formatOffset(t.from))
		iw.line("TZOFFSETTO", formatOffset(t.to))
		if t.name != "" {
			iw.line("TZNAME", escapeText(t.name))
		}
		if rrule != "" {
			iw.line("RRULE", rrule)
		}
		if len(rdates) > 0 {
			vals := make([]string, len(rdates))
			for i, d := range rdates {
				vals[i] = d.Format(icsLocal)
			}
			iw.line("RDATE", strings.Join(vals, ","))
		}
		iw.line("END", kind)
	}
	// The offset in force in 1970, then every change before the yearly
	// rules, grouped by kind, offsets and name.
	observance(first, nil, "")
	var order []string
	groups := map[string][]transition{}
	for _, t := range ts[:tail] {
		k := t.key()
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], t)
	}
	for _, k := range order {
		g := groups[k]
		rdates := make([]time.Time, 0, len(g)-1)
		for _, t := range g[1:] {
			rdates = append(rdates, t.local())
		}
		observance(g[0], rdates, "")
	}
	if tail < len(ts) {
		observance(ts[tail], nil, rules[0])
		observance(ts[tail+1], nil, rules[1])
	}
	iw.line("END", "VTIMEZONE")
	return nil
}
