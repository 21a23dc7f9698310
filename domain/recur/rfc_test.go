package recur_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/todo-backend/todo/domain/recur"
)

// dates is the listed days of one month of year y.
func dates(y int, m time.Month, days ...int) []recur.Civil {
	out := make([]recur.Civil, len(days))
	for i, d := range days {
		out[i] = recur.Date(y, m, d)
	}
	return out
}

// span is the days from..to of one month.
func span(y int, m time.Month, from, to int) []recur.Civil {
	var out []recur.Civil
	for d := from; d <= to; d++ {
		out = append(out, recur.Date(y, m, d))
	}
	return out
}

func load(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q) = %v", name, err)
	}
	return loc
}

func mustParse(t testing.TB, s string) recur.Rule {
	t.Helper()
	r, err := recur.Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q) = %v, want no error", s, err)
	}
	return r
}

// TestRFC5545Examples runs every example of RFC 5545 section 3.8.5.3 that
// uses only the supported parts, with the occurrences the RFC lists (typed
// in from its text; where it lists a beginning and "...", that beginning).
// Every example starts at 09:00 America/New_York.
func TestRFC5545Examples(t *testing.T) {
	ny := load(t, "America/New_York")
	cases := []struct {
		name  string
		start recur.Civil // at 09:00
		rule  string
		want  [][]recur.Civil
		open  bool // the RFC lists the first occurrences of an endless or longer series
	}{
		{
			name: "Daily for 10 occurrences", start: recur.Date(1997, 9, 2),
			rule: "RRULE:FREQ=DAILY;COUNT=10",
			want: [][]recur.Civil{span(1997, 9, 2, 11)},
		},
		{
			name: "Daily until December 24, 1997", start: recur.Date(1997, 9, 2),
			rule: "RRULE:FREQ=DAILY;UNTIL=19971224T000000Z",
			want: [][]recur.Civil{span(1997, 9, 2, 30), span(1997, 10, 1, 25), span(1997, 10, 26, 31),
				span(1997, 11, 1, 30), span(1997, 12, 1, 23)},
		},
		{
			name: "Every other day - forever", start: recur.Date(1997, 9, 2),
			rule: "RRULE:FREQ=DAILY;INTERVAL=2",
			want: [][]recur.Civil{dates(1997, 9, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30),
				dates(1997, 10, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30),
				dates(1997, 11, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29), dates(1997, 12, 1, 3)},
			open: true,
		},
		{
			name: "Every 10 days, 5 occurrences", start: recur.Date(1997, 9, 2),
			rule: "RRULE:FREQ=DAILY;INTERVAL=10;COUNT=5",
			want: [][]recur.Civil{dates(1997, 9, 2, 12, 22), dates(1997, 10, 2, 12)},
		},
		{
			name: "Every day in January, for 3 years (YEARLY)", start: recur.Date(1998, 1, 1),
			rule: "RRULE:FREQ=YEARLY;UNTIL=20000131T140000Z;BYMONTH=1;BYDAY=SU,MO,TU,WE,TH,FR,SA",
			want: [][]recur.Civil{span(1998, 1, 1, 31), span(1999, 1, 1, 31), span(2000, 1, 1, 31)},
		},
		{
			name: "Every day in January, for 3 years (DAILY)", start: recur.Date(1998, 1, 1),
			rule: "RRULE:FREQ=DAILY;UNTIL=20000131T140000Z;BYMONTH=1",
			want: [][]recur.Civil{span(1998, 1, 1, 31), span(1999, 1, 1, 31), span(2000, 1, 1, 31)},
		},
		{
			name: "Weekly for 10 occurrences", start: recur.Date(1997, 9, 2),
			rule: "RRULE:FREQ=WEEKLY;COUNT=10",
			want: [][]recur.Civil{dates(1997, 9, 2, 9, 16, 23, 30), dates(1997, 10, 7, 14, 21, 28), dates(1997, 11, 4)},
		},
		{
			name: "Weekly until December 24, 1997", start: recur.Date(1997, 9, 2),
			rule: "RRULE:FREQ=WEEKLY;UNTIL=19971224T000000Z",
			want: [][]recur.Civil{dates(1997, 9, 2, 9, 16, 23, 30), dates(1997, 10, 7, 14, 21, 28),
				dates(1997, 11, 4, 11, 18, 25), dates(1997, 12, 2, 9, 16, 23)},
		},
		{
			name: "Every other week - forever", start: recur.Date(1997, 9, 2),
			rule: "RRULE:FREQ=WEEKLY;INTERVAL=2;WKST=SU",
			want: [][]recur.Civil{dates(1997, 9, 2, 16, 30), dates(1997, 10, 14, 28), dates(1997, 11, 11, 25),
				dates(1997, 12, 9, 23), dates(1998, 1, 6, 20), dates(1998, 2, 3, 17)},
			open: true,
		},
		{
			name: "Weekly on Tuesday and Thursday for five weeks (UNTIL)", start: recur.Date(1997, 9, 2),
			rule: "RRULE:FREQ=WEEKLY;UNTIL=19971007T000000Z;WKST=SU;BYDAY=TU,TH",
			want: [][]recur.Civil{dates(1997, 9, 2, 4, 9, 11, 16, 18, 23, 25, 30), dates(1997, 10, 2)},
		},
		{
			name: "Weekly on Tuesday and Thursday for five weeks (COUNT)", start: recur.Date(1997, 9, 2),
			rule: "RRULE:FREQ=WEEKLY;COUNT=10;WKST=SU;BYDAY=TU,TH",
			want: [][]recur.Civil{dates(1997, 9, 2, 4, 9, 11, 16, 18, 23, 25, 30), dates(1997, 10, 2)},
		},
		{
			name: "Every other week on Monday, Wednesday, and Friday until December 24, 1997", start: recur.Date(1997, 9, 1),
			rule: "RRULE:FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;WKST=SU;BYDAY=MO,WE,FR",
			want: [][]recur.Civil{dates(1997, 9, 1, 3, 5, 15, 17, 19, 29), dates(1997, 10, 1, 3, 13, 15, 17, 27, 29, 31),
				dates(1997, 11, 10, 12, 14, 24, 26, 28), dates(1997, 12, 8, 10, 12, 22)},
		},
		{
			name: "Every other week on Tuesday and Thursday, for 8 occurrences", start: recur.Date(1997, 9, 2),
			rule: "RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=8;WKST=SU;BYDAY=TU,TH",
			want: [][]recur.Civil{dates(1997, 9, 2, 4, 16, 18, 30), dates(1997, 10, 2, 14, 16)},
		},
		{
			name: "Monthly on the first Friday for 10 occurrences", start: recur.Date(1997, 9, 5),
			rule: "RRULE:FREQ=MONTHLY;COUNT=10;BYDAY=1FR",
			want: [][]recur.Civil{dates(1997, 9, 5), dates(1997, 10, 3), dates(1997, 11, 7), dates(1997, 12, 5),
				dates(1998, 1, 2), dates(1998, 2, 6), dates(1998, 3, 6), dates(1998, 4, 3), dates(1998, 5, 1), dates(1998, 6, 5)},
		},
		{
			name: "Monthly on the first Friday until December 24, 1997", start: recur.Date(1997, 9, 5),
			rule: "RRULE:FREQ=MONTHLY;UNTIL=19971224T000000Z;BYDAY=1FR",
			want: [][]recur.Civil{dates(1997, 9, 5), dates(1997, 10, 3), dates(1997, 11, 7), dates(1997, 12, 5)},
		},
		{
			name: "Every other month on the first and last Sunday of the month for 10 occurrences", start: recur.Date(1997, 9, 7),
			rule: "RRULE:FREQ=MONTHLY;INTERVAL=2;COUNT=10;BYDAY=1SU,-1SU",
			want: [][]recur.Civil{dates(1997, 9, 7, 28), dates(1997, 11, 2, 30), dates(1998, 1, 4, 25),
				dates(1998, 3, 1, 29), dates(1998, 5, 3, 31)},
		},
		{
			name: "Monthly on the second-to-last Monday of the month for 6 months", start: recur.Date(1997, 9, 22),
			rule: "RRULE:FREQ=MONTHLY;COUNT=6;BYDAY=-2MO",
			want: [][]recur.Civil{dates(1997, 9, 22), dates(1997, 10, 20), dates(1997, 11, 17), dates(1997, 12, 22),
				dates(1998, 1, 19), dates(1998, 2, 16)},
		},
		{
			name: "Monthly on the third-to-the-last day of the month, forever", start: recur.Date(1997, 9, 28),
			rule: "RRULE:FREQ=MONTHLY;BYMONTHDAY=-3",
			want: [][]recur.Civil{dates(1997, 9, 28), dates(1997, 10, 29), dates(1997, 11, 28), dates(1997, 12, 29),
				dates(1998, 1, 29), dates(1998, 2, 26)},
			open: true,
		},
		{
			name: "Monthly on the 2nd and 15th of the month for 10 occurrences", start: recur.Date(1997, 9, 2),
			rule: "RRULE:FREQ=MONTHLY;COUNT=10;BYMONTHDAY=2,15",
			want: [][]recur.Civil{dates(1997, 9, 2, 15), dates(1997, 10, 2, 15), dates(1997, 11, 2, 15),
				dates(1997, 12, 2, 15), dates(1998, 1, 2, 15)},
		},
		{
			name: "Monthly on the first and last day of the month for 10 occurrences", start: recur.Date(1997, 9, 30),
			rule: "RRULE:FREQ=MONTHLY;COUNT=10;BYMONTHDAY=1,-1",
			want: [][]recur.Civil{dates(1997, 9, 30), dates(1997, 10, 1, 31), dates(1997, 11, 1, 30),
				dates(1997, 12, 1, 31), dates(1998, 1, 1, 31), dates(1998, 2, 1)},
		},
		{
			name: "Every 18 months on the 10th thru 15th of the month for 10 occurrences", start: recur.Date(1997, 9, 10),
			rule: "RRULE:FREQ=MONTHLY;INTERVAL=18;COUNT=10;BYMONTHDAY=10,11,12,13,14,15",
			want: [][]recur.Civil{span(1997, 9, 10, 15), span(1999, 3, 10, 13)},
		},
		{
			name: "Every Tuesday, every other month", start: recur.Date(1997, 9, 2),
			rule: "RRULE:FREQ=MONTHLY;INTERVAL=2;BYDAY=TU",
			want: [][]recur.Civil{dates(1997, 9, 2, 9, 16, 23, 30), dates(1997, 11, 4, 11, 18, 25),
				dates(1998, 1, 6, 13, 20, 27), dates(1998, 3, 3, 10, 17, 24, 31)},
			open: true,
		},
		{
			name: "Yearly in June and July for 10 occurrences", start: recur.Date(1997, 6, 10),
			rule: "RRULE:FREQ=YEARLY;COUNT=10;BYMONTH=6,7",
			want: [][]recur.Civil{dates(1997, 6, 10), dates(1997, 7, 10), dates(1998, 6, 10), dates(1998, 7, 10),
				dates(1999, 6, 10), dates(1999, 7, 10), dates(2000, 6, 10), dates(2000, 7, 10),
				dates(2001, 6, 10), dates(2001, 7, 10)},
		},
		{
			name: "Every other year on January, February, and March for 10 occurrences", start: recur.Date(1997, 3, 10),
			rule: "RRULE:FREQ=YEARLY;INTERVAL=2;COUNT=10;BYMONTH=1,2,3",
			want: [][]recur.Civil{dates(1997, 3, 10),
				dates(1999, 1, 10), dates(1999, 2, 10), dates(1999, 3, 10),
				dates(2001, 1, 10), dates(2001, 2, 10), dates(2001, 3, 10),
				dates(2003, 1, 10), dates(2003, 2, 10), dates(2003, 3, 10)},
		},
		{
			name: "Every 20th Monday of the year, forever", start: recur.Date(1997, 5, 19),
			rule: "RRULE:FREQ=YEARLY;BYDAY=20MO",
			want: [][]recur.Civil{dates(1997, 5, 19), dates(1998, 5, 18), dates(1999, 5, 17)},
			open: true,
		},
		{
			name: "Every Thursday in March, forever", start: recur.Date(1997, 3, 13),
			rule: "RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=TH",
			want: [][]recur.Civil{dates(1997, 3, 13, 20, 27), dates(1998, 3, 5, 12, 19, 26), dates(1999, 3, 4, 11, 18, 25)},
			open: true,
		},
		{
			name: "Every Thursday, but only during June, July, and August, forever", start: recur.Date(1997, 6, 5),
			rule: "RRULE:FREQ=YEARLY;BYDAY=TH;BYMONTH=6,7,8",
			want: [][]recur.Civil{dates(1997, 6, 5, 12, 19, 26), dates(1997, 7, 3, 10, 17, 24, 31), dates(1997, 8, 7, 14, 21, 28),
				dates(1998, 6, 4, 11, 18, 25), dates(1998, 7, 2, 9, 16, 23, 30), dates(1998, 8, 6, 13, 20, 27),
				dates(1999, 6, 3, 10, 17, 24), dates(1999, 7, 1, 8, 15, 22, 29), dates(1999, 8, 5, 12, 19, 26)},
			open: true,
		},
		{
			// The RFC removes DTSTART with an EXDATE, as DTSTART always counts
			// as the first occurrence; there is no EXDATE here, so it stays.
			name: "Every Friday the 13th, forever (DTSTART kept: no EXDATE)", start: recur.Date(1997, 9, 2),
			rule: "RRULE:FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13",
			want: [][]recur.Civil{dates(1997, 9, 2), dates(1998, 2, 13), dates(1998, 3, 13), dates(1998, 11, 13),
				dates(1999, 8, 13), dates(2000, 10, 13)},
			open: true,
		},
		{
			name: "The first Saturday that follows the first Sunday of the month, forever", start: recur.Date(1997, 9, 13),
			rule: "RRULE:FREQ=MONTHLY;BYDAY=SA;BYMONTHDAY=7,8,9,10,11,12,13",
			want: [][]recur.Civil{dates(1997, 9, 13), dates(1997, 10, 11), dates(1997, 11, 8), dates(1997, 12, 13),
				dates(1998, 1, 10), dates(1998, 2, 7), dates(1998, 3, 7), dates(1998, 4, 11), dates(1998, 5, 9), dates(1998, 6, 13)},
			open: true,
		},
		{
			name: "Every 4 years, the first Tuesday after a Monday in November, forever", start: recur.Date(1996, 11, 5),
			rule: "RRULE:FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;BYMONTHDAY=2,3,4,5,6,7,8",
			want: [][]recur.Civil{dates(1996, 11, 5), dates(2000, 11, 7), dates(2004, 11, 2)},
			open: true,
		},
		{
			name: "The third instance into the month of one of Tuesday, Wednesday, or Thursday, for the next 3 months", start: recur.Date(1997, 9, 4),
			rule: "RRULE:FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3",
			want: [][]recur.Civil{dates(1997, 9, 4), dates(1997, 10, 7), dates(1997, 11, 6)},
		},
		{
			name: "The second-to-last weekday of the month", start: recur.Date(1997, 9, 29),
			rule: "RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2",
			want: [][]recur.Civil{dates(1997, 9, 29), dates(1997, 10, 30), dates(1997, 11, 27), dates(1997, 12, 30),
				dates(1998, 1, 29), dates(1998, 2, 26), dates(1998, 3, 30)},
			open: true,
		},
		{
			name: "An example where the days generated makes a difference because of WKST (MO)", start: recur.Date(1997, 8, 5),
			rule: "RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO",
			want: [][]recur.Civil{dates(1997, 8, 5, 10, 19, 24)},
		},
		{
			name: "changing only WKST from MO to SU, yields different results", start: recur.Date(1997, 8, 5),
			rule: "RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU",
			want: [][]recur.Civil{dates(1997, 8, 5, 17, 19, 31)},
		},
		{
			name: "An example where an invalid date (i.e., February 30) is ignored", start: recur.Date(2007, 1, 15),
			rule: "RRULE:FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5",
			want: [][]recur.Civil{dates(2007, 1, 15, 30), dates(2007, 2, 15), dates(2007, 3, 15, 30)},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			y, m, d := tc.start.Date()
			s := recur.NewSeries(mustParse(t, tc.rule), recur.DateTime(y, m, d, 9, 0, 0), ny)
			want := slices.Concat(tc.want...)
			var got []recur.Civil
			for c := range s.Occurrences(recur.Civil{}) {
				got = append(got, c)
				if len(got) == len(want)+1 {
					break
				}
			}
			if tc.open && len(got) > len(want) {
				got = got[:len(want)]
			}
			if len(got) != len(want) {
				t.Fatalf("%d occurrences %v, want %d", len(got), got, len(want))
			}
			for i := range want {
				wy, wm, wd := want[i].Date()
				if g := got[i]; g != recur.DateTime(wy, wm, wd, 9, 0, 0) {
					t.Errorf("occurrence %d = %v, want %v 09:00", i+1, g, want[i])
				}
				// 9:00 is never in a gap or overlap: the instant reads 9:00
				// in New York, EDT or EST as the date has it.
				if at := got[i].In(ny); at.Hour() != 9 || at.Minute() != 0 {
					t.Errorf("occurrence %d is %v in New York, want 09:00", i+1, at)
				}
			}
		})
	}
}

// TestRFC5545ExamplesUnsupported checks that the RFC's examples using parts
// outside the supported grammar are refused, naming the part.
func TestRFC5545ExamplesUnsupported(t *testing.T) {
	for _, tc := range []struct{ rule, part string }{
		{"RRULE:FREQ=YEARLY;INTERVAL=3;COUNT=10;BYYEARDAY=1,100,200", "BYYEARDAY"},
		{"RRULE:FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO", "BYWEEKNO"},
		{"RRULE:FREQ=HOURLY;INTERVAL=3;UNTIL=19970902T170000Z", "FREQ"},
		{"RRULE:FREQ=MINUTELY;INTERVAL=15;COUNT=6", "FREQ"},
		{"RRULE:FREQ=MINUTELY;INTERVAL=90;COUNT=4", "FREQ"},
		{"RRULE:FREQ=DAILY;BYHOUR=9,10,11,12,13,14,15,16;BYMINUTE=0,20,40", "BYHOUR"},
		{"RRULE:FREQ=MINUTELY;INTERVAL=20;BYHOUR=9,10,11,12,13,14,15,16", "FREQ"},
	} {
		_, err := recur.Parse(tc.rule)
		var ve *recur.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("Parse(%q) = %v, want a *recur.ValidationError", tc.rule, err)
			continue
		}
		if !slices.ContainsFunc(ve.Problems, func(p recur.Problem) bool { return p.Part == tc.part }) {
			t.Errorf("Parse(%q) problems %+v, want one naming %s", tc.rule, ve.Problems, tc.part)
		}
	}
}
