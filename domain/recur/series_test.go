package recur_test

import (
	"slices"
	"testing"
	"time"

	"github.com/todo-backend/todo/domain/recur"
)

// first is up to n occurrences of s from its start.
func first(s recur.Series, n int) []recur.Civil {
	var out []recur.Civil
	for c := range s.Occurrences(recur.Civil{}) {
		out = append(out, c)
		if len(out) == n {
			break
		}
	}
	return out
}

func civils(ss ...string) []recur.Civil {
	out := make([]recur.Civil, len(ss))
	for i, s := range ss {
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			t, err = time.Parse("2006-01-02T15:04:05", s)
			if err != nil {
				panic(err)
			}
			out[i] = recur.CivilOf(t)
			continue
		}
		out[i] = recur.Date(t.Date())
	}
	return out
}

func TestSeries(t *testing.T) {
	paris := load(t, "Europe/Paris")
	cases := []struct {
		name  string
		rule  string
		start recur.Civil
		loc   *time.Location
		n     int
		want  []recur.Civil
	}{
		{
			name: "the 31st is skipped in shorter months", rule: "FREQ=MONTHLY", start: recur.Date(2026, 1, 31), n: 7,
			want: civils("2026-01-31", "2026-03-31", "2026-05-31", "2026-07-31", "2026-08-31", "2026-10-31", "2026-12-31"),
		},
		{
			name: "BYMONTHDAY=-1 is the last day of every month", rule: "FREQ=MONTHLY;BYMONTHDAY=-1", start: recur.Date(2026, 1, 31), n: 4,
			want: civils("2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"),
		},
		{
			name: "BYSETPOS=-1 over 28..31 is the last day too", rule: "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1", start: recur.Date(2024, 1, 31), n: 4,
			want: civils("2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"),
		},
		{
			name: "29 February only in leap years", rule: "FREQ=YEARLY", start: recur.Date(2024, 2, 29), n: 4,
			want: civils("2024-02-29", "2028-02-29", "2032-02-29", "2036-02-29"),
		},
		{
			name: "29 February across 2100, which is not a leap year", rule: "FREQ=YEARLY;INTERVAL=4", start: recur.Date(2096, 2, 29), n: 2,
			want: civils("2096-02-29", "2104-02-29"),
		},
		{
			name: "the anchor counts for COUNT even when the rule would not make it", rule: "FREQ=MONTHLY;BYDAY=2TU;COUNT=3",
			start: recur.DateTime(2026, 1, 1, 19, 0, 0), loc: paris, n: 10,
			want: civils("2026-01-01T19:00:00", "2026-01-13T19:00:00", "2026-02-10T19:00:00"),
		},
		{
			name: "every other Friday at 17:00 in Paris, across the clock change", rule: "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR",
			start: recur.DateTime(2026, 3, 13, 17, 0, 0), loc: paris, n: 4,
			want: civils("2026-03-13T17:00:00", "2026-03-27T17:00:00", "2026-04-10T17:00:00", "2026-04-24T17:00:00"),
		},
		{
			name: "a date UNTIL includes its whole day under a timed anchor", rule: "FREQ=DAILY;UNTIL=20260303",
			start: recur.DateTime(2026, 3, 1, 23, 59, 0), loc: paris, n: 10,
			want: civils("2026-03-01T23:59:00", "2026-03-02T23:59:00", "2026-03-03T23:59:00"),
		},
		{
			name: "a UTC UNTIL is an instant under a zoned anchor", rule: "FREQ=DAILY;UNTIL=20260303T160000Z",
			start: recur.DateTime(2026, 3, 1, 17, 0, 0), loc: paris, n: 10, // 17:00 in Paris is 16:00Z in March
			want: civils("2026-03-01T17:00:00", "2026-03-02T17:00:00", "2026-03-03T17:00:00"),
		},
		{
			name: "a UTC UNTIL one second earlier ends a day sooner", rule: "FREQ=DAILY;UNTIL=20260303T155959Z",
			start: recur.DateTime(2026, 3, 1, 17, 0, 0), loc: paris, n: 10,
			want: civils("2026-03-01T17:00:00", "2026-03-02T17:00:00"),
		},
		{
			name: "a UTC UNTIL is read as a wall clock under a floating anchor", rule: "FREQ=DAILY;UNTIL=20260303T170000Z",
			start: recur.DateTime(2026, 3, 1, 17, 0, 0), n: 10,
			want: civils("2026-03-01T17:00:00", "2026-03-02T17:00:00", "2026-03-03T17:00:00"),
		},
		{
			name: "an all-day anchor with a UTC UNTIL", rule: "FREQ=WEEKLY;UNTIL=20260315T000000Z",
			start: recur.Date(2026, 3, 1), n: 10,
			want: civils("2026-03-01", "2026-03-08", "2026-03-15"),
		},
		{
			name: "the anchor stays even past UNTIL", rule: "FREQ=DAILY;UNTIL=20250101", start: recur.Date(2026, 3, 1), n: 10,
			want: civils("2026-03-01"),
		},
		{
			name: "no occurrence after year 9999", rule: "FREQ=DAILY", start: recur.Date(9999, 12, 30), n: 10,
			want: civils("9999-12-30", "9999-12-31"),
		},
		{
			name: "an interval of 1000 years fits the horizon", rule: "FREQ=YEARLY;INTERVAL=1000", start: recur.Date(2026, 3, 1), n: 10,
			want: civils("2026-03-01", "3026-03-01", "4026-03-01", "5026-03-01", "6026-03-01", "7026-03-01", "8026-03-01", "9026-03-01"),
		},
		{
			name: "the zero Rule: the anchor alone", start: recur.Date(2026, 3, 1), n: 10,
			want: civils("2026-03-01"),
		},
		{
			name: "DAILY with BYMONTH jumps to the months", rule: "FREQ=DAILY;INTERVAL=10;BYMONTH=2", start: recur.Date(2026, 1, 1), n: 6,
			want: civils("2026-01-01", "2026-02-10", "2026-02-20", "2027-02-05", "2027-02-15", "2027-02-25"),
		},
		{
			name: "WEEKLY with BYMONTH limits, BYSETPOS per week", rule: "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;BYMONTH=3;BYSETPOS=-1",
			start: recur.Date(2026, 3, 2), n: 6,
			want: civils("2026-03-02", "2026-03-06", "2026-03-13", "2026-03-20", "2026-03-27", "2026-03-31"),
		},
		{
			name: "YEARLY BYMONTHDAY without BYMONTH is every month", rule: "FREQ=YEARLY;BYMONTHDAY=1", start: recur.Date(2026, 1, 1), n: 3,
			want: civils("2026-01-01", "2026-02-01", "2026-03-01"),
		},
		{
			name: "YEARLY ordinal with BYMONTHDAY and no BYMONTH counts in the year", rule: "FREQ=YEARLY;BYDAY=1MO;BYMONTHDAY=1,2,3,4,5,6,7",
			start: recur.Date(2026, 1, 5), n: 3,
			want: civils("2026-01-05", "2027-01-04", "2028-01-03"),
		},
		{
			name: "YEARLY last weekday of the year", rule: "FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", start: recur.Date(2026, 12, 31), n: 3,
			want: civils("2026-12-31", "2027-12-31", "2028-12-29"),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r recur.Rule
			if tc.rule != "" {
				r = mustParse(t, tc.rule)
			}
			s := recur.NewSeries(r, tc.start, tc.loc)
			if got := first(s, tc.n); !slices.Equal(got, tc.want) {
				t.Errorf("%s from %v = %v, want %v", tc.rule, tc.start, got, tc.want)
			}
		})
	}
}

// TestNeverMatching: rules that can never match again after their anchor
// end (within HorizonYears) instead of looping.
func TestNeverMatching(t *testing.T) {
	for _, tc := range []struct {
		rule  string
		start recur.Civil
	}{
		{"FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29", recur.Date(2025, 1, 1)}, // 2025+4k is never leap
		{"FREQ=MONTHLY;INTERVAL=12;BYMONTH=3", recur.Date(2026, 1, 15)},
		{"FREQ=DAILY;INTERVAL=7;BYDAY=MO", recur.Date(2026, 3, 3)},      // always a Tuesday
		{"FREQ=MONTHLY;BYMONTHDAY=1;BYDAY=2MO", recur.Date(2026, 3, 3)}, // the 1st is never a second Monday
	} {
		s := recur.NewSeries(mustParse(t, tc.rule), tc.start, nil)
		got := first(s, 3)
		if len(got) > 2 {
			t.Errorf("%s from %v = %v, want the anchor and at most one more", tc.rule, tc.start, got)
		}
		if len(got) == 1 {
			if c, ok := s.Next(tc.start); ok {
				t.Errorf("%s: Next(%v) = %v, want none", tc.rule, tc.start, c)
			}
		}
	}
}

func TestNext(t *testing.T) {
	s := recur.NewSeries(mustParse(t, "FREQ=WEEKLY;BYDAY=MO,FR;COUNT=4"), recur.Date(2026, 3, 4), nil) // a Wednesday
	for _, tc := range []struct {
		after recur.Civil
		want  string // "" for none
	}{
		{recur.Date(2026, 1, 1), "2026-03-04"},
		{recur.Date(2026, 3, 4), "2026-03-06"},
		{recur.DateTime(2026, 3, 4, 12, 0, 0), "2026-03-06"},
		{recur.Date(2026, 3, 6), "2026-03-09"},
		{recur.Date(2026, 3, 9), "2026-03-13"},
		{recur.Date(2026, 3, 13), ""}, // the 4th was the last
	} {
		c, ok := s.Next(tc.after)
		if got := map[bool]string{true: c.String(), false: ""}[ok]; got != tc.want {
			t.Errorf("Next(%v) = %q, want %q", tc.after, got, tc.want)
		}
	}
	// [from, to): the 13th is left out.
	if b := s.Between(recur.Date(2026, 3, 5), recur.Date(2026, 3, 13), 10); !slices.Equal(b, civils("2026-03-06", "2026-03-09")) {
		t.Errorf("Between = %v, want 2026-03-06 and 2026-03-09", b)
	}
	if b := s.Between(recur.Date(2026, 1, 1), recur.Date(2027, 1, 1), 2); len(b) != 2 {
		t.Errorf("Between with limit 2 = %v", b)
	}
	if b := s.Between(recur.Date(2026, 1, 1), recur.Date(2027, 1, 1), 0); len(b) != 0 {
		t.Errorf("Between with limit 0 = %v", b)
	}
}
