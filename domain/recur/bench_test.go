package recur_test

import (
	"testing"
	"time"

	"github.com/todo-backend/todo/domain/recur"
)

// BenchmarkNext is the cost of moving a task to its next occurrence, the
// work of completing a recurring task. The last cases are the bounded
// worst: a COUNT walked from the anchor, and rules that never match again
// searched to the horizon.
func BenchmarkNext(b *testing.B) {
	paris := load(b, "Europe/Paris")
	for _, bc := range []struct {
		name, rule string
		start      recur.Civil
		loc        *time.Location
		after      recur.Civil
	}{
		{"weekly", "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", recur.DateTime(2026, 3, 13, 17, 0, 0), paris, recur.DateTime(2027, 10, 29, 17, 0, 0)},
		{"daily", "FREQ=DAILY", recur.DateTime(2026, 3, 13, 9, 0, 0), paris, recur.DateTime(2027, 10, 30, 9, 0, 0)},
		{"monthly-last-friday", "FREQ=MONTHLY;BYDAY=-1FR", recur.Date(2026, 1, 30), nil, recur.Date(2027, 10, 29)},
		{"monthly-weekday-setpos", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2", recur.Date(2026, 1, 29), nil, recur.Date(2027, 10, 28)},
		{"yearly-29-february", "FREQ=YEARLY", recur.Date(2024, 2, 29), nil, recur.Date(2024, 2, 29)},
		{"until-utc", "FREQ=WEEKLY;BYDAY=MO,WE,FR;UNTIL=20301231T000000Z", recur.DateTime(2026, 3, 13, 17, 0, 0), paris, recur.DateTime(2027, 10, 29, 17, 0, 0)},
		{"count-1000-last", "FREQ=DAILY;COUNT=1000", recur.Date(2026, 1, 1), nil, recur.Date(2026, 1, 1).AddDays(998)},
		{"never-monthly", "FREQ=MONTHLY;BYMONTHDAY=1;BYDAY=2MO", recur.Date(2026, 3, 3), nil, recur.Date(2026, 3, 3)},
		{"never-daily", "FREQ=DAILY;INTERVAL=7;BYDAY=MO", recur.Date(2026, 3, 3), nil, recur.Date(2026, 3, 3)},
		{"never-yearly", "FREQ=YEARLY;INTERVAL=4;BYMONTH=2;BYMONTHDAY=29", recur.Date(2025, 1, 1), nil, recur.Date(2025, 1, 1)},
	} {
		s := recur.NewSeries(mustParse(b, bc.rule), bc.start, bc.loc)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.Next(bc.after)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := recur.Parse("RRULE:FREQ=MONTHLY;INTERVAL=2;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;UNTIL=20271231T000000Z"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIn(b *testing.B) {
	ny := load(b, "America/New_York")
	for _, bc := range []struct {
		name string
		c    recur.Civil
	}{
		{"plain", recur.DateTime(2026, 6, 5, 17, 0, 0)},
		{"gap", recur.DateTime(2026, 3, 8, 2, 30, 0)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.c.In(ny)
			}
		})
	}
}
