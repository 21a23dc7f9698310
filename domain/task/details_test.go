package task_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	// Time zone tests must not depend on the machine's zoneinfo.
	_ "time/tzdata"

	"github.com/todo-backend/todo/domain/task"
)

func TestParsePriority(t *testing.T) {
	tests := []struct {
		in   string
		want task.Priority
		rank int
	}{
		{"low", task.PriorityLow, 1},
		{"medium", task.PriorityMedium, 2},
		{"high", task.PriorityHigh, 3},
		{"LOW", task.PriorityLow, 1},
		{"MEDIUM", task.PriorityMedium, 2},
		{"HIGH", task.PriorityHigh, 3},
		{"", "", 0},
		{"High", "", 0},
		{"urgent", "", 0},
		{" low", "", 0},
		{"3", "", 0},
	}
	for _, tt := range tests {
		got, err := task.ParsePriority(tt.in)
		if tt.want == "" {
			want := []task.Problem{{Field: "priority", Type: "enum"}}
			if err == nil || !slices.Equal(fieldsAndTypes(problems(t, err)), want) {
				t.Errorf("ParsePriority(%q) = %q, %v, want a priority enum problem", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want || got.Rank() != tt.rank {
			t.Errorf("ParsePriority(%q) = %q (rank %d), %v, want %q (rank %d)", tt.in, got, got.Rank(), err, tt.want, tt.rank)
		}
		if back, ok := task.PriorityOfRank(tt.rank); !ok || back != tt.want {
			t.Errorf("PriorityOfRank(%d) = %q, %v, want %q", tt.rank, back, ok, tt.want)
		}
	}
	for _, r := range []int{0, 4, -1} {
		if p, ok := task.PriorityOfRank(r); ok {
			t.Errorf("PriorityOfRank(%d) = %q, true, want false", r, p)
		}
	}
	if got := task.Priority("urgent").Rank(); got != 0 {
		t.Errorf("Priority(urgent).Rank() = %d, want 0", got)
	}
}

func TestParseDue(t *testing.T) {
	tests := []struct {
		in       string
		want     string // String() of the result; "" means refused
		allDay   bool
		wantTime time.Time
	}{
		{"2026-03-01", "2026-03-01", true, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"2024-02-29", "2024-02-29", true, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"0001-01-01", "0001-01-01", true, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"9999-12-31", "9999-12-31", true, time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)},
		{"2026-03-01T10:00:00Z", "2026-03-01T10:00:00Z", false, time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)},
		{"2026-03-01T12:00:00+02:00", "2026-03-01T10:00:00Z", false, time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)},
		{"2026-03-01T00:30:00+01:00", "2026-02-28T23:30:00Z", false, time.Date(2026, 2, 28, 23, 30, 0, 0, time.UTC)},
		{"2026-03-01T10:00:00.123456789Z", "2026-03-01T10:00:00.123456Z", false, time.Date(2026, 3, 1, 10, 0, 0, 123456000, time.UTC)},
		{"2026-03-01T10:00:00.5-00:30", "2026-03-01T10:30:00.5Z", false, time.Date(2026, 3, 1, 10, 30, 0, 500000000, time.UTC)},

		{"", "", false, time.Time{}},
		{"2026-02-30", "", false, time.Time{}},
		{"2026-02-29", "", false, time.Time{}},
		{"2026-13-01", "", false, time.Time{}},
		{"0000-01-01", "", false, time.Time{}},
		{"26-03-01", "", false, time.Time{}},
		{"2026-3-1", "", false, time.Time{}},
		{"01/03/2026", "", false, time.Time{}},
		{"2026-03-01T10:00:00", "", false, time.Time{}},
		{"2026-03-01 10:00:00Z", "", false, time.Time{}},
		{"2026-03-01t10:00:00z", "", false, time.Time{}},
		{"2026-03-01T25:00:00Z", "", false, time.Time{}},
		{"0001-01-01T00:00:00+01:00", "", false, time.Time{}},
		{"9999-12-31T23:00:00-02:00", "", false, time.Time{}},
		{"tomorrow", "", false, time.Time{}},
	}
	for _, tt := range tests {
		got, err := task.ParseDue("due_from", tt.in)
		if tt.want == "" {
			want := []task.Problem{{Field: "due_from", Type: "datetime_parsing"}}
			if err == nil || !slices.Equal(fieldsAndTypes(problems(t, err)), want) {
				t.Errorf("ParseDue(%q) = %v, %v, want a due_from problem", tt.in, got, err)
			}
			continue
		}
		if err != nil || got.String() != tt.want || got.AllDay() != tt.allDay || !got.Time().Equal(tt.wantTime) || got.Time().Location() != time.UTC || got.IsZero() {
			t.Errorf("ParseDue(%q) = %q all-day %v at %v, %v; want %q all-day %v at %v", tt.in, got, got.AllDay(), got.Time(), err, tt.want, tt.allDay, tt.wantTime)
		}
		// What String shows parses back to the same Due.
		if again, err := task.ParseDue("due_date", got.String()); err != nil || !again.Equal(got) {
			t.Errorf("ParseDue(%q) = %v, %v, want it to round-trip to %v", got.String(), again, err, got)
		}
	}
	var zero task.Due
	if !zero.IsZero() || zero.String() != "" || !zero.Time().IsZero() {
		t.Errorf("zero Due = %q, IsZero %v, want none", zero, zero.IsZero())
	}
	if d := task.DueOn(time.Date(2026, 3, 1, 23, 0, 0, 0, time.FixedZone("UTC-5", -5*3600))); d.String() != "2026-03-01" {
		t.Errorf("DueOn(1 March 23:00 UTC-5) = %q, want the calendar day as given: 2026-03-01", d)
	}
}

func TestTags(t *testing.T) {
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "t" + strings.Repeat("x", i)
		}
		return out
	}
	tests := []struct {
		name     string
		in       []string
		want     []string
		wantType string // "" means accepted
	}{
		{"none", nil, []string{}, ""},
		{"empty list", []string{}, []string{}, ""},
		{"trimmed", []string{"  home ", "\twork\n"}, []string{"home", "work"}, ""},
		{"order kept", []string{"b", "a", "c"}, []string{"b", "a", "c"}, ""},
		{"duplicates dropped, first spelling kept", []string{"Home", "home", "HOME ", "work", "Work"}, []string{"Home", "work"}, ""},
		{"case of non-ASCII letters", []string{"Éte", "éte", "ÉTE"}, []string{"Éte"}, ""},
		{"inner spaces kept", []string{"to  buy"}, []string{"to  buy"}, ""},
		{"50 code points", []string{strings.Repeat("é", 50)}, []string{strings.Repeat("é", 50)}, ""},
		{"20 tags", many(20), many(20), ""},
		{"21 with a duplicate is 20", append(many(20), "T"), many(20), ""},
		{"21 tags", many(21), nil, "too_long"},
		{"empty tag", []string{"a", ""}, nil, "string_too_short"},
		{"blank tag", []string{"  "}, nil, "string_too_short"},
		{"51 code points", []string{strings.Repeat("é", 51)}, nil, "string_too_long"},
		{"NUL", []string{"a\x00b"}, nil, "string_nul"},
		{"comma", []string{"a,b"}, nil, "value_error"},
		{"invalid UTF-8", []string{"caf\xc3"}, nil, "string_unicode"},
	}
	for _, tt := range tests {
		for op, set := range map[string]func([]string) (*task.Task, error){
			"New": func(tags []string) (*task.Task, error) {
				return task.New(owner, "t", nil, t0, task.WithTags(tags))
			},
			"Edit": func(tags []string) (*task.Task, error) {
				tk := mustNew(t, "t", nil, t0)
				return tk, tk.Edit("t", nil, t0, task.WithTags(tags))
			},
			"Restore": func(tags []string) (*task.Task, error) {
				return task.Stored{ID: 1, Owner: owner, Title: "t", Tags: tags, CreatedAt: t0, UpdatedAt: t0}.Restore()
			},
		} {
			tk, err := set(tt.in)
			if tt.wantType == "" {
				if err != nil || !slices.Equal(tk.Tags(), tt.want) {
					t.Errorf("%s(%s: %q) = %q, %v, want %q", op, tt.name, tt.in, tk.Tags(), err, tt.want)
				}
				continue
			}
			want := []task.Problem{{Field: "tags", Type: tt.wantType}}
			if err == nil || !slices.Equal(fieldsAndTypes(problems(t, err)), want) {
				t.Errorf("%s(%s) = %v, want %v", op, tt.name, err, want)
			}
		}
	}
	if got, err := task.NormalizeTags([]string{" A", "a", "b"}); err != nil || !slices.Equal(got, []string{"A", "b"}) {
		t.Errorf("NormalizeTags = %q, %v, want [A b]", got, err)
	}
}

func TestNewDefaultsAndOptions(t *testing.T) {
	tk := mustNew(t, "t", nil, t0)
	if tk.Priority() != task.PriorityMedium || !tk.Due().IsZero() || tk.Tags() == nil || len(tk.Tags()) != 0 || tk.CompletedAt() != nil {
		t.Errorf("New() = priority %q due %q tags %#v completed_at %v, want medium, none, [], nil", tk.Priority(), tk.Due(), tk.Tags(), tk.CompletedAt())
	}
	tk, err := task.New(owner, "t", nil, t0, task.WithPriority("HIGH"), task.WithDue("2026-03-01"), task.WithTags([]string{"x"}))
	if err != nil || tk.Priority() != task.PriorityHigh || tk.Due().String() != "2026-03-01" || !slices.Equal(tk.Tags(), []string{"x"}) {
		t.Fatalf("New(options) = %v, %v", tk, err)
	}
	if !tk.CreatedAt().Equal(tk.UpdatedAt()) {
		t.Errorf("New(options): created_at %v != updated_at %v", tk.CreatedAt(), tk.UpdatedAt())
	}
	// WithDue("") clears; later options win over earlier ones.
	tk, err = task.New(owner, "t", nil, t0, task.WithDue("2026-03-01"), task.WithDue(""), task.WithPriority("low"), task.WithPriority("high"))
	if err != nil || !tk.Due().IsZero() || tk.Priority() != task.PriorityHigh {
		t.Errorf("New(due then none, low then high) = due %q priority %q, %v", tk.Due(), tk.Priority(), err)
	}
	// The caller's slice is not the task's.
	tags := []string{"a"}
	tk, _ = task.New(owner, "t", nil, t0, task.WithTags(tags))
	tags[0] = "changed"
	got := tk.Tags()
	got[0] = "changed too"
	if !slices.Equal(tk.Tags(), []string{"a"}) {
		t.Errorf("Tags() = %q after changing the input and the output, want [a]", tk.Tags())
	}
}

func TestEditOptions(t *testing.T) {
	base := func() *task.Task {
		tk, err := task.New(owner, "t", nil, t0, task.WithPriority("high"), task.WithDue("2026-03-01"), task.WithTags([]string{"a", "b"}))
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	tests := []struct {
		name     string
		opts     []task.Option
		priority task.Priority
		due      string
		tags     []string
	}{
		{"no option keeps them", nil, task.PriorityHigh, "2026-03-01", []string{"a", "b"}},
		{"priority", []task.Option{task.WithPriority("low")}, task.PriorityLow, "2026-03-01", []string{"a", "b"}},
		{"due", []task.Option{task.WithDue("2026-04-01T10:00:00+02:00")}, task.PriorityHigh, "2026-04-01T08:00:00Z", []string{"a", "b"}},
		{"due cleared", []task.Option{task.WithDue("")}, task.PriorityHigh, "", []string{"a", "b"}},
		{"tags", []task.Option{task.WithTags([]string{"c"})}, task.PriorityHigh, "2026-03-01", []string{"c"}},
		{"tags cleared", []task.Option{task.WithTags(nil)}, task.PriorityHigh, "2026-03-01", []string{}},
	}
	for _, tt := range tests {
		tk := base()
		if err := tk.Edit("t2", nil, t0.Add(time.Hour), tt.opts...); err != nil {
			t.Fatalf("Edit(%s) = %v", tt.name, err)
		}
		if tk.Priority() != tt.priority || tk.Due().String() != tt.due || !slices.Equal(tk.Tags(), tt.tags) || tk.Title() != "t2" {
			t.Errorf("Edit(%s) = %q %q %q %q, want t2 %q %q %q", tt.name, tk.Title(), tk.Priority(), tk.Due(), tk.Tags(), tt.priority, tt.due, tt.tags)
		}
	}

	// A refused Edit changes nothing, and reports every problem at once.
	tk := base()
	before := tk.WithID(0)
	err := tk.Edit("", nil, t0.Add(time.Hour), task.WithPriority("urgent"), task.WithDue("2026-02-30"), task.WithTags([]string{""}))
	var fields []string
	for _, p := range problems(t, err) {
		fields = append(fields, p.Field)
	}
	if want := []string{"title", "priority", "due_date", "tags"}; !slices.Equal(fields, want) {
		t.Errorf("Edit(all wrong) problem fields = %v, want %v", fields, want)
	}
	if tk.Title() != before.Title() || tk.Priority() != before.Priority() || !tk.Due().Equal(before.Due()) ||
		!slices.Equal(tk.Tags(), before.Tags()) || !tk.UpdatedAt().Equal(before.UpdatedAt()) {
		t.Errorf("after a refused Edit the task changed")
	}
	if _, err := task.New(owner, "t", nil, t0, task.WithPriority("urgent"), task.WithDue("x")); len(problems(t, err)) != 2 {
		t.Errorf("New(bad priority, bad due) = %v, want two problems", err)
	}
}

// TestCheckOptions: options checked on their own, by the rules New and
// Edit apply, every problem at once.
func TestCheckOptions(t *testing.T) {
	if err := task.CheckOptions(task.WithPriority("LOW"), task.WithDue("2026-03-01"), task.WithTags([]string{"a"}), task.WithDue("")); err != nil {
		t.Errorf("CheckOptions(good ones) = %v, want nil", err)
	}
	if err := task.CheckOptions(); err != nil {
		t.Errorf("CheckOptions() = %v, want nil", err)
	}
	err := task.CheckOptions(task.WithPriority("urgent"), task.WithDue("2026-02-30"), task.WithTags([]string{""}))
	var fields []string
	for _, p := range problems(t, err) {
		fields = append(fields, p.Field)
	}
	if want := []string{"priority", "due_date", "tags"}; !slices.Equal(fields, want) {
		t.Errorf("CheckOptions(all wrong) problem fields = %v, want %v", fields, want)
	}
}

func TestCompletedAt(t *testing.T) {
	tk := mustNew(t, "t", nil, t0)
	if tk.CompletedAt() != nil {
		t.Fatalf("New().CompletedAt() = %v, want nil", tk.CompletedAt())
	}
	tk.SetCompleted(true, t0.Add(time.Minute))
	first := tk.CompletedAt()
	if first == nil || !first.Equal(tk.UpdatedAt()) {
		t.Fatalf("after SetCompleted(true) CompletedAt() = %v, want updated_at %v", first, tk.UpdatedAt())
	}
	tk.SetCompleted(true, t0.Add(time.Hour))
	if got := tk.CompletedAt(); got == nil || !got.Equal(*first) {
		t.Errorf("SetCompleted(true) again: CompletedAt() = %v, want %v (first completion)", got, *first)
	}
	if err := tk.Edit("renamed", nil, t0.Add(2*time.Hour)); err != nil || tk.CompletedAt() == nil || !tk.CompletedAt().Equal(*first) {
		t.Errorf("Edit of a completed task: CompletedAt() = %v, want %v", tk.CompletedAt(), *first)
	}
	tk.ToggleCompleted(t0.Add(3 * time.Hour))
	if tk.CompletedAt() != nil {
		t.Errorf("reopened: CompletedAt() = %v, want nil", tk.CompletedAt())
	}
	tk.ToggleCompleted(t0.Add(4 * time.Hour))
	if got := tk.CompletedAt(); got == nil || !got.Equal(tk.UpdatedAt()) || got.Equal(*first) {
		t.Errorf("completed again: CompletedAt() = %v, want the new updated_at %v", got, tk.UpdatedAt())
	}
	at := tk.CompletedAt()
	*at = time.Time{}
	if tk.CompletedAt().IsZero() {
		t.Errorf("changing CompletedAt()'s result changed the task")
	}

	// Restore keeps completed_at only on a completed task.
	when := t0.Add(time.Minute)
	for _, tt := range []struct {
		completed bool
		at        *time.Time
		want      *time.Time
	}{
		{true, &when, &when},
		{true, nil, nil},
		{false, &when, nil},
		{false, nil, nil},
	} {
		tk, err := task.Stored{ID: 1, Owner: owner, Title: "t", Completed: tt.completed, CompletedAt: tt.at, CreatedAt: t0, UpdatedAt: t0}.Restore()
		if err != nil {
			t.Fatal(err)
		}
		if got := tk.CompletedAt(); (got == nil) != (tt.want == nil) || got != nil && !got.Equal(*tt.want) {
			t.Errorf("Restore(completed %v, completed_at %v).CompletedAt() = %v, want %v", tt.completed, tt.at, got, tt.want)
		}
	}
}

func TestStoredRestore(t *testing.T) {
	ok := task.Stored{ID: 3, Owner: owner, Title: "t", Priority: task.PriorityLow, Due: task.DueOn(t0), Tags: []string{"a"}, CreatedAt: t0, UpdatedAt: t0}
	tk, err := ok.Restore()
	if err != nil || tk.Priority() != task.PriorityLow || tk.Due().String() != "2026-01-05" || !slices.Equal(tk.Tags(), []string{"a"}) {
		t.Errorf("Stored.Restore() = %v, %v", tk, err)
	}
	if tk, err := (task.Stored{ID: 3, Owner: owner, Title: "t", CreatedAt: t0, UpdatedAt: t0}).Restore(); err != nil || tk.Priority() != task.PriorityMedium {
		t.Errorf("Stored{no priority}.Restore() = %v, %v, want medium", tk, err)
	}
	for name, s := range map[string]task.Stored{
		"priority": {ID: 3, Owner: owner, Title: "t", Priority: "rank 9", CreatedAt: t0, UpdatedAt: t0},
		"tags":     {ID: 3, Owner: owner, Title: "t", Tags: []string{"a,b"}, CreatedAt: t0, UpdatedAt: t0},
	} {
		if _, err := s.Restore(); err == nil || problems(t, err)[0].Field != name {
			t.Errorf("Stored{bad %s}.Restore() = %v, want a %s problem", name, err, name)
		}
	}
}

// Stored is what Restore takes: a stored task restores as itself, and the
// two share no memory.
func TestStoredRoundTrip(t *testing.T) {
	desc := "d"
	tk, err := task.New(owner, "t", &desc, t0, task.WithPriority("high"), task.WithDue("2026-03-01T10:00:00Z"), task.WithTags([]string{"a", "b"}))
	if err != nil {
		t.Fatal(err)
	}
	tk.SetCompleted(true, t0.Add(time.Minute))
	tk = tk.WithID(7).WithVersion(3)
	s := tk.Stored()
	back, err := s.Restore()
	if err != nil || !reflect.DeepEqual(back, tk) {
		t.Fatalf("Stored().Restore() = %+v, %v; want %+v", back, err, tk)
	}
	*s.Description, s.Tags[0], *s.CompletedAt = "changed", "changed", t0
	if !reflect.DeepEqual(back, tk) || *tk.Description() != "d" || tk.Tags()[0] != "a" || tk.CompletedAt().Equal(t0) {
		t.Errorf("changing Stored() changed the task: %+v", tk)
	}
}

func TestMomentCutoffs(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	now := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC) // 2 March 00:30 in Paris, 08:30 in Tokyo
	due := func(s string) task.Due {
		d, err := task.ParseDue("due_date", s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		zone            *time.Location
		due             task.Due
		overdue, dueNow bool
	}{
		{nil, due("2026-03-01"), false, true},
		{nil, due("2026-02-28"), true, false},
		{nil, due("2026-03-02"), false, false},
		{nil, due("2026-03-01T23:29:59Z"), true, true},
		{nil, due("2026-03-01T23:30:00Z"), false, true},
		{nil, due("2026-03-01T23:59:59.999999Z"), false, true},
		{nil, due("2026-03-02T00:00:00Z"), false, false},
		{paris, due("2026-03-01"), true, false},
		{paris, due("2026-03-02"), false, true},
		{paris, due("2026-03-01T23:00:00Z"), true, true}, // 00:00 on 2 March in Paris
		{paris, due("2026-03-01T22:59:59Z"), true, false},
		{paris, due("2026-03-02T22:59:59Z"), false, true},
		{paris, due("2026-03-02T23:00:00Z"), false, false},
		{tokyo, due("2026-03-02"), false, true},
		{time.UTC, task.Due{}, false, false},
	}
	for _, tt := range tests {
		c := task.Moment{Now: now, Zone: tt.zone}.Cutoffs()
		if got := c.Overdue(tt.due); got != tt.overdue {
			t.Errorf("Overdue(%q) at %v in %v = %v, want %v", tt.due, now, tt.zone, got, tt.overdue)
		}
		if got := c.DueToday(tt.due); got != tt.dueNow {
			t.Errorf("DueToday(%q) at %v in %v = %v, want %v", tt.due, now, tt.zone, got, tt.dueNow)
		}
	}
}

func TestParseTimeZone(t *testing.T) {
	for _, tt := range []struct {
		in, want string
	}{
		{"", "UTC"},
		{"UTC", "UTC"},
		{"Europe/Paris", "Europe/Paris"},
		{"America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"},
		{"Etc/GMT+5", "Etc/GMT+5"},
	} {
		if loc, err := task.ParseTimeZone(tt.in); err != nil || loc.String() != tt.want {
			t.Errorf("ParseTimeZone(%q) = %v, %v, want %s", tt.in, loc, err, tt.want)
		}
	}
	for _, in := range []string{"Local", "Mars/Olympus", "europe/paris", "+02:00", "../etc/passwd", "/etc/localtime", "Europe/Paris\x00", strings.Repeat("A", 100)} {
		if loc, err := task.ParseTimeZone(in); err == nil || problems(t, err)[0].Field != "tz" {
			t.Errorf("ParseTimeZone(%q) = %v, %v, want a tz problem", in, loc, err)
		}
	}
}
