package recur

import (
	"iter"
	"math/bits"
	"time"
)

// maxYear is the last year an occurrence can fall in: the stores keep years
// 1 to 9999.
const maxYear = 9999

// HorizonYears bounds the search for one occurrence: the walk gives up when
// it reaches a period that starts this many years after the previous
// occurrence (or after where it was asked to start). A rule that matches
// nothing for a thousand years (BYMONTH=3 every 12 months from January, or
// every 4 years on 29 February from 2025) ends there instead of looping;
// each search costs at most about 12,000 months or 52,000 weeks of cheap
// checks. No rule a person writes has gaps that long that it then fills.
const HorizonYears = 1000

// Series is a rule applied from its anchor, the task's due, which RFC 5545
// calls DTSTART. The anchor is a whole day (an all-day task), or a local
// date-time with a zone (a timed task) or without one (a floating task).
//
// Occurrences are computed in wall-clock time: every occurrence has the
// anchor's time of day on its own date, whatever the zone's offset does in
// between. Only UNTIL given as a UTC date-time needs the zone (to compare
// instants); the caller turns occurrences into instants with Civil.In.
//
// As RFC 5545 3.3.10 says, the anchor always counts as the first occurrence
// (for COUNT too), even when the rule would not produce it, and is followed
// by the rule's occurrences after it. Missing parts come from the anchor: a
// WEEKLY rule without BYDAY repeats on the anchor's weekday; MONTHLY without
// BYDAY or BYMONTHDAY on the anchor's day of the month; YEARLY without BYDAY,
// BYMONTHDAY or BYMONTH on the anchor's month and day. A date that does not
// exist (the 31st of April, 29 February 2027) is skipped, not moved; use
// BYMONTHDAY=-1 for the last day of every month, or BYSETPOS.
type Series struct {
	rule  Rule
	start Civil
	loc   *time.Location
}

// NewSeries is rule r from anchor start. loc is the zone of a timed anchor;
// nil makes a timed anchor floating. It is ignored for an all-day anchor,
// whose occurrences are dates.
func NewSeries(r Rule, start Civil, loc *time.Location) Series {
	if !start.timed {
		loc = nil
	}
	return Series{rule: r, start: start, loc: loc}
}

// Rule is the series' rule.
func (s Series) Rule() Rule { return s.rule }

// Start is the anchor: the first occurrence.
func (s Series) Start() Civil { return s.start }

// Location is the zone of a timed anchor; nil for a floating or all-day one.
func (s Series) Location() *time.Location { return s.loc }

// Next is the first occurrence after the wall-clock reading after, and
// false when there is none (COUNT or UNTIL reached, or none within
// HorizonYears).
func (s Series) Next(after Civil) (Civil, bool) {
	w := s.walker(after)
	for {
		d, ok := w.next()
		if !ok {
			return Civil{}, false
		}
		if c := s.start.withDays(d); c.After(after) {
			return c, true
		}
	}
}

// Occurrences yields the occurrences at or after from, in order, until the
// series ends (COUNT, UNTIL, year 9999, or none within HorizonYears). A
// series without an end is endless: stop ranging when you have enough.
func (s Series) Occurrences(from Civil) iter.Seq[Civil] {
	return func(yield func(Civil) bool) {
		w := s.walker(from)
		for {
			d, ok := w.next()
			if !ok {
				return
			}
			if c := s.start.withDays(d); !c.Before(from) && !yield(c) {
				return
			}
		}
	}
}

// Between is the occurrences c with from <= c < to, at most limit of them
// (none when limit < 1).
func (s Series) Between(from, to Civil, limit int) []Civil {
	var out []Civil
	if limit < 1 {
		return out
	}
	for c := range s.Occurrences(from) {
		if !c.Before(to) {
			break
		}
		out = append(out, c)
		if len(out) == limit {
			break
		}
	}
	return out
}

// walker hands out the dates of a series' occurrences (as day numbers) in
// order, one period of the rule at a time; the caller adds the time of day.
type walker struct {
	s         *Series
	anchorDay int64
	n         int64  // INTERVAL
	base      int64  // the anchor's period: its day, week start, month index (y*12+m-1) or year
	p         int64  // the next period to expand, counted from the anchor's
	set       daySet // dates of the current period still to hand out, as offsets
	setStart  int64  // the day number of offset 0
	emitted   int    // occurrences so far, the anchor included (for COUNT)
	horizon   int    // the last year in which a period may start
	anchor    bool   // the anchor is still to be handed out
	done      bool
}

// walker starts a walk that hands out every occurrence at or after from,
// and maybe a few before it (the caller filters). Without COUNT it jumps
// straight to the period holding from; with COUNT it must count from the
// anchor.
func (s *Series) walker(from Civil) *walker {
	w := &walker{s: s, anchorDay: s.start.days(), n: int64(max(s.rule.interval, 1)), anchor: true}
	w.horizon = max(s.start.year, from.year) + HorizonYears
	if s.rule.freq == 0 {
		w.done = true // no rule: the anchor alone
	}
	switch s.rule.freq {
	case Daily:
		w.base = w.anchorDay
	case Weekly:
		w.base = w.anchorDay - int64((s.start.Weekday()-s.rule.wkst+7)%7)
	case Monthly:
		w.base = int64(s.start.year)*12 + int64(s.start.month) - 1
	case Yearly:
		w.base = int64(s.start.year)
	}
	if s.rule.count > 0 || !from.After(s.start) {
		return w
	}
	w.anchor = false
	var p int64 // the period holding from
	fromDay := from.days()
	switch s.rule.freq {
	case Daily:
		p = fromDay - w.base
	case Weekly:
		p = floorDiv(fromDay-w.base, 7)
	case Monthly:
		p = int64(from.year)*12 + int64(from.month) - 1 - w.base
	case Yearly:
		p = int64(from.year) - w.base
	}
	w.p = max(0, floorDiv(p, w.n)*w.n)
	return w
}

// next is the next date, or false when the series has ended.
func (w *walker) next() (int64, bool) {
	if w.anchor {
		w.anchor = false
		w.emitted = 1
		return w.anchorDay, true
	}
	for !w.done {
		off, ok := w.set.pop()
		if !ok {
			w.done = !w.expand()
			continue
		}
		day := w.setStart + int64(off)
		if day <= w.anchorDay {
			continue // before the anchor, or the anchor itself (already handed out)
		}
		y, _, _ := civilFromDays(day)
		r := &w.s.rule
		if (r.count > 0 && w.emitted >= r.count) || y > maxYear || w.s.beyondUntil(day) {
			w.done = true
			break
		}
		w.emitted++
		w.horizon = y + HorizonYears
		return day, true
	}
	return 0, false
}

// beyondUntil reports whether the occurrence on day is after UNTIL. A date
// UNTIL includes its whole day (RFC 5545 wants a date UNTIL only for an
// all-day start, but calendars write it under timed ones too, meaning
// "through that day"). A UTC UNTIL is compared as an instant for a zoned
// series and, for a floating or all-day one, with its UTC reading, as the
// occurrence has no instant of its own.
func (s *Series) beyondUntil(day int64) bool {
	r := &s.rule
	switch r.until {
	case untilDate:
		return day > r.untilC.days()
	case untilUTC:
		c := s.start.withDays(day)
		if s.loc != nil {
			return c.In(s.loc).After(r.untilT)
		}
		return c.After(r.untilC)
	}
	return false
}

// expand fills w.set with the dates of period w.p and moves w.p to the next
// period of the rule. It returns false once the periods have passed the
// horizon or year 9999.
func (w *walker) expand() bool {
	r := &w.s.rule
	w.set = daySet{}
	switch r.freq {
	case Daily:
		day := w.base + w.p
		y, m, d := civilFromDays(day)
		if y > min(w.horizon, maxYear) {
			return false
		}
		if r.months != 0 && r.months&(1<<m) == 0 {
			// Jump to the first day of the next month in BYMONTH.
			for m++; r.months&(1<<((int(m)-1)%12+1)) == 0; m++ {
			}
			w.p = ceilTo(daysFromCivil(y, m, 1)-w.base, w.n)
			return true
		}
		w.setStart = day
		if r.dayMatches(y, m, d, weekdayOf(day)) {
			w.set.add(0) // BYSETPOS can only be 1 or -1 here, which keep it
		}
	case Weekly:
		start := w.base + 7*w.p
		y, m, _ := civilFromDays(start)
		if y > min(w.horizon, maxYear) {
			return false
		}
		w.setStart = start
		for k := range 7 {
			wd := (r.wkst + time.Weekday(k)) % 7
			if r.wdays == 0 && wd != w.s.start.Weekday() || r.wdays != 0 && r.wdays&(1<<wd) == 0 {
				continue
			}
			if r.months != 0 {
				if _, m, _ = civilFromDays(start + int64(k)); r.months&(1<<m) == 0 {
					continue
				}
			}
			w.set.add(k)
		}
		w.set = r.choose(w.set)
	case Monthly:
		mi := w.base + w.p
		y, m := int(floorDiv(mi, 12)), time.Month(floorMod(mi, 12)+1)
		if y > min(w.horizon, maxYear) {
			return false
		}
		w.setStart = daysFromCivil(y, m, 1)
		if r.months == 0 || r.months&(1<<m) != 0 {
			r.fillMonth(&w.set, 0, daysIn(y, m), weekdayOf(w.setStart), 0, daysIn(y, m), w.s.start.day)
			w.set = r.choose(w.set)
		}
	case Yearly:
		y := int(w.base + w.p)
		if y > min(w.horizon, maxYear) {
			return false
		}
		w.setStart = daysFromCivil(y, time.January, 1)
		r.fillYear(&w.set, y, weekdayOf(w.setStart), w.s.start.month, w.s.start.day)
		w.set = r.choose(w.set)
	}
	w.p += w.n
	return true
}

// ceilTo rounds v up to a multiple of n.
func ceilTo(v, n int64) int64 { return -floorDiv(-v, n) * n }

// dayMatches is the DAILY test of one date: BYMONTH, BYMONTHDAY and BYDAY
// all limit.
func (r *Rule) dayMatches(y int, m time.Month, d int, wd time.Weekday) bool {
	if r.months != 0 && r.months&(1<<m) == 0 {
		return false
	}
	if r.mdays|r.nmdays != 0 && r.mdays&(1<<d) == 0 && r.nmdays&(1<<(daysIn(y, m)+1-d)) == 0 {
		return false
	}
	return r.wdays == 0 || r.wdays&(1<<wd) != 0
}

// fillMonth adds the dates of one month that lie at offsets ms to ms+n-1 of
// the set, the first on weekday first. Ordinal weekdays count within
// [rs, re) (the month, or for YEARLY without BYMONTH the year). anchorDay is
// the day of the month used when neither BYMONTHDAY nor BYDAY is given.
func (r *Rule) fillMonth(set *daySet, ms, n int, first time.Weekday, rs, re, anchorDay int) {
	switch {
	case r.mdays|r.nmdays != 0:
		hasDay := r.wdays != 0 || len(r.nwdays) > 0
		for d := 1; d <= n; d++ {
			if r.mdays&(1<<d) == 0 && r.nmdays&(1<<(n+1-d)) == 0 {
				continue
			}
			off := ms + d - 1
			if hasDay && !r.weekdayMatches(off, rs, re, (first+time.Weekday(d-1))%7) {
				continue
			}
			set.add(off)
		}
	case r.wdays != 0 || len(r.nwdays) > 0:
		r.expandWeekdays(set, ms, ms+n, first)
	case anchorDay <= n:
		set.add(ms + anchorDay - 1)
	}
}

// fillYear adds the dates of year y, whose 1 January is on weekday jan1.
func (r *Rule) fillYear(set *daySet, y int, jan1 time.Weekday, anchorMonth time.Month, anchorDay int) {
	hasDay := r.wdays != 0 || len(r.nwdays) > 0
	hasMonthDay := r.mdays|r.nmdays != 0
	if hasDay && !hasMonthDay && r.months == 0 {
		r.expandWeekdays(set, 0, 365+boolInt(isLeap(y)), jan1) // BYDAY=20MO: the 20th Monday of the year
		return
	}
	months := r.months
	if months == 0 {
		if hasMonthDay {
			months = 0x1FFE // every month
		} else {
			months = 1 << anchorMonth
		}
	}
	ms := 0
	for m := time.January; m <= time.December; m++ {
		n := daysIn(y, m)
		if months&(1<<m) != 0 {
			first := (jan1 + time.Weekday(ms%7)) % 7
			rs, re := ms, ms+n // ordinals count within the month when BYMONTH is given...
			if r.months == 0 {
				rs, re = 0, 365+boolInt(isLeap(y)) // ...and within the year otherwise
			}
			r.fillMonth(set, ms, n, first, rs, re, anchorDay)
		}
		ms += n
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// weekdayMatches is BYDAY as a limit: whether the date at offset off, a
// weekday wd, is one of BYDAY, ordinals counting within [rs, re).
func (r *Rule) weekdayMatches(off, rs, re int, wd time.Weekday) bool {
	if r.wdays&(1<<wd) != 0 {
		return true
	}
	for _, e := range r.nwdays {
		if e.day != wd {
			continue
		}
		if e.n > 0 && (off-rs)/7+1 == e.n || e.n < 0 && (re-1-off)/7+1 == -e.n {
			return true
		}
	}
	return false
}

// expandWeekdays adds BYDAY's dates within offsets [rs, re), the first on
// weekday first: every such weekday, or the nth from the start or the end.
func (r *Rule) expandWeekdays(set *daySet, rs, re int, first time.Weekday) {
	for wd := time.Sunday; wd <= time.Saturday; wd++ {
		if r.wdays&(1<<wd) != 0 {
			for off := rs + int((wd-first+7)%7); off < re; off += 7 {
				set.add(off)
			}
		}
	}
	last := (first + time.Weekday((re-1-rs)%7)) % 7
	for _, e := range r.nwdays {
		off := rs + int((e.day-first+7)%7) + 7*(e.n-1)
		if e.n < 0 {
			off = re - 1 - int((last-e.day+7)%7) + 7*(e.n+1)
		}
		if off >= rs && off < re {
			set.add(off)
		}
	}
}

// choose applies BYSETPOS to a period's dates.
func (r *Rule) choose(set daySet) daySet {
	if len(r.setPos) == 0 {
		return set
	}
	n := set.count()
	var out daySet
	for _, pos := range r.setPos {
		i := pos - 1
		if pos < 0 {
			i = n + pos
		}
		if i >= 0 && i < n {
			out.add(set.nth(i))
		}
	}
	return out
}

// daySet is a set of offsets 0 to 383 within a period: a year at most.
type daySet [6]uint64

func (s *daySet) add(i int) { s[i>>6] |= 1 << (uint(i) & 63) }

// pop removes and returns the smallest offset.
func (s *daySet) pop() (int, bool) {
	for i, w := range s {
		if w != 0 {
			s[i] = w & (w - 1)
			return i<<6 + bits.TrailingZeros64(w), true
		}
	}
	return 0, false
}

func (s *daySet) count() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// nth is the offset of rank i (from 0) in the set; i < s.count().
func (s *daySet) nth(i int) int {
	for k, w := range s {
		if c := bits.OnesCount64(w); i >= c {
			i -= c
			continue
		}
		for ; i > 0; i-- {
			w &= w - 1
		}
		return k<<6 + bits.TrailingZeros64(w)
	}
	return -1
}
