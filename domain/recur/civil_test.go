package recur

import (
	"go/build"
	"strings"
	"testing"
	"time"
)

// TestDayNumbers holds daysFromCivil and civilFromDays against time.Date:
// every day from 1582 to 2600, and every 13th day from year 0 to 10000.
func TestDayNumbers(t *testing.T) {
	epoch := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	first := daysFromCivil(0, time.January, 1)
	last := daysFromCivil(10000, time.December, 31)
	dense0, dense1 := daysFromCivil(1582, time.January, 1), daysFromCivil(2600, time.December, 31)
	for d := first; d <= last; d++ {
		if (d < dense0 || d > dense1) && d%13 != 0 {
			continue
		}
		want := epoch.AddDate(0, 0, int(d))
		y, m, dd := civilFromDays(d)
		if wy, wm, wd := want.Date(); y != wy || m != wm || dd != wd {
			t.Fatalf("civilFromDays(%d) = %d-%d-%d, want %v", d, y, m, dd, want)
		}
		if back := daysFromCivil(y, m, dd); back != d {
			t.Fatalf("daysFromCivil(%d, %d, %d) = %d, want %d", y, m, dd, back, d)
		}
		if w := weekdayOf(d); w != want.Weekday() {
			t.Fatalf("weekdayOf(%d) = %v, want %v", d, w, want.Weekday())
		}
	}
}

func TestDateNormalizes(t *testing.T) {
	for _, tc := range []struct {
		in   Civil
		want string
	}{
		{Date(2026, 2, 29), "2026-03-01"},
		{Date(2024, 2, 29), "2024-02-29"},
		{Date(2026, 13, 1), "2027-01-01"},
		{Date(2026, 0, 1), "2025-12-01"},
		{Date(2026, 3, 0), "2026-02-28"},
		{DateTime(2026, 3, 8, 24, 0, 0), "2026-03-09T00:00:00"},
		{DateTime(2026, 3, 8, 17, 5, 9), "2026-03-08T17:05:09"},
		{CivilOf(time.Date(2026, 3, 8, 17, 5, 9, 120000000, time.UTC)), "2026-03-08T17:05:09.12"},
	} {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func TestCompare(t *testing.T) {
	a, b := Date(2026, 3, 8), DateTime(2026, 3, 8, 0, 0, 1)
	if a.Compare(b) >= 0 || b.Compare(a) <= 0 || a.Compare(a) != 0 {
		t.Errorf("Compare: %v vs %v wrong", a, b)
	}
	if Date(2026, 3, 8).Compare(DateTime(2026, 3, 8, 0, 0, 0)) != 0 {
		t.Errorf("an all-day Civil should compare as its midnight")
	}
}

// TestInResolvesAsRFC5545 pins the two cases RFC 5545 3.3.5 decides, in
// every zone the property tests use: a time in a spring-forward gap is read
// with the offset before the gap (so it lands the gap's length later), a
// time in a fall-back overlap is the first of its two instants.
func TestInResolvesAsRFC5545(t *testing.T) {
	for _, tc := range []struct {
		zone  string
		local Civil
		want  string // RFC 3339 in the zone
	}{
		// RFC 5545's own two examples.
		{"America/New_York", DateTime(2007, 3, 11, 2, 30, 0), "2007-03-11T03:30:00-04:00"},
		{"America/New_York", DateTime(2007, 11, 4, 1, 30, 0), "2007-11-04T01:30:00-04:00"},
		// Gap edges: the first missing second, and the first existing one.
		{"America/New_York", DateTime(2007, 3, 11, 2, 0, 0), "2007-03-11T03:00:00-04:00"},
		{"America/New_York", DateTime(2007, 3, 11, 3, 0, 0), "2007-03-11T03:00:00-04:00"},
		{"America/New_York", DateTime(2007, 3, 11, 1, 59, 59), "2007-03-11T01:59:59-05:00"},
		// Overlap edges: 01:00 happens twice, 02:00 once (EST).
		{"America/New_York", DateTime(2007, 11, 4, 1, 0, 0), "2007-11-04T01:00:00-04:00"},
		{"America/New_York", DateTime(2007, 11, 4, 2, 0, 0), "2007-11-04T02:00:00-05:00"},
		{"Europe/London", DateTime(2024, 3, 31, 1, 30, 0), "2024-03-31T02:30:00+01:00"},
		{"Europe/London", DateTime(2024, 10, 27, 1, 30, 0), "2024-10-27T01:30:00+01:00"},
		{"Pacific/Auckland", DateTime(2024, 9, 29, 2, 30, 0), "2024-09-29T03:30:00+13:00"},
		{"Pacific/Auckland", DateTime(2024, 4, 7, 2, 30, 0), "2024-04-07T02:30:00+13:00"},
		{"Australia/Sydney", DateTime(2024, 10, 6, 2, 30, 0), "2024-10-06T03:30:00+11:00"},
		{"Australia/Sydney", DateTime(2024, 4, 7, 2, 30, 0), "2024-04-07T02:30:00+11:00"},
		// Lord Howe moves by 30 minutes: 02:00 -> 02:30 and 02:00 -> 01:30.
		{"Australia/Lord_Howe", DateTime(2024, 10, 6, 2, 15, 0), "2024-10-06T02:45:00+11:00"},
		{"Australia/Lord_Howe", DateTime(2024, 4, 7, 1, 45, 0), "2024-04-07T01:45:00+11:00"},
		{"Australia/Lord_Howe", DateTime(2024, 4, 7, 2, 0, 0), "2024-04-07T02:00:00+10:30"},
		// Samoa skipped 30 December 2011 (-10 to +14): the whole day is a gap.
		{"Pacific/Apia", DateTime(2011, 12, 30, 12, 0, 0), "2011-12-31T12:00:00+14:00"},
		// An all-day Civil reads as its midnight.
		{"Europe/Paris", Date(2026, 3, 29), "2026-03-29T00:00:00+01:00"},
		{"UTC", DateTime(2026, 3, 29, 2, 30, 0), "2026-03-29T02:30:00Z"},
	} {
		loc, err := time.LoadLocation(tc.zone)
		if err != nil {
			t.Fatal(err)
		}
		if got := tc.local.In(loc).Format(time.RFC3339); got != tc.want {
			t.Errorf("%v.In(%s) = %s, want %s", tc.local, tc.zone, got, tc.want)
		}
	}
}

// TestStdlibOnly keeps the package inside the domain's rule: the standard
// library only (rrule-go is for the tests).
func TestStdlibOnly(t *testing.T) {
	pkg, err := build.Default.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range pkg.Imports {
		if first, _, _ := strings.Cut(path, "/"); strings.Contains(first, ".") {
			t.Errorf("recur imports %s; the domain imports the standard library only", path)
		}
	}
}
