package recur_test

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/todo-backend/todo/domain/recur"
)

// naive is c's reading taken as if it were UTC: the instant a zone with
// offset 0 would give it.
func naive(c recur.Civil) time.Time {
	y, m, d := c.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Add(c.Clock())
}

func offsetOf(t time.Time) time.Duration {
	_, off := t.Zone()
	return time.Duration(off) * time.Second
}

// TestDSTProperties draws random rules and anchors around the clock changes
// of Pacific/Auckland, Australia/Sydney, America/New_York, Europe/London
// and Australia/Lord_Howe (2000 to 2035), and checks every occurrence:
//
//   - its instant reads the anchor's time of day on its own date, unless
//     that time does not exist there: then it is the reading with the
//     offset from before the gap (RFC 5545 3.3.5), the gap's length later;
//   - where the reading exists twice, its instant is the first of the two;
//   - the instants strictly increase, and no two fall on one local day;
//   - the occurrences do not depend on the zone: a floating series from the
//     same reading has the same ones (unless UNTIL is a UTC instant);
//   - starting anywhere (Occurrences(from), Next) agrees with walking from
//     the anchor.
func TestDSTProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(18, 5545))
	cases := 1500
	if testing.Short() {
		cases = 300
	}
	var gaps, overlaps, occurrences int
	for i := range cases {
		zone := dstZones[i%len(dstZones)]
		loc := load(t, zone)
		ts := transitions(loc, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2035, 1, 1, 0, 0, 0, 0, time.UTC))
		start := nearTransition(rng, loc, ts)
		rule := randomRule(t, rng)
		if i%3 == 0 {
			rule = "FREQ=DAILY" // the case of the reported bugs, often
			if rng.IntN(2) == 0 {
				rule += ";INTERVAL=" + []string{"2", "3", "7"}[rng.IntN(3)]
			}
		}
		rule = randomEnd(rng, rule, start)
		s := recur.NewSeries(mustParse(t, rule), start, loc)
		got := first(s, 120)
		occurrences += len(got)
		where := func() string { return zone + " " + rule + " from " + start.String() }

		var prev time.Time
		days := map[string]bool{}
		for k, c := range got {
			at := c.In(loc)
			read := recur.CivilOf(at)
			if c.Clock() != start.Clock() {
				t.Fatalf("%s: occurrence %v has another time of day than its anchor", where(), c)
			}
			if read != c {
				// Only a reading that does not exist may move, and only as
				// RFC 5545 says: read with the offset before the gap.
				gaps++
				zstart, _ := at.ZoneBounds()
				before := offsetOf(zstart.Add(-time.Second).In(loc))
				if want := naive(c).Add(-before); !at.Equal(want) {
					t.Fatalf("%s: %v is at %v, want %v (offset before the gap)", where(), c, at, want.In(loc))
				}
				for _, off := range []time.Duration{offsetOf(at), before} {
					if recur.CivilOf(naive(c).Add(-off).In(loc)) == c {
						t.Fatalf("%s: %v exists (offset %v) but was moved to %v", where(), c, off, at)
					}
				}
			}
			for _, back := range []time.Duration{30 * time.Minute, time.Hour} {
				if recur.CivilOf(at.Add(-back).In(loc)) == c {
					t.Fatalf("%s: %v is at %v, but it was also read %v earlier", where(), c, at, back)
				}
			}
			if k > 0 && !at.After(prev) {
				t.Fatalf("%s: occurrence %d at %v is not after %v", where(), k, at, prev)
			}
			prev = at
			day := at.Format("2006-01-02")
			if days[day] {
				t.Fatalf("%s: two occurrences on %s", where(), day)
			}
			days[day] = true
		}
		for _, c := range got {
			// Count the readings that exist twice, to show the test meets them.
			at := c.In(loc)
			if later := at.Add(time.Hour); recur.CivilOf(later.In(loc)) == c {
				overlaps++
			} else if later := at.Add(30 * time.Minute); recur.CivilOf(later.In(loc)) == c {
				overlaps++
			}
		}

		if !strings.Contains(rule, "Z") { // no UTC UNTIL

			floating := first(recur.NewSeries(mustParse(t, rule), start, nil), 120)
			if !slices.Equal(floating, got) {
				t.Fatalf("%s: zoned %v, floating %v", where(), got, floating)
			}
		}
		if len(got) > 1 {
			k := rng.IntN(len(got) - 1)
			if next, ok := s.Next(got[k]); !ok || next != got[k+1] {
				t.Fatalf("%s: Next(%v) = %v %v, want %v", where(), got[k], next, ok, got[k+1])
			}
			from := got[k].AddDays(-rng.IntN(40))
			var rest []recur.Civil
			for c := range s.Occurrences(from) {
				rest = append(rest, c)
				if len(rest) == 20 {
					break
				}
			}
			want := slices.DeleteFunc(slices.Clone(got), func(c recur.Civil) bool { return c.Before(from) })
			want = want[:min(len(want), 20)]
			if len(rest) > len(want) && len(got) == 120 {
				rest = rest[:len(want)]
			}
			if !slices.Equal(rest, want) {
				t.Fatalf("%s: Occurrences(%v) = %v, want %v", where(), from, rest, want)
			}
		}
	}
	t.Logf("%d series, %d occurrences, %d in a gap, %d in an overlap", cases, occurrences, gaps, overlaps)
	if gaps == 0 || overlaps == 0 {
		t.Errorf("the cases met %d gaps and %d overlaps: the generator no longer reaches them", gaps, overlaps)
	}
}
