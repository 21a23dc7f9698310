package task_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/todo-backend/todo/domain/task"
)

// The time model (issue 18): due_date, due_tz and due_floating read
// together, with a 422 for each combination that makes no sense.
func TestTimeModel(t *testing.T) {
	tests := []struct {
		name     string
		opts     []task.Option
		due, tz  string
		floating bool
		problems []string // fields
	}{
		{"all day", []task.Option{task.WithDue("2026-03-01")}, "2026-03-01", "", false, nil},
		{"instant", []task.Option{task.WithDue("2026-03-01T10:00:00+01:00")}, "2026-03-01T09:00:00Z", "", false, nil},
		{"zoned instant", []task.Option{task.WithDue("2026-03-06T17:00:00+01:00"), task.WithDueZone("Europe/Paris")}, "2026-03-06T16:00:00Z", "Europe/Paris", false, nil},
		{"zoned local", []task.Option{task.WithDue("2026-07-03T17:00:00"), task.WithDueZone("Europe/Paris")}, "2026-07-03T15:00:00Z", "Europe/Paris", false, nil},
		{"zoned local in the gap", []task.Option{task.WithDue("2026-03-08T02:30:00"), task.WithDueZone("America/New_York")}, "2026-03-08T07:30:00Z", "America/New_York", false, nil},
		{"floating", []task.Option{task.WithDue("2026-03-01T09:00:00"), task.WithDueFloating(true)}, "2026-03-01T09:00:00", "", true, nil},
		{"floating fraction", []task.Option{task.WithDue("2026-03-01T09:00:00.5"), task.WithDueFloating(true)}, "2026-03-01T09:00:00.5", "", true, nil},
		{"unknown zone", []task.Option{task.WithDue("2026-03-01T09:00:00Z"), task.WithDueZone("Mars/Olympus")}, "", "", false, []string{"due_tz"}},
		{"zone on a day", []task.Option{task.WithDue("2026-03-01"), task.WithDueZone("Europe/Paris")}, "", "", false, []string{"due_tz"}},
		{"floating day", []task.Option{task.WithDue("2026-03-01"), task.WithDueFloating(true)}, "", "", false, []string{"due_floating"}},
		{"floating with an offset", []task.Option{task.WithDue("2026-03-01T09:00:00+01:00"), task.WithDueFloating(true)}, "", "", false, []string{"due_floating"}},
		{"floating with a zone", []task.Option{task.WithDue("2026-03-01T09:00:00"), task.WithDueFloating(true), task.WithDueZone("Europe/Paris")}, "", "", false, []string{"due_floating"}},
		{"local alone", []task.Option{task.WithDue("2026-03-01T09:00:00")}, "", "", false, []string{"due_date"}},
		{"local, floating false", []task.Option{task.WithDue("2026-03-01T09:00:00"), task.WithDueFloating(false)}, "", "", false, []string{"due_date"}},
		{"zone without due", []task.Option{task.WithDueZone("Europe/Paris")}, "", "", false, []string{"due_tz"}},
		{"floating without due", []task.Option{task.WithDueFloating(true)}, "", "", false, []string{"due_floating"}},
		{"null zone and floating false", []task.Option{task.WithDueZone(""), task.WithDueFloating(false)}, "", "", false, nil},
		{"bad date", []task.Option{task.WithDue("next friday"), task.WithDueZone("Europe/Paris")}, "", "", false, []string{"due_date"}},
		{"recurrence without due", []task.Option{task.WithRecurrence("FREQ=DAILY", "due")}, "", "", false, []string{"recurrence"}},
		{"hourly", []task.Option{task.WithDue("2026-03-01"), task.WithRecurrence("FREQ=HOURLY", "due")}, "", "", false, []string{"recurrence.rule"}},
		{"bad from", []task.Option{task.WithDue("2026-03-01"), task.WithRecurrence("FREQ=DAILY;BYHOUR=3", "later")}, "", "", false, []string{"recurrence.rule", "recurrence.from"}},
	}
	for _, tt := range tests {
		tk, err := task.New(owner, "t", nil, t0, tt.opts...)
		if tt.problems != nil {
			if err == nil {
				t.Errorf("%s: New = %v, want problems on %v", tt.name, tk.Due(), tt.problems)
				continue
			}
			var fields []string
			for _, p := range problems(t, err) {
				fields = append(fields, p.Field)
			}
			if !slices.Equal(fields, tt.problems) {
				t.Errorf("%s: problems on %v, want %v (%v)", tt.name, fields, tt.problems, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: New: %v", tt.name, err)
			continue
		}
		if d := tk.Due(); d.String() != tt.due || d.ZoneName() != tt.tz || d.Floating() != tt.floating {
			t.Errorf("%s: due %q %q %v, want %q %q %v", tt.name, d.String(), d.ZoneName(), d.Floating(), tt.due, tt.tz, tt.floating)
		}
	}
}

// What an edit does not give comes from the due the task has.
func TestTimeModelEdit(t *testing.T) {
	zoned, _ := task.New(owner, "t", nil, t0, task.WithDue("2026-03-06T17:00:00+01:00"), task.WithDueZone("Europe/Paris"))
	floating, _ := task.New(owner, "t", nil, t0, task.WithDue("2026-03-06T09:00:00"), task.WithDueFloating(true))
	tests := []struct {
		name     string
		from     *task.Task
		opts     []task.Option
		due, tz  string
		floating bool
	}{
		{"new instant keeps the zone", zoned, []task.Option{task.WithDue("2026-03-13T16:00:00Z")}, "2026-03-13T16:00:00Z", "Europe/Paris", false},
		{"new local is read in the zone", zoned, []task.Option{task.WithDue("2026-07-03T17:00:00")}, "2026-07-03T15:00:00Z", "Europe/Paris", false},
		{"a day drops the zone", zoned, []task.Option{task.WithDue("2026-03-13")}, "2026-03-13", "", false},
		{"null zone keeps the instant", zoned, []task.Option{task.WithDueZone("")}, "2026-03-06T16:00:00Z", "", false},
		{"another zone keeps the instant", zoned, []task.Option{task.WithDueZone("Asia/Tokyo")}, "2026-03-06T16:00:00Z", "Asia/Tokyo", false},
		{"floating alone reads the wall clock", zoned, []task.Option{task.WithDueFloating(true), task.WithDueZone("")}, "2026-03-06T17:00:00", "", true},
		{"null due clears all", zoned, []task.Option{task.WithDue("")}, "", "", false},
		{"new local stays floating", floating, []task.Option{task.WithDue("2026-03-07T10:00:00")}, "2026-03-07T10:00:00", "", true},
		{"a zone pins a floating due", floating, []task.Option{task.WithDueZone("Europe/Paris")}, "2026-03-06T08:00:00Z", "Europe/Paris", false},
		{"an instant stops floating", floating, []task.Option{task.WithDue("2026-03-06T09:00:00Z")}, "2026-03-06T09:00:00Z", "", false},
	}
	for _, tt := range tests {
		tk := tt.from.WithID(1)
		if err := tk.Edit(tk.Title(), nil, t0.Add(time.Hour), tt.opts...); err != nil {
			t.Errorf("%s: Edit: %v", tt.name, err)
			continue
		}
		if d := tk.Due(); d.String() != tt.due || d.ZoneName() != tt.tz || d.Floating() != tt.floating {
			t.Errorf("%s: due %q %q %v, want %q %q %v", tt.name, d.String(), d.ZoneName(), d.Floating(), tt.due, tt.tz, tt.floating)
		}
	}
	// Giving the values it has is no change.
	tk := zoned.WithID(1).WithVersion(1)
	if err := tk.Edit("t", nil, t0.Add(time.Hour), task.WithDue("2026-03-06T17:00:00+01:00"), task.WithDueZone("Europe/Paris"),
		task.WithRecurrence("", "due"), task.WithoutRecurrence()); err == nil && tk.Changed() {
		t.Errorf("an edit to the same due changed the task")
	}
}

// A floating due is late by the user's wall clock, wherever they are.
func TestCutoffsFloating(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	now := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC) // 2 March 00:30 in Paris, 08:30 in Tokyo
	floating := func(s string) task.Due {
		tk, err := task.New(owner, "t", nil, t0, task.WithDue(s), task.WithDueFloating(true))
		if err != nil {
			t.Fatal(err)
		}
		return tk.Due()
	}
	for _, tt := range []struct {
		zone            *time.Location
		due             string
		overdue, dueNow bool
	}{
		{nil, "2026-03-01T23:00:00", true, true},
		{nil, "2026-03-01T23:45:00", false, true},
		{nil, "2026-03-02T00:15:00", false, false},
		{paris, "2026-03-02T00:15:00", true, true},
		{paris, "2026-03-02T09:00:00", false, true},
		{paris, "2026-03-01T23:45:00", true, false},
		{tokyo, "2026-03-02T08:00:00", true, true},
		{tokyo, "2026-03-02T09:00:00", false, true},
		{tokyo, "2026-03-03T00:00:00", false, false},
	} {
		c := task.Moment{Now: now, Zone: tt.zone}.Cutoffs()
		d := floating(tt.due)
		if got := c.Overdue(d); got != tt.overdue {
			t.Errorf("Overdue(%s) in %v = %v, want %v", tt.due, tt.zone, got, tt.overdue)
		}
		if got := c.DueToday(d); got != tt.dueNow {
			t.Errorf("DueToday(%s) in %v = %v, want %v", tt.due, tt.zone, got, tt.dueNow)
		}
	}
}

func mustRecurring(t *testing.T, opts ...task.Option) *task.Task {
	t.Helper()
	tk, err := task.New(owner, "t", nil, t0, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tk.WithID(1).WithVersion(1)
}

func pass(t *testing.T, tk *task.Task, occ string, at time.Time) task.Occurrence {
	t.Helper()
	d, err := tk.ParseOccurrence(occ)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := tk.PassOccurrence(d, task.OccurrenceCompleted, at)
	if err != nil {
		t.Fatalf("PassOccurrence(%s): %v", occ, err)
	}
	return rec
}

// Every other Friday at 17:00 in Paris stays at 17:00 across both clock
// changes.
func TestPassOccurrenceDST(t *testing.T) {
	tk := mustRecurring(t, task.WithDue("2026-10-16T17:00:00"), task.WithDueZone("Europe/Paris"),
		task.WithRecurrence("FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", "due"))
	want := []string{"2026-10-16T15:00:00Z", "2026-10-30T16:00:00Z", "2026-11-13T16:00:00Z"}
	for i, w := range want {
		if got := tk.Due().String(); got != w {
			t.Fatalf("occurrence %d = %s, want %s", i, got, w)
		}
		rec := pass(t, tk, "", t0)
		if rec.Due.String() != w || rec.Kind != task.OccurrenceCompleted {
			t.Errorf("record = %+v", rec)
		}
		if tk.Completed() || tk.CompletedAt() != nil {
			t.Errorf("after a completion: completed %v, completed_at %v", tk.Completed(), tk.CompletedAt())
		}
	}
	spring := mustRecurring(t, task.WithDue("2027-03-19T17:00:00"), task.WithDueZone("Europe/Paris"),
		task.WithRecurrence("FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", "due"))
	pass(t, spring, "2027-03-19T16:00:00Z", t0)
	if got := spring.Due().String(); got != "2027-04-02T15:00:00Z" { // 17:00 CEST
		t.Errorf("after the March change: %s", got)
	}
	if l := spring.Due().Civil().String(); l != "2027-04-02T17:00:00" {
		t.Errorf("local reading %s", l)
	}
}

func TestPassOccurrenceRules(t *testing.T) {
	// COUNT: the last occurrence completes the task for good.
	tk := mustRecurring(t, task.WithDue("2026-03-01"), task.WithRecurrence("FREQ=DAILY;COUNT=2", "due"))
	pass(t, tk, "2026-03-01", t0)
	if tk.Due().String() != "2026-03-02" || tk.Completed() {
		t.Fatalf("after the first: %s %v", tk.Due(), tk.Completed())
	}
	pass(t, tk, "2026-03-02", t0)
	if !tk.Completed() || tk.Due().String() != "2026-03-02" || tk.RecurrencePassed() != 2 {
		t.Errorf("after the last: completed %v, due %s, passed %d", tk.Completed(), tk.Due(), tk.RecurrencePassed())
	}
	if !tk.OccurrencePassed(tk.Due()) {
		t.Errorf("a task completed for good has passed its due")
	}
	if _, err := tk.PassOccurrence(tk.Due(), task.OccurrenceCompleted, t0); err == nil {
		t.Errorf("passing an occurrence of an ended series succeeded")
	}
	// UNTIL.
	tk = mustRecurring(t, task.WithDue("2026-03-01"), task.WithRecurrence("FREQ=WEEKLY;UNTIL=20260309", "due"))
	pass(t, tk, "", t0)
	pass(t, tk, "", t0)
	if !tk.Completed() {
		t.Errorf("UNTIL: not completed after the last, due %s", tk.Due())
	}
	// From completion: 3 days after the day it was done, at the due's time.
	tk = mustRecurring(t, task.WithDue("2026-03-06T09:00:00"), task.WithDueFloating(true),
		task.WithRecurrence("FREQ=DAILY;INTERVAL=3", "completion"))
	pass(t, tk, "2026-03-06T09:00:00", time.Date(2026, 3, 9, 20, 0, 0, 0, time.UTC))
	if got := tk.Due().String(); got != "2026-03-12T09:00:00" {
		t.Errorf("from completion: %s, want 2026-03-12T09:00:00", got)
	}
	// From completion, done before the due: never the same occurrence again.
	tk = mustRecurring(t, task.WithDue("2026-03-06"), task.WithRecurrence("FREQ=WEEKLY;BYDAY=FR", "completion"))
	pass(t, tk, "", time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)) // a Wednesday
	if got := tk.Due().String(); got != "2026-03-13" {
		t.Errorf("weekly on Friday from completion on the Wednesday before: %s, want 2026-03-13", got)
	}
	// The 31st is skipped in shorter months.
	tk = mustRecurring(t, task.WithDue("2026-01-31"), task.WithRecurrence("FREQ=MONTHLY", "due"))
	pass(t, tk, "", t0)
	if got := tk.Due().String(); got != "2026-03-31" {
		t.Errorf("monthly on the 31st: %s", got)
	}
	// Another occurrence than the current one.
	if _, err := tk.PassOccurrence(mustParse(t, tk, "2026-05-31"), task.OccurrenceCompleted, t0); err == nil {
		t.Errorf("passing a later occurrence succeeded")
	}
	if !tk.OccurrencePassed(mustParse(t, tk, "2026-01-31")) || tk.OccurrencePassed(mustParse(t, tk, "2026-03-31")) {
		t.Errorf("OccurrencePassed wrong")
	}
	if _, err := tk.ParseOccurrence("2026-03-31T00:00:00Z"); err == nil {
		t.Errorf("an instant named an all-day occurrence")
	}
	// Not repeating.
	plain := mustRecurring(t, task.WithDue("2026-03-01"))
	if _, err := plain.PassOccurrence(plain.Due(), task.OccurrenceSkipped, t0); err == nil || problems(t, err)[0].Field != "recurrence" {
		t.Errorf("skipping a task that does not repeat: %v", err)
	}
}

func mustParse(t *testing.T, tk *task.Task, s string) task.Due {
	t.Helper()
	d, err := tk.ParseOccurrence(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestOccurrences(t *testing.T) {
	tk := mustRecurring(t, task.WithDue("2026-10-16T17:00:00"), task.WithDueZone("Europe/Paris"),
		task.WithRecurrence("FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", "due"))
	from, to := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	got, ok := tk.Occurrences(from, to, nil, 100)
	var s []string
	for _, d := range got {
		s = append(s, d.String())
	}
	want := []string{"2026-10-16T15:00:00Z", "2026-10-30T16:00:00Z", "2026-11-13T16:00:00Z", "2026-11-27T16:00:00Z"}
	if !ok || !reflect.DeepEqual(s, want) {
		t.Errorf("Occurrences = %v, %v, want %v", s, ok, want)
	}
	if got, ok := tk.Occurrences(from, to, nil, 3); ok || len(got) != 3 {
		t.Errorf("Occurrences(limit 3) = %d, %v, want 3, false", len(got), ok)
	}
	// [from, to): an occurrence at to is out.
	if got, _ := tk.Occurrences(from, time.Date(2026, 10, 30, 16, 0, 0, 0, time.UTC), nil, 100); len(got) != 1 {
		t.Errorf("to is exclusive: %d", len(got))
	}
	// COUNT counts what was passed.
	tk = mustRecurring(t, task.WithDue("2026-03-01"), task.WithRecurrence("FREQ=DAILY;COUNT=5", "due"))
	pass(t, tk, "", t0)
	pass(t, tk, "", t0)
	if got, ok := tk.Occurrences(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), nil, 100); !ok || len(got) != 3 || got[0].String() != "2026-03-03" {
		t.Errorf("COUNT=5 after 2: %v %v", got, ok)
	}
	// Daily without end: a year is 365, more than 100.
	tk = mustRecurring(t, task.WithDue("2026-03-01"), task.WithRecurrence("FREQ=DAILY", "due"))
	if got, ok := tk.Occurrences(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), nil, 1000); !ok || len(got) != 306 {
		t.Errorf("daily from 1 March to the year's end: %d, %v, want 306", len(got), ok)
	}
	if _, ok := tk.Occurrences(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), nil, 1000); ok {
		t.Errorf("four years of days fit in 1000")
	}
}

// Stored carries the recurrence and the zone; Restore rebuilds them.
func TestStoredRecurrence(t *testing.T) {
	tk := mustRecurring(t, task.WithDue("2026-10-16T17:00:00"), task.WithDueZone("Europe/Paris"),
		task.WithRecurrence("rrule:freq=weekly;byday=fr;interval=2", "completion"))
	pass(t, tk, "", t0)
	s := tk.Stored()
	if s.RecurrenceRule != "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR" || s.RecurrenceFrom != "completion" || s.RecurrencePassed != 1 {
		t.Errorf("Stored = %q %q %d", s.RecurrenceRule, s.RecurrenceFrom, s.RecurrencePassed)
	}
	d, err := task.RestoreDue(s.Due.Time(), false, false, "Europe/Paris")
	if err != nil || !d.Equal(s.Due) {
		t.Errorf("RestoreDue = %v, %v", d, err)
	}
	s.Due = d
	back, err := s.Restore()
	if err != nil || !reflect.DeepEqual(back, tk.WithVersion(tk.Version())) {
		t.Errorf("Restore = %+v, %v; want %+v", back, err, tk)
	}
	if tk.Recurrence().Describe() != "every 2 weeks on Friday, counted from completion" {
		t.Errorf("Describe = %q", tk.Recurrence().Describe())
	}
}
