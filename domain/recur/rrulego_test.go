package recur_test

// The independent check: github.com/teambition/rrule-go, a Go port of
// python-dateutil's rrule, expands the same random rules from the same
// anchors. Only this test file imports it; the package stays stdlib only.
//
// Where the two may differ, and why (each is checked to be exactly that,
// counted, and logged; nothing else is let through):
//
//  1. A reading in a clock change. rrule-go makes every occurrence with
//     time.Date, which resolves a reading that does not exist or exists
//     twice in its own way: west of Greenwich it moves New York's missing
//     02:30 back to 01:30 EST (RFC 5545 3.3.5: forward, to 03:30 EDT), and
//     at or east of Greenwich it takes the second of London's, Sydney's or
//     Auckland's repeated readings (RFC 5545: the first). Such occurrences
//     must be the same reading, and rrule-go's instant must be time.Date's
//     for it.
//  2. An anchor in a gap is not compared: a time.Time cannot hold a reading
//     that does not exist, so rrule-go's DTSTART would read 03:30 and every
//     occurrence with it; RFC 5545 keeps 02:30 (and the DST property test
//     checks that).
//  3. UNTIL as a UTC instant can fall between the two resolutions of 1.,
//     so that one side keeps a last occurrence the other does not; such a
//     case is counted and skipped.
//  4. The anchor. RFC 5545 3.3.10 counts DTSTART as the first occurrence
//     even when the rule would not make it (the RFC's Friday-the-13th
//     example removes it with EXDATE for that reason); rrule-go leaves an
//     unsynchronized DTSTART out. So an unsynchronized anchor is prepended
//     to rrule-go's list, and its COUNT lowered by one.
//  5. The first week of a WEEKLY rule with BYSETPOS: rrule-go (as dateutil)
//     starts that week at DTSTART rather than at WKST, so BYSETPOS counts
//     positions differently in it. Those cases start on their WKST day.
//  6. A MONTHLY or YEARLY BYDAY with both plain and numbered weekdays
//     (BYDAY=MO,-1FR): RFC 5545 lists days, each adding its dates; rrule-go
//     (as dateutil) filters by the plain ones and the numbered ones in turn,
//     so a date must be both, and BYDAY=MO,-1FR never matches. rrule-go is
//     given such a rule with its plain weekdays written as the numbered
//     ones they stand for (MO: 1MO to 5MO in a month), which it unites.
//
//  7. Not a difference, a cost: see the comment at 7. below.
//
// A date UNTIL is given to rrule-go as the last second of that day in the
// series' zone, which is what it means here (see Series).

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	rrule "github.com/teambition/rrule-go"

	"github.com/todo-backend/todo/domain/recur"
)

type anchorKind int

const (
	zoned anchorKind = iota
	floating
	allDay
)

func TestAgainstRRuleGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(5545, 18))
	cases := 5000
	if testing.Short() {
		cases = 1000
	}
	const window = 25 // years compared after the anchor
	zones := append([]string{"UTC", "Asia/Kolkata"}, dstZones...)
	var (
		compared, occurrences                                         int
		inGap, inOverlap, unsynced, weekStart                         int
		skippedGapAnchor, skippedStraddle, zonedN, floatingN, allDayN int
		mixed, gapAlike, skippedFar, shortened                        int
	)
	for i := range cases {
		kind := []anchorKind{zoned, zoned, zoned, floating, allDay}[rng.IntN(5)]
		var loc *time.Location
		var start recur.Civil
		switch kind {
		case zoned:
			loc = load(t, zones[rng.IntN(len(zones))])
			ts := transitions(loc, time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC))
			if len(ts) > 0 && rng.IntN(10) < 7 {
				start = nearTransition(rng, loc, ts)
			} else {
				start = recur.DateTime(1990+rng.IntN(50), time.Month(1+rng.IntN(12)), 1+rng.IntN(31), rng.IntN(24), rng.IntN(60), rng.IntN(60))
			}
		case floating:
			start = recur.DateTime(1990+rng.IntN(50), time.Month(1+rng.IntN(12)), 1+rng.IntN(31), rng.IntN(24), rng.IntN(60), 0)
		case allDay:
			start = recur.Date(1990+rng.IntN(50), time.Month(1+rng.IntN(12)), 1+rng.IntN(31))
		}
		rule := randomRule(t, rng)
		if rng.IntN(2) == 0 { // half the anchors are one of their rule's dates
			if c, ok := recur.NewSeries(mustParse(t, rule), start, loc).Next(start); ok {
				start = c
			}
		}
		opt, err := rrule.StrToROption(mustParse(t, rule).String())
		if err != nil {
			t.Fatalf("rrule-go cannot read %q: %v", mustParse(t, rule).String(), err)
		}
		if opt.Freq == rrule.WEEKLY && len(opt.Bysetpos) > 0 { // 5.
			wkst := time.Weekday((opt.Wkst.Day() + 1) % 7)
			start = start.AddDays(-int((start.Weekday() - wkst + 7) % 7))
			weekStart++
		}
		if kind == zoned && recur.CivilOf(start.In(loc)) != start { // 2.
			skippedGapAnchor++
			continue
		}
		rule = randomEnd(rng, rule, start)
		r := mustParse(t, rule)
		s := recur.NewSeries(r, start, loc)
		sy, sm, _ := start.Date()
		end := recur.Date(sy+window, sm, 1)
		ours := s.Between(start, end, 60)
		// 7. rrule-go checks UNTIL only on an occurrence it has found, so
		// when a rule stops matching it searches on to year 9999. When the
		// rule (without COUNT or UNTIL) has no occurrence for 50 years after
		// the window, rrule-go is asked for exactly as many as ours found
		// (its search stops there).
		limit := 60
		endless := recur.NewSeries(mustParse(t, stripEnd(r.String())), start, loc)
		if next, ok := endless.Next(end.AddDays(-1)); len(ours) < 60 && (!ok || next.After(end.AddDays(50*365))) {
			if len(ours) < 2 {
				skippedFar++
				continue
			}
			limit = len(ours)
			shortened++
		}

		// rrule-go's view of the same series.
		instant := func(c recur.Civil) time.Time { // DTSTART and UNTIL as rrule-go gets them
			if kind == zoned {
				return c.In(loc)
			}
			return naive(c)
		}
		reading := func(at time.Time) recur.Civil {
			switch kind {
			case zoned:
				return recur.CivilOf(at.In(loc))
			case floating:
				return recur.CivilOf(at.UTC())
			}
			return recur.Date(at.UTC().Date())
		}
		opt, err = rrule.StrToROption(stripEnd(r.String()))
		if err != nil {
			t.Fatalf("rrule-go cannot read %q: %v", r.String(), err)
		}
		opt.Dtstart = instant(start)
		opt.Until = instant(end).Add(-time.Second)
		if u, ok := untilOf(r.String()); ok {
			var until time.Time
			if len(u) == 8 { // a date: through its last second in the series' zone
				d, _ := time.Parse("20060102", u)
				until = instant(recur.Date(d.Date()).AddDays(1)).Add(-time.Second)
			} else {
				until, _ = time.Parse("20060102T150405Z", u)
			}
			if until.Before(opt.Until) {
				opt.Until = until
			}
		}
		count := countOf(r.String())
		if numberPlainDays(opt) { // 6.
			mixed++
		}
		var theirs []time.Time
		first := rrIterate(t, *opt, 1)
		if len(first) == 1 && reading(first[0]) == start {
			opt.Count = count
			theirs = rrIterate(t, *opt, limit)
		} else { // 4.
			unsynced++
			theirs = []time.Time{opt.Dtstart}
			if count != 1 {
				opt.Count = max(count-1, 0)
				theirs = append(theirs, rrIterate(t, *opt, limit-1)...)
			}
		}

		where := func() string {
			return fmt.Sprintf("case %d: %s from %v in %v:\nours   %v\ntheirs %v", i, rule, start, loc, ours, readings(theirs, reading))
		}
		// explained is 1.: at is time.Date's resolution of c, which is not
		// RFC 5545's.
		explained := func(c recur.Civil, at time.Time) bool {
			if kind != zoned {
				return false
			}
			return at.Equal(goDate(c, loc)) && !at.Equal(c.In(loc))
		}
		n := min(len(ours), len(theirs))
		ok := true
		for k := range n {
			c, at := ours[k], theirs[k]
			switch {
			case kind == zoned && c.In(loc).Equal(at):
				if reading(at) != c {
					gapAlike++ // a reading in a gap, resolved alike
				}
			case kind != zoned && reading(at) == c:
			case explained(c, at):
				if reading(at) == c {
					inOverlap++
				} else {
					inGap++
				}
			default:
				ok = false
			}
		}
		if ok && len(ours) != len(theirs) {
			ok = false
			if _, u := untilOf(r.String()); u && kind == zoned && len(ours) > 0 && len(theirs) > 0 {
				// 3.: the longer list's last occurrence is in a clock
				// change, and UNTIL falls between its two resolutions.
				longer := ours[len(ours)-1]
				if len(theirs) > len(ours) {
					longer = reading(theirs[len(theirs)-1])
				}
				goAt, rfcAt := goDate(longer, loc), longer.In(loc)
				if !goAt.Equal(rfcAt) && (opt.Until.Before(goAt) != opt.Until.Before(rfcAt)) {
					skippedStraddle++
					continue
				}
			}
		}
		if !ok {
			t.Fatalf("%s", where())
		}
		compared++
		occurrences += len(ours)
		switch kind {
		case zoned:
			zonedN++
		case floating:
			floatingN++
		default:
			allDayN++
		}
	}
	t.Logf("%d series compared (%d zoned, %d floating, %d all-day), %d occurrences equal; "+
		"%d readings in a gap resolved alike; "+
		"allowed differences: %d in a gap and %d in an overlap resolved by time.Date (1); "+
		"skipped: %d anchors in a gap (2), %d UNTIL between two resolutions (3); "+
		"%d unsynchronized anchors prepended (4), %d WEEKLY+BYSETPOS started on WKST (5), "+
		"%d BYDAY mixing plain and numbered weekdays given to rrule-go all numbered (6); "+
		"%d without occurrences for 50 years after the window compared up to their last, %d skipped (7)",
		compared, zonedN, floatingN, allDayN, occurrences, gapAlike, inGap, inOverlap, skippedGapAnchor, skippedStraddle, unsynced, weekStart,
		mixed, shortened, skippedFar)
	if compared < cases*9/10 {
		t.Errorf("only %d of %d cases compared", compared, cases)
	}
}

// numberPlainDays rewrites the plain weekdays of a MONTHLY or YEARLY BYDAY
// that also has numbered ones as the numbered weekdays they stand for (TU:
// 1TU to 5TU in a month, 1TU to 53TU in a year), which rrule-go unites as
// RFC 5545 does. It reports whether it rewrote anything.
func numberPlainDays(opt *rrule.ROption) bool {
	if opt.Freq != rrule.MONTHLY && opt.Freq != rrule.YEARLY {
		return false
	}
	var plain, nth []rrule.Weekday
	for _, w := range opt.Byweekday {
		if w.N() == 0 {
			plain = append(plain, w)
		} else {
			nth = append(nth, w)
		}
	}
	if len(plain) == 0 || len(nth) == 0 {
		return false
	}
	most := 5
	if opt.Freq == rrule.YEARLY && len(opt.Bymonth) == 0 {
		most = 53
	}
	for _, w := range plain {
		for n := 1; n <= most; n++ {
			if !slices.ContainsFunc(nth, func(o rrule.Weekday) bool { return o.Day() == w.Day() && o.N() == n }) {
				nth = append(nth, w.Nth(n))
			}
		}
	}
	opt.Byweekday = nth
	return true
}

// goDate is time.Date's instant for reading c in loc, which is how rrule-go
// makes every occurrence.
func goDate(c recur.Civil, loc *time.Location) time.Time {
	y, m, d := c.Date()
	clock := c.Clock()
	return time.Date(y, m, d, int(clock/time.Hour), int(clock/time.Minute%60), int(clock/time.Second%60), 0, loc)
}

// rrIterate is up to n of rrule-go's occurrences for opt.
func rrIterate(t *testing.T, opt rrule.ROption, n int) []time.Time {
	t.Helper()
	rr, err := rrule.NewRRule(opt)
	if err != nil {
		t.Fatalf("rrule.NewRRule(%v) = %v", opt.RRuleString(), err)
	}
	var out []time.Time
	next := rr.Iterator()
	for len(out) < n {
		at, ok := next()
		if !ok {
			break
		}
		out = append(out, at)
	}
	return out
}

func readings(ts []time.Time, reading func(time.Time) recur.Civil) []recur.Civil {
	out := make([]recur.Civil, len(ts))
	for i, at := range ts {
		out[i] = reading(at)
	}
	return out
}

// stripEnd is a canonical rule without COUNT and UNTIL (given to rrule-go
// separately).
func stripEnd(rule string) string {
	var keep []string
	for _, p := range strings.Split(rule, ";") {
		if !strings.HasPrefix(p, "COUNT=") && !strings.HasPrefix(p, "UNTIL=") {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, ";")
}

func untilOf(rule string) (string, bool) {
	for _, p := range strings.Split(rule, ";") {
		if v, ok := strings.CutPrefix(p, "UNTIL="); ok {
			return v, true
		}
	}
	return "", false
}

func countOf(rule string) int {
	for _, p := range strings.Split(rule, ";") {
		if v, ok := strings.CutPrefix(p, "COUNT="); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}
