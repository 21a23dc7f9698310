package task_test

import (
	"testing"
	"time"

	"github.com/todo-backend/todo/domain/task"
)

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"PT15M": 15 * time.Minute, "P1D": 24 * time.Hour, "P1W": 7 * 24 * time.Hour, "P1DT2H30M": 26*time.Hour + 30*time.Minute,
		"PT0S": 0, "PT90S": 90 * time.Second, "P366D": 366 * 24 * time.Hour,
	} {
		if got, err := task.ParseDuration("before", in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "P", "PT", "15M", "P1M", "P1Y", "PT1D", "P1H", "P1DT", "PT15M1H", "P-1D", "P367D", "PT1.5M", "p1d", "P1D2D"} {
		if got, err := task.ParseDuration("before", in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, got)
		}
	}
	for d, want := range map[time.Duration]string{0: "PT0S", 15 * time.Minute: "PT15M", 26*time.Hour + 30*time.Minute: "P1DT2H30M", 7 * 24 * time.Hour: "P7D"} {
		if got := task.FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func str(s string) *string { return &s }

func TestReminders(t *testing.T) {
	rs := []task.ReminderInput{{Before: str("PT15M")}, {At: str("2026-10-16T16:30:00+02:00")}, {Before: str("PT15M")}}
	tk := mustRecurring(t, task.WithDue("2026-10-16T17:00:00"), task.WithDueZone("Europe/Paris"),
		task.WithRecurrence("FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", "due"), task.WithReminders(rs))
	got := tk.Reminders()
	if len(got) != 2 {
		t.Fatalf("reminders = %v, want the duplicate dropped", got)
	}
	fires := func() []string {
		var out []string
		for _, r := range tk.Reminders() {
			at, _ := r.FiresAt(tk.Due())
			out = append(out, at.Format(time.RFC3339))
		}
		return out
	}
	if f := fires(); f[0] != "2026-10-16T14:45:00Z" || f[1] != "2026-10-16T14:30:00Z" {
		t.Errorf("fires at %v", f)
	}
	pass(t, tk, "", t0)
	// The next occurrence is 17:00 CET (16:00Z): 15 minutes before it, and
	// the absolute one as far before it as it was.
	if f := fires(); f[0] != "2026-10-30T15:45:00Z" || f[1] != "2026-10-30T15:30:00Z" {
		t.Errorf("after the occurrence moved, fires at %v", f)
	}
	s := tk.Stored()
	back, err := s.Restore()
	if err != nil || len(back.Reminders()) != 2 || !back.Reminders()[1].Equal(tk.Reminders()[1]) {
		t.Errorf("Restore = %v, %v", back.Reminders(), err)
	}
	for _, r := range tk.Reminders() {
		if p, err := task.ParseReminder(r.String()); err != nil || !p.Equal(r) {
			t.Errorf("ParseReminder(%q) = %v, %v", r.String(), p, err)
		}
	}
	for name, tt := range map[string]struct {
		opts  []task.Option
		field string
	}{
		"both":          {[]task.Option{task.WithDue("2026-03-01"), task.WithReminders([]task.ReminderInput{{At: str("2026-03-01T09:00:00Z"), Before: str("PT1H")}})}, "reminders.0"},
		"neither":       {[]task.Option{task.WithDue("2026-03-01"), task.WithReminders([]task.ReminderInput{{}})}, "reminders.0"},
		"bad at":        {[]task.Option{task.WithReminders([]task.ReminderInput{{At: str("tomorrow")}})}, "reminders.0.at"},
		"bad before":    {[]task.Option{task.WithDue("2026-03-01"), task.WithReminders([]task.ReminderInput{{Before: str("P1M")}})}, "reminders.0.before"},
		"before no due": {[]task.Option{task.WithReminders([]task.ReminderInput{{At: str("2026-03-01T09:00:00Z")}, {Before: str("PT1H")}})}, "reminders.1.before"},
		"eleven":        {[]task.Option{task.WithReminders(make([]task.ReminderInput, 11))}, "reminders"},
	} {
		_, err := task.New(owner, "t", nil, t0, tt.opts...)
		if err == nil || problems(t, err)[0].Field != tt.field {
			t.Errorf("%s: %v, want a problem on %s", name, err, tt.field)
		}
	}
	// Clearing the due of a task with a relative reminder is refused.
	if err := tk.Edit(tk.Title(), nil, t0, task.WithDue(""), task.WithoutRecurrence()); err == nil {
		t.Errorf("clearing the due under a reminder before it succeeded")
	}
}
