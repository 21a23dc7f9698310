package recur_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/todo-backend/todo/domain/recur"
)

// Random rules and anchors for the property tests and the comparison with
// rrule-go. The seed is fixed, so a failure reproduces; the generator leans
// towards rules that match often, so that each case has occurrences to check.

var codes = []string{"MO", "TU", "WE", "TH", "FR", "SA", "SU"}

// randomRule is a random rule of the supported grammar (valid: invalid
// draws are drawn again), with no COUNT or UNTIL; randomEnd adds those.
func randomRule(t testing.TB, rng *rand.Rand) string {
	t.Helper()
	for range 1000 {
		s := drawRule(rng)
		if _, err := recur.Parse(s); err == nil {
			return s
		}
	}
	t.Fatal("no valid random rule in 1,000 draws")
	return ""
}

func drawRule(rng *rand.Rand) string {
	freq := []string{"DAILY", "WEEKLY", "WEEKLY", "MONTHLY", "MONTHLY", "YEARLY"}[rng.IntN(6)]
	parts := []string{"FREQ=" + freq}
	switch n := rng.IntN(20); {
	case n < 10:
	case n < 17:
		parts = append(parts, fmt.Sprintf("INTERVAL=%d", 2+rng.IntN(3)))
	default:
		parts = append(parts, fmt.Sprintf("INTERVAL=%d", 5+rng.IntN(26)))
	}
	hasMonths := false
	if rng.IntN(4) == 0 {
		parts = append(parts, "BYMONTH="+join(pick(rng, 1+rng.IntN(4), 12, func(i int) string { return fmt.Sprint(i + 1) })))
		hasMonths = true
	}
	by := 0
	if freq != "WEEKLY" && rng.IntN(3) == 0 {
		parts = append(parts, "BYMONTHDAY="+join(pick(rng, 1+rng.IntN(3), 62, func(i int) string {
			if i < 31 {
				return fmt.Sprint(i + 1)
			}
			return fmt.Sprint(30 - i)
		})))
		by++
	}
	if rng.IntN(2) == 0 {
		days := pick(rng, 1+rng.IntN(4), 7, func(i int) string { return codes[i] })
		if freq == "MONTHLY" || freq == "YEARLY" {
			most := 5
			if freq == "YEARLY" && !hasMonths {
				most = 53
			}
			for i := range days {
				if rng.IntN(2) == 0 {
					n := 1 + rng.IntN(min(most, 5))
					if most > 5 && rng.IntN(3) == 0 {
						n = 1 + rng.IntN(most)
					}
					if rng.IntN(2) == 0 {
						n = -n
					}
					days[i] = fmt.Sprint(n) + days[i]
				}
			}
		}
		parts = append(parts, "BYDAY="+join(days))
		by++
	}
	if (by > 0 || hasMonths) && rng.IntN(4) == 0 {
		parts = append(parts, "BYSETPOS="+join(pick(rng, 1+rng.IntN(2), 6, func(i int) string {
			return []string{"1", "2", "3", "-1", "-2", "-3"}[i]
		})))
	}
	if rng.IntN(3) == 0 {
		parts = append(parts, "WKST="+codes[rng.IntN(7)])
	}
	rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	return strings.Join(parts, ";")
}

// randomEnd adds, sometimes, a COUNT or an UNTIL (a date, or a UTC
// date-time) some way after start.
func randomEnd(rng *rand.Rand, rule string, start recur.Civil) string {
	y, m, d := start.Date()
	switch rng.IntN(8) {
	case 0, 1:
		return rule + fmt.Sprintf(";COUNT=%d", 1+rng.IntN(40))
	case 2:
		u := time.Date(y, m, d+rng.IntN(800), 0, 0, 0, 0, time.UTC)
		return rule + ";UNTIL=" + u.Format("20060102")
	case 3:
		u := time.Date(y, m, d+rng.IntN(800), rng.IntN(24), rng.IntN(4)*15, 0, 0, time.UTC)
		return rule + ";UNTIL=" + u.Format("20060102T150405Z")
	}
	return rule
}

// pick is k distinct names of n, in random order.
func pick(rng *rand.Rand, k, n int, name func(int) string) []string {
	out := make([]string, 0, k)
	for _, i := range rng.Perm(n)[:min(k, n)] {
		out = append(out, name(i))
	}
	return out
}

func join(s []string) string { return strings.Join(s, ",") }

// dstZones are the zones of issue 18's property tests: both hemispheres,
// both sides of Greenwich, and Lord Howe, whose clocks move by 30 minutes.
var dstZones = []string{"Pacific/Auckland", "Australia/Sydney", "America/New_York", "Europe/London", "Australia/Lord_Howe"}

// transitions is every instant from..to at which loc's offset changes.
func transitions(loc *time.Location, from, to time.Time) []time.Time {
	var out []time.Time
	for t := from; t.Before(to); {
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() || !end.Before(to) {
			break
		}
		out = append(out, end)
		t = end
	}
	return out
}

// nearTransition is a random anchor in loc some days before (or after) one
// of its clock changes, at a time of day that is often the changing hour
// itself, so that the anchor or later occurrences fall in a gap or overlap.
func nearTransition(rng *rand.Rand, loc *time.Location, ts []time.Time) recur.Civil {
	tr := ts[rng.IntN(len(ts))]
	before := tr.Add(-time.Second).In(loc) // the last reading before the change
	day := rng.IntN(90) - 75
	if rng.IntN(10) == 0 {
		day = -rng.IntN(800)
	}
	var h, mi int
	switch rng.IntN(4) {
	case 0, 1: // within an hour either side of the changing reading, on the quarter
		minutes := before.Hour()*60 + before.Minute() + 1 + (rng.IntN(9)-4)*15
		h, mi = minutes/60, minutes%60
	case 2:
		h, mi = []int{0, 9, 17, 23}[rng.IntN(4)], []int{0, 30, 59}[rng.IntN(3)]
	default:
		h, mi = rng.IntN(24), rng.IntN(60)
	}
	y, m, d := before.Date()
	return recur.DateTime(y, m, d+day, h, mi, 0)
}
