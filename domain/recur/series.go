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
// occurrence (or after where it was asked to start), or sooner, once it has
// seen the rule's whole cycle (see cycleYears): 400 years for most rules,
// after which a rule that has found nothing never will. So a rule that can
// never match again (BYMONTH=3 every 12 months from January, every 4 years
// on 29 February from 2025) ends instead of looping, after at most about
// 12,000 months or 52,000 weeks of a few bit operations each. A rule whose
// interval stretches its cycle past 1,000 years and that then matches
// nothing for 1,000 years ends there, though a later date might match; no
// one writes such a rule for a task.
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
// BYDAY or BYMONTHDAY on the anchor's day of the month; YEARLY without BYDAY
// or BYMONTHDAY on the anchor's day of the month, in the BYMONTH months or
// else the anchor's month. A date that does not exist (the 31st of April,
// 29 February 2027) is skipped, not moved; use BYMONTHDAY=-1 for the last
// day of every month, or BYSETPOS.
//
// Keep a series' anchor as its reading, not as the instant it resolves to:
// an anchor at 02:30 on the morning clocks skip to 03:00 resolves to 03:30,
// and a series rebuilt from that instant would move to 03:30 for good.
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
// HorizonYears). To ask from an instant t, pass CivilOf(t.In(loc)); in the
// hour a fall-back repeats, an occurrence read after t can resolve to an
// instant before it, so compare instants where that matters.
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
// Dates are bits: the days of a month are a uint32, those of a period a
// daySet, so a period costs a few masks rather than a loop over its days.
type walker struct {
	s         *Series
	anchorDay int64
	n         int64  // INTERVAL
	base      int64  // the anchor's period: its day, week start, month index (y*12+m-1) or year
	p         int64  // the next period to expand, counted from base (DAILY: the next month index)
	set       daySet // dates of the current period still to hand out, as offsets
	setStart  int64  // the day number of offset 0
	emitted   int    // occurrences so far, the anchor included (for COUNT)
	minDay    int64  // days before this one are not handed out, only counted
	span      int    // years a search runs without finding an occurrence (cycleYears)
	horizon   int    // the last year in which a period may start
	anchor    bool   // the anchor is still to be handed out
	done      bool
	plain     [7]uint32 // BYDAY's plain weekdays in a month that starts on each weekday
	align     uint32    // DAILY: the offsets 0, n, 2n, ... below 32
	week      uint32    // WEEKLY: the days of a week, as offsets from its WKST day
}

// everySeventh is offsets 0, 7, 14, 21 and 28: one weekday of a month.
const everySeventh uint32 = 1 | 1<<7 | 1<<14 | 1<<21 | 1<<28

// lenMask is the days of an n-day month: bits 0 to n-1.
func lenMask(n int) uint32 { return 1<<n - 1 }

// walker starts a walk that hands out every occurrence at or after from,
// and maybe a few before it (the caller filters). Without COUNT it jumps
// straight to the period holding from; with COUNT it must count from the
// anchor.
func (s *Series) walker(from Civil) walker {
	r := &s.rule
	w := walker{s: s, anchorDay: s.start.days(), n: int64(max(r.interval, 1)), anchor: true}
	w.span = cycleYears(r.freq, w.n)
	w.horizon = max(s.start.year, from.year) + w.span
	for first := range time.Weekday(7) {
		for wd := range time.Weekday(7) {
			if r.wdays&(1<<wd) != 0 {
				w.plain[first] |= everySeventh << ((wd - first + 7) % 7)
			}
		}
	}
	switch r.freq {
	case 0:
		w.done = true // no rule: the anchor alone
	case Daily:
		w.base = w.anchorDay
		for k := int64(0); k < 32; k += w.n {
			w.align |= 1 << k
		}
	case Weekly:
		w.base = w.anchorDay - int64((s.start.Weekday()-r.wkst+7)%7)
		for k := range time.Weekday(7) {
			wd := (r.wkst + k) % 7
			if r.wdays&(1<<wd) != 0 || r.wdays == 0 && wd == s.start.Weekday() {
				w.week |= 1 << k
			}
		}
	case Monthly:
		w.base = int64(s.start.year)*12 + int64(s.start.month) - 1
	case Yearly:
		w.base = int64(s.start.year)
	}
	at := s.start
	if from.After(s.start) {
		w.minDay = from.days()
		if r.count == 0 {
			w.anchor = false
			at = from
		}
	}
	var p int64 // the period holding at
	switch r.freq {
	case Daily:
		w.p = int64(at.year)*12 + int64(at.month) - 1
		return w
	case Weekly:
		p = floorDiv(at.days()-w.base, 7)
	case Monthly:
		p = int64(at.year)*12 + int64(at.month) - 1 - w.base
	case Yearly:
		p = int64(at.year) - w.base
	}
	w.p = max(0, floorDiv(p, w.n)*w.n)
	return w
}

// cycleYears is how long a search for the next occurrence runs: the years
// after which a rule's dates repeat, or HorizonYears if that is shorter.
// The calendar repeats every 400 years (146,097 days: 20,871 weeks, or 4,800
// months), and an interval stretches that to the least common multiple; so
// a rule with INTERVAL=1, or 7 days, or 2 months, that finds nothing in 400
// years never will.
func cycleYears(f Freq, n int64) int {
	var units int64
	switch f {
	case Daily:
		units = 146097
	case Weekly:
		units = 20871
	case Monthly:
		units = 4800
	case Yearly:
		units = 400
	default:
		return HorizonYears
	}
	a, b := units, n
	for b != 0 {
		a, b = b, a%b
	}
	return int(min(400*(n/a), HorizonYears))
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
		r := &w.s.rule
		if r.count > 0 && w.emitted >= r.count {
			w.done = true
			break
		}
		if day < w.minDay { // before where the caller asked to start: count it only
			w.emitted++
			continue
		}
		y, _, _ := civilFromDays(day)
		if y > maxYear || w.s.beyondUntil(day) {
			w.done = true
			break
		}
		w.emitted++
		w.horizon = y + w.span
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

// expand fills w.set with the dates of the next period and moves w.p past
// it. It returns false once the periods have passed the horizon or year
// 9999.
func (w *walker) expand() bool {
	r := &w.s.rule
	w.set = daySet{}
	switch r.freq {
	case Daily:
		// Each day is a period of its own, and BYSETPOS (1 or -1 at most)
		// keeps it; a month of them is done at once.
		y, m := int(floorDiv(w.p, 12)), time.Month(floorMod(w.p, 12)+1)
		if y > min(w.horizon, maxYear) {
			return false
		}
		w.p++
		if r.months != 0 && r.months&(1<<m) == 0 {
			return true
		}
		start, n := daysFromCivil(y, m, 1), daysIn(y, m)
		days := lenMask(n)
		if r.mdays|r.nmdays != 0 {
			days &= r.monthDayBits(n)
		}
		if r.wdays != 0 {
			days &= w.plain[weekdayOf(start)]
		}
		if f := floorMod(w.base-start, w.n); f < int64(n) { // the first day of the interval in the month
			w.setStart = start
			w.set.orMask(0, days&(w.align<<f))
		}
	case Weekly:
		start := w.base + 7*w.p
		y, m, d := civilFromDays(start)
		if y > min(w.horizon, maxYear) {
			return false
		}
		w.p += w.n
		days := w.week
		if r.months != 0 {
			in := 7 // days of the week in month m; the rest are in the next
			if left := daysIn(y, m) - d + 1; left < 7 {
				in = left
			}
			if r.months&(1<<m) == 0 {
				days &^= lenMask(in)
			}
			if r.months&(1<<(m%12+1)) == 0 {
				days &= lenMask(in)
			}
		}
		w.setStart = start
		w.set.orMask(0, days)
		w.set = r.choose(w.set)
	case Monthly:
		mi := w.base + w.p
		y, m := int(floorDiv(mi, 12)), time.Month(floorMod(mi, 12)+1)
		if y > min(w.horizon, maxYear) {
			return false
		}
		w.p += w.n
		w.setStart = daysFromCivil(y, m, 1)
		if r.months == 0 || r.months&(1<<m) != 0 {
			w.set.orMask(0, w.monthDates(daysIn(y, m), weekdayOf(w.setStart), nil, 0))
			w.set = r.choose(w.set)
		}
	case Yearly:
		y := int(w.base + w.p)
		if y > min(w.horizon, maxYear) {
			return false
		}
		w.p += w.n
		w.setStart = daysFromCivil(y, time.January, 1)
		w.fillYear(y, weekdayOf(w.setStart))
		w.set = r.choose(w.set)
	}
	return true
}

// monthDates is the dates of an n-day month starting on weekday first, as
// bits (day d at bit d-1), before BYSETPOS. BYMONTHDAY and BYDAY expand, or
// BYDAY limits BYMONTHDAY; with neither, the anchor's day of the month.
// yearOrds, when not nil, holds BYDAY's numbered weekdays counted over the
// year (a YEARLY rule without BYMONTH), ms being the month's offset in it;
// otherwise they count within the month.
func (w *walker) monthDates(n int, first time.Weekday, yearOrds *daySet, ms int) uint32 {
	r := &w.s.rule
	hasDay := r.wdays != 0 || len(r.nwdays) > 0
	days := w.plain[first] & lenMask(n)
	if yearOrds != nil {
		days |= yearOrds.window(ms, n)
	} else {
		days |= r.ordinalBits(first, n)
	}
	switch {
	case r.mdays|r.nmdays != 0:
		md := r.monthDayBits(n)
		if hasDay {
			md &= days
		}
		return md
	case hasDay:
		return days
	case w.s.start.day <= n:
		return 1 << (w.s.start.day - 1)
	}
	return 0
}

// fillYear adds the dates of year y, whose 1 January is a jan1.
func (w *walker) fillYear(y int, jan1 time.Weekday) {
	r := &w.s.rule
	var yearOrds *daySet
	if r.months == 0 && len(r.nwdays) > 0 { // BYDAY=20MO: the 20th Monday of the year
		yearOrds = new(daySet)
		r.yearOrdinals(yearOrds, 365+boolInt(isLeap(y)), jan1)
	}
	months := r.months
	if months == 0 {
		if r.mdays|r.nmdays != 0 || r.wdays != 0 || len(r.nwdays) > 0 {
			months = 0x1FFE // every month
		} else {
			months = 1 << w.s.start.month
		}
	}
	ms := 0
	for m := time.January; m <= time.December; m++ {
		n := daysIn(y, m)
		if months&(1<<m) != 0 {
			w.set.orMask(ms, w.monthDates(n, (jan1+time.Weekday(ms%7))%7, yearOrds, ms))
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

// monthDayBits is BYMONTHDAY in an n-day month: day d at bit d-1, and -d at
// bit n-d.
func (r *Rule) monthDayBits(n int) uint32 {
	return (r.mdays>>1 | bits.Reverse32(r.nmdays)>>(31-n)) & lenMask(n)
}

// ordinalBits is BYDAY's numbered weekdays in an n-day month starting on
// weekday first.
func (r *Rule) ordinalBits(first time.Weekday, n int) uint32 {
	var days uint32
	for _, e := range r.nwdays {
		if off := e.offset(first, n); off >= 0 {
			days |= 1 << off
		}
	}
	return days
}

// yearOrdinals adds BYDAY's numbered weekdays counted over a year of n days
// starting on weekday jan1.
func (r *Rule) yearOrdinals(set *daySet, n int, jan1 time.Weekday) {
	for _, e := range r.nwdays {
		if off := e.offset(jan1, n); off >= 0 {
			set.add(off)
		}
	}
}

// offset is where e falls in a span of n days starting on weekday first
// (a month or a year): the nth such weekday from the start, or from the end
// when n is negative; -1 when the span has too few.
func (e weekdayNum) offset(first time.Weekday, n int) int {
	start := int((e.day - first + 7) % 7) // the first such weekday
	off := start + 7*(e.n-1)
	if e.n < 0 {
		off = start + 7*((n-1-start)/7) + 7*(e.n+1) // back from the last
	}
	if off < 0 || off >= n {
		return -1
	}
	return off
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

// orMask adds the days of a month, as bits, at offset ms.
func (s *daySet) orMask(ms int, days uint32) {
	i, sh := ms>>6, uint(ms&63)
	s[i] |= uint64(days) << sh
	if sh > 32 && i+1 < len(s) {
		s[i+1] |= uint64(days) >> (64 - sh)
	}
}

// window is the n offsets from ms, as bits.
func (s *daySet) window(ms, n int) uint32 {
	i, sh := ms>>6, uint(ms&63)
	v := s[i] >> sh
	if sh > 32 && i+1 < len(s) {
		v |= s[i+1] << (64 - sh)
	}
	return uint32(v) & lenMask(n)
}

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
