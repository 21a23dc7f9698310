package task_test

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

const owner auth.UserID = "u_123"

// t0 is a clean time (UTC, whole microseconds), so that what a task keeps can
// be compared with what it was given.
var t0 = time.Date(2026, 1, 5, 10, 0, 0, 123456000, time.UTC)

func ptr[T any](v T) *T { return &v }

// problems returns the problems of a *task.ValidationError, failing the test
// when err is not one.
func problems(t *testing.T, err error) []task.Problem {
	t.Helper()
	var ve *task.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *task.ValidationError", err, err)
	}
	return ve.Problems
}

func mustNew(t *testing.T, title string, description *string, now time.Time) *task.Task {
	t.Helper()
	tk, err := task.New(owner, title, description, now)
	if err != nil {
		t.Fatalf("New(%q, %q) = %v, want no error", owner, title, err)
	}
	return tk
}

// setters run one rule through every way a task gets its text: New, Edit and
// Restore all promise the same rules.
var setters = map[string]func(title string, description *string) (*task.Task, error){
	"New": func(title string, description *string) (*task.Task, error) {
		return task.New(owner, title, description, t0)
	},
	"Edit": func(title string, description *string) (*task.Task, error) {
		tk, err := task.New(owner, "before", ptr("before"), t0)
		if err != nil {
			return nil, err
		}
		if err := tk.Edit(title, description, t0.Add(time.Second)); err != nil {
			return nil, err
		}
		return tk, nil
	},
	"Restore": func(title string, description *string) (*task.Task, error) {
		return task.Restore(1, owner, title, description, false, t0, t0)
	},
}

func TestTitle(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     string // the stored title when accepted
		wantType string // the problem type when refused; "" means accepted
	}{
		{name: "plain", in: "Buy milk", want: "Buy milk"},
		{name: "surrounding spaces", in: "  Buy milk  ", want: "Buy milk"},
		{name: "tabs and newlines", in: "\t\n Buy milk\r\n\v\f", want: "Buy milk"},
		{name: "unicode spaces", in: "\u00a0\u2003\u3000Buy milk\u0085\u2028\u202f", want: "Buy milk"},
		{name: "inner spaces kept", in: "Buy \t milk", want: "Buy \t milk"},
		{name: "one code point", in: "a", want: "a"},
		{name: "one multi-byte code point", in: "é", want: "é"},
		{name: "199 code points", in: strings.Repeat("a", 199), want: strings.Repeat("a", 199)},
		{name: "200 code points", in: strings.Repeat("a", 200), want: strings.Repeat("a", 200)},
		{name: "200 code points once trimmed", in: "  " + strings.Repeat("a", 200) + "\n", want: strings.Repeat("a", 200)},
		{name: "200 two-byte code points", in: strings.Repeat("é", 200), want: strings.Repeat("é", 200)},
		{name: "200 four-byte code points", in: strings.Repeat("😀", 200), want: strings.Repeat("😀", 200)},
		{name: "200 code points in 100 graphemes", in: strings.Repeat("e\u0301", 100), want: strings.Repeat("e\u0301", 100)},

		{name: "empty", in: "", wantType: "string_too_short"},
		{name: "only spaces", in: "   ", wantType: "string_too_short"},
		{name: "only white space of every kind", in: " \t\n\r\v\f\u00a0\u2003\u3000", wantType: "string_too_short"},
		{name: "201 code points", in: strings.Repeat("a", 201), wantType: "string_too_long"},
		{name: "201 two-byte code points", in: strings.Repeat("é", 201), wantType: "string_too_long"},
		{name: "201 four-byte code points", in: strings.Repeat("😀", 201), wantType: "string_too_long"},
		{name: "202 code points in 101 graphemes", in: strings.Repeat("e\u0301", 101), wantType: "string_too_long"},
		{name: "only NUL", in: "\x00", wantType: "string_nul"},
		{name: "NUL first", in: "\x00Buy milk", wantType: "string_nul"},
		{name: "NUL inside", in: "Buy\x00milk", wantType: "string_nul"},
		{name: "NUL last", in: "Buy milk\x00", wantType: "string_nul"},
		{name: "NUL among spaces", in: "  \x00  ", wantType: "string_nul"},
		{name: "invalid byte", in: "Buy \xff milk", wantType: "string_unicode"},
		{name: "truncated sequence", in: "caf\xc3", wantType: "string_unicode"},
		{name: "encoded surrogate", in: "\xed\xa0\x80", wantType: "string_unicode"},
	}
	for _, tt := range tests {
		for op, set := range setters {
			t.Run(op+"/"+tt.name, func(t *testing.T) {
				tk, err := set(tt.in, nil)
				if tt.wantType == "" {
					if err != nil {
						t.Fatalf("%s(%q) = %v, want no error", op, tt.in, err)
					}
					if got := tk.Title(); got != tt.want {
						t.Errorf("%s(%q).Title() = %q, want %q", op, tt.in, got, tt.want)
					}
					return
				}
				if err == nil {
					t.Fatalf("%s(%q) = nil error, want a %q problem", op, tt.in, tt.wantType)
				}
				ps := problems(t, err)
				want := []task.Problem{{Field: "title", Type: tt.wantType}}
				if got := fieldsAndTypes(ps); !slices.Equal(got, want) {
					t.Errorf("%s(%q) problems = %v, want %v", op, tt.in, got, want)
				}
				for _, p := range ps {
					if p.Msg == "" {
						t.Errorf("%s(%q) problem %+v has no message", op, tt.in, p)
					}
				}
			})
		}
	}
}

// fieldsAndTypes drops the messages, which are for people and may change.
func fieldsAndTypes(ps []task.Problem) []task.Problem {
	out := make([]task.Problem, len(ps))
	for i, p := range ps {
		out[i] = task.Problem{Field: p.Field, Type: p.Type}
	}
	return out
}

func TestDescription(t *testing.T) {
	tests := []struct {
		name     string
		in       *string
		want     *string
		wantType string // "" means accepted
	}{
		{name: "nil", in: nil, want: nil},
		{name: "empty is kept, not nil", in: ptr(""), want: ptr("")},
		{name: "plain", in: ptr("2 litres"), want: ptr("2 litres")},
		{name: "kept as given, spaces and lines included", in: ptr("  line 1\nline 2  "), want: ptr("  line 1\nline 2  ")},
		{name: "1000 code points", in: ptr(strings.Repeat("a", 1000)), want: ptr(strings.Repeat("a", 1000))},
		{name: "1000 two-byte code points", in: ptr(strings.Repeat("é", 1000)), want: ptr(strings.Repeat("é", 1000))},
		{name: "1000 four-byte code points", in: ptr(strings.Repeat("😀", 1000)), want: ptr(strings.Repeat("😀", 1000))},

		{name: "1001 code points", in: ptr(strings.Repeat("a", 1001)), wantType: "string_too_long"},
		{name: "1001 two-byte code points", in: ptr(strings.Repeat("é", 1001)), wantType: "string_too_long"},
		{name: "1001 four-byte code points", in: ptr(strings.Repeat("😀", 1001)), wantType: "string_too_long"},
		{name: "only NUL", in: ptr("\x00"), wantType: "string_nul"},
		{name: "NUL inside", in: ptr("2\x00litres"), wantType: "string_nul"},
		{name: "invalid UTF-8", in: ptr("caf\xc3"), wantType: "string_unicode"},
	}
	for _, tt := range tests {
		for op, set := range setters {
			t.Run(op+"/"+tt.name, func(t *testing.T) {
				tk, err := set("title", tt.in)
				if tt.wantType == "" {
					if err != nil {
						t.Fatalf("%s(%s) = %v, want no error", op, show(tt.in), err)
					}
					if got := tk.Description(); !equalPtr(got, tt.want) {
						t.Errorf("%s(%s).Description() = %s, want %s", op, show(tt.in), show(got), show(tt.want))
					}
					return
				}
				if err == nil {
					t.Fatalf("%s(%s) = nil error, want a %q problem", op, show(tt.in), tt.wantType)
				}
				want := []task.Problem{{Field: "description", Type: tt.wantType}}
				if got := fieldsAndTypes(problems(t, err)); !slices.Equal(got, want) {
					t.Errorf("%s(%s) problems = %v, want %v", op, show(tt.in), got, want)
				}
			})
		}
	}
}

func equalPtr(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// show prints an optional string, keeping long ones short.
func show(p *string) string {
	if p == nil {
		return "nil"
	}
	if n := len(*p); n > 40 {
		return fmt.Sprintf("%q...(%d bytes)", strings.ToValidUTF8((*p)[:20], ""), n)
	}
	return fmt.Sprintf("%q", *p)
}

func TestOwner(t *testing.T) {
	tests := []struct {
		in     auth.UserID
		wantOK bool
	}{
		{in: "u_123", wantOK: true},
		{in: "", wantOK: false},
		{in: "   ", wantOK: false},
	}
	for _, tt := range tests {
		checks := map[string]func() (*task.Task, error){
			"New":     func() (*task.Task, error) { return task.New(tt.in, "title", nil, t0) },
			"Restore": func() (*task.Task, error) { return task.Restore(1, tt.in, "title", nil, false, t0, t0) },
		}
		for op, run := range checks {
			tk, err := run()
			if tt.wantOK {
				if err != nil {
					t.Errorf("%s(owner %q) = %v, want no error", op, tt.in, err)
				} else if tk.Owner() != tt.in {
					t.Errorf("%s(owner %q).Owner() = %q, want %q", op, tt.in, tk.Owner(), tt.in)
				}
				continue
			}
			if err == nil {
				t.Errorf("%s(owner %q) = nil error, want a user_id problem", op, tt.in)
				continue
			}
			want := []task.Problem{{Field: "user_id", Type: "missing"}}
			if got := fieldsAndTypes(problems(t, err)); !slices.Equal(got, want) {
				t.Errorf("%s(owner %q) problems = %v, want %v", op, tt.in, got, want)
			}
		}
	}
}

func TestEveryProblemIsReported(t *testing.T) {
	long := ptr(strings.Repeat("a", task.MaxDescriptionLen+1))
	tests := []struct {
		name string
		run  func() error
		want []string
	}{
		{
			name: "New",
			run: func() error {
				_, err := task.New("", " ", long, t0)
				return err
			},
			want: []string{"description", "title", "user_id"},
		},
		{
			name: "Edit",
			run: func() error {
				return mustNew(t, "ok", nil, t0).Edit("a\x00", long, t0)
			},
			want: []string{"description", "title"},
		},
		{
			name: "Restore",
			run: func() error {
				_, err := task.Restore(0, "", "", long, false, t0, t0)
				return err
			},
			want: []string{"description", "id", "title", "user_id"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run()
			if err == nil {
				t.Fatalf("%s = nil error, want problems with %v", tt.name, tt.want)
			}
			var got []string
			for _, p := range problems(t, err) {
				got = append(got, p.Field)
				if !strings.Contains(err.Error(), p.Field) {
					t.Errorf("%s error %q does not name %q", tt.name, err.Error(), p.Field)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s problem fields = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	// A time in another zone with nanoseconds, which no store keeps.
	now := time.Date(2026, 1, 5, 12, 0, 0, 123456789, time.FixedZone("UTC+2", 2*60*60))
	want := time.Date(2026, 1, 5, 10, 0, 0, 123456000, time.UTC)

	tk, err := task.New(owner, "Buy milk", nil, now)
	if err != nil {
		t.Fatalf("New(%q) = %v, want no error", "Buy milk", err)
	}
	if got := tk.ID(); got != 0 {
		t.Errorf("New().ID() = %d, want 0 until stored", got)
	}
	if got := tk.Owner(); got != owner {
		t.Errorf("New().Owner() = %q, want %q", got, owner)
	}
	if tk.Completed() {
		t.Errorf("New().Completed() = true, want false")
	}
	for name, got := range map[string]time.Time{"CreatedAt": tk.CreatedAt(), "UpdatedAt": tk.UpdatedAt()} {
		if !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("New(now=%v).%s() = %v, want %v", now, name, got, want)
		}
	}
}

// change is one way of changing a task; each must move updated_at and only it.
// changes each change a task, every time they are called (a call that
// gives the task what it has is no change: see TestNoChange).
var changes = map[string]func(tk *task.Task, now time.Time) error{
	"Edit": func(tk *task.Task, now time.Time) error {
		return tk.Edit(tk.Title()+"+", ptr("edited"), now)
	},
	"Edit(options)": func(tk *task.Task, now time.Time) error {
		return tk.Edit(tk.Title(), tk.Description(), now, task.WithTags(append(tk.Tags(), "t"+strconv.Itoa(len(tk.Tags())))))
	},
	"SetCompleted":    func(tk *task.Task, now time.Time) error { tk.SetCompleted(!tk.Completed(), now); return nil },
	"ToggleCompleted": func(tk *task.Task, now time.Time) error { tk.ToggleCompleted(now); return nil },
}

// TestNoChange: an edit or a completion that gives the task what it has
// changes nothing, updated_at included, and says so (Changed stays false,
// so that stores write nothing); every real change is Changed.
func TestNoChange(t *testing.T) {
	desc := "d"
	restore := func(t *testing.T, completed bool) *task.Task {
		t.Helper()
		at := t0
		tk, err := task.Stored{ID: 1, Owner: owner, Title: "title", Description: &desc, Completed: completed,
			Priority: task.PriorityHigh, Due: task.DueOn(t0), Tags: []string{"a", "B"}, CompletedAt: &at,
			CreatedAt: t0, UpdatedAt: t0, Version: 3}.Restore()
		if err != nil {
			t.Fatal(err)
		}
		if tk.Changed() {
			t.Fatalf("a restored task has Changed")
		}
		return tk
	}
	later := t0.Add(time.Hour)
	same := map[string]func(tk *task.Task) error{
		"Edit with the same text": func(tk *task.Task) error { return tk.Edit(tk.Title(), ptr(desc), later) },
		"Edit with the title untrimmed": func(tk *task.Task) error {
			return tk.Edit("  "+tk.Title()+"\n", ptr(desc), later)
		},
		"Edit with the same options": func(tk *task.Task) error {
			return tk.Edit(tk.Title(), ptr(desc), later, task.WithPriority("HIGH"), task.WithDue(t0.Format("2006-01-02")),
				task.WithTags([]string{"a", "B", "b"}))
		},
		"SetCompleted(false) on a pending task": func(tk *task.Task) error {
			if tk.Completed() {
				return nil
			}
			if tk.SetCompleted(false, later) {
				t.Errorf("SetCompleted(false) on a pending task reported a change")
			}
			return nil
		},
		"SetCompleted(true) on a done task": func(tk *task.Task) error {
			if !tk.Completed() {
				return nil
			}
			if tk.SetCompleted(true, later) {
				t.Errorf("SetCompleted(true) on a done task reported a change")
			}
			return nil
		},
	}
	for name, op := range same {
		for _, completed := range []bool{false, true} {
			tk := restore(t, completed)
			before := tk.Stored()
			if err := op(tk); err != nil {
				t.Fatalf("%s = %v, want no error", name, err)
			}
			after := tk.Stored()
			if tk.Changed() || !after.UpdatedAt.Equal(before.UpdatedAt) || after.Version != before.Version ||
				after.Title != before.Title || !slices.Equal(after.Tags, before.Tags) || after.Priority != before.Priority ||
				(after.CompletedAt == nil) != (before.CompletedAt == nil) {
				t.Errorf("%s (completed %v): Changed %v, task %+v, want it unchanged: %+v", name, completed, tk.Changed(), after, before)
			}
		}
	}
	for name, change := range changes {
		tk := restore(t, false)
		if err := change(tk, later); err != nil {
			t.Fatal(err)
		}
		if !tk.Changed() || !tk.UpdatedAt().Equal(later) {
			t.Errorf("%s: Changed %v, updated_at %v; want a change at %v", name, tk.Changed(), tk.UpdatedAt(), later)
		}
		if stored := tk.WithVersion(4); stored.Changed() {
			t.Errorf("%s: WithVersion (stored) still Changed", name)
		}
	}
	if tk := restore(t, true); !tk.SetCompleted(false, later) || !tk.Changed() {
		t.Errorf("SetCompleted(false) on a done task: no change reported")
	}
}

func TestChangeMovesUpdatedAt(t *testing.T) {
	tests := []struct {
		name string
		now  time.Time
		want time.Time
	}{
		{name: "later", now: t0.Add(time.Hour), want: t0.Add(time.Hour)},
		{
			name: "later, other zone, nanoseconds",
			now:  time.Date(2026, 1, 5, 12, 0, 1, 999999999, time.FixedZone("UTC+2", 2*60*60)),
			want: time.Date(2026, 1, 5, 10, 0, 1, 999999000, time.UTC),
		},
	}
	for _, tt := range tests {
		for op, change := range changes {
			t.Run(op+"/"+tt.name, func(t *testing.T) {
				tk := mustNew(t, "title", nil, t0)
				if err := change(tk, tt.now); err != nil {
					t.Fatalf("%s(now=%v) = %v, want no error", op, tt.now, err)
				}
				if got := tk.UpdatedAt(); !got.Equal(tt.want) || got.Location() != time.UTC {
					t.Errorf("%s(now=%v): UpdatedAt() = %v, want %v", op, tt.now, got, tt.want)
				}
				if got := tk.CreatedAt(); !got.Equal(t0) {
					t.Errorf("%s(now=%v): CreatedAt() = %v, want %v (unchanged)", op, tt.now, got, t0)
				}
			})
		}
	}
}

func TestUpdatedAtStrictlyIncreases(t *testing.T) {
	// Each now is relative to the task's last update, which is at t0.
	tests := []struct {
		name string
		now  time.Time
	}{
		{name: "same instant", now: t0},
		{name: "same microsecond", now: t0.Add(500 * time.Nanosecond)},
		{name: "earlier", now: t0.Add(-time.Hour)},
		{name: "much earlier", now: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		for op, change := range changes {
			t.Run(op+"/"+tt.name, func(t *testing.T) {
				tk := mustNew(t, "title", nil, t0)
				prev := tk.UpdatedAt()
				for i := range 3 { // again and again with the same clock
					if err := change(tk, tt.now); err != nil {
						t.Fatalf("%s(now=%v) = %v, want no error", op, tt.now, err)
					}
					got := tk.UpdatedAt()
					if !got.After(prev) {
						t.Errorf("%s(now=%v) #%d: UpdatedAt() = %v, want after %v", op, tt.now, i+1, got, prev)
					}
					if !got.Equal(got.Truncate(time.Microsecond)) || got.Location() != time.UTC {
						t.Errorf("%s(now=%v) #%d: UpdatedAt() = %v, want UTC in whole microseconds", op, tt.now, i+1, got)
					}
					prev = got
				}
				if got := tk.CreatedAt(); !got.Equal(t0) {
					t.Errorf("%s(now=%v): CreatedAt() = %v, want %v (unchanged)", op, tt.now, got, t0)
				}
			})
		}
	}
}

func TestFailedEditChangesNothing(t *testing.T) {
	tests := []struct {
		title string
		desc  *string
	}{
		{title: "", desc: ptr("new")},
		{title: "new", desc: ptr(strings.Repeat("a", task.MaxDescriptionLen+1))},
		{title: "\x00", desc: nil},
		{title: strings.Repeat("a", task.MaxTitleLen+1), desc: ptr("\x00")},
	}
	for _, tt := range tests {
		tk, err := task.Restore(7, owner, "old", ptr("old"), true, t0, t0.Add(time.Minute))
		if err != nil {
			t.Fatalf("Restore() = %v, want no error", err)
		}
		before := snapshot(tk)
		if err := tk.Edit(tt.title, tt.desc, t0.Add(time.Hour)); err == nil {
			t.Errorf("Edit(%q, %s) = nil error, want a validation error", tt.title, show(tt.desc))
		}
		if got := snapshot(tk); !got.equal(before) {
			t.Errorf("after failed Edit(%q, %s) task = %+v, want %+v (unchanged)", tt.title, show(tt.desc), got, before)
		}
	}
}

// view is everything a task shows, in a form tests can compare.
type view struct {
	ID          task.ID
	Owner       auth.UserID
	Title       string
	Description *string
	Completed   bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func snapshot(tk *task.Task) view {
	return view{tk.ID(), tk.Owner(), tk.Title(), tk.Description(), tk.Completed(), tk.CreatedAt(), tk.UpdatedAt()}
}

func (v view) equal(w view) bool {
	return v.ID == w.ID && v.Owner == w.Owner && v.Title == w.Title &&
		equalPtr(v.Description, w.Description) && v.Completed == w.Completed &&
		v.CreatedAt.Equal(w.CreatedAt) && v.UpdatedAt.Equal(w.UpdatedAt)
}

func TestToggleCompleted(t *testing.T) {
	for _, start := range []bool{false, true} {
		tk, err := task.Restore(1, owner, "title", nil, start, t0, t0)
		if err != nil {
			t.Fatalf("Restore() = %v, want no error", err)
		}
		tk.ToggleCompleted(t0)
		if got := tk.Completed(); got != !start {
			t.Errorf("ToggleCompleted() from %v: Completed() = %v, want %v", start, got, !start)
		}
		tk.ToggleCompleted(t0)
		if got := tk.Completed(); got != start {
			t.Errorf("ToggleCompleted() twice from %v: Completed() = %v, want %v", start, got, start)
		}
	}
}

func TestSetCompleted(t *testing.T) {
	for _, start := range []bool{false, true} {
		for _, set := range []bool{false, true} {
			tk, err := task.Restore(1, owner, "title", nil, start, t0, t0)
			if err != nil {
				t.Fatalf("Restore() = %v, want no error", err)
			}
			for i := range 2 { // setting twice gives the same value
				tk.SetCompleted(set, t0)
				if got := tk.Completed(); got != set {
					t.Errorf("SetCompleted(%v) #%d from %v: Completed() = %v, want %v", set, i+1, start, got, set)
				}
			}
		}
	}
}

func TestRestore(t *testing.T) {
	created := t0
	updated := t0.Add(90 * time.Minute)
	tests := []struct {
		name      string
		id        task.ID
		title     string
		desc      *string
		completed bool
		wantField string // "" means accepted
	}{
		{name: "valid", id: 42, title: "Buy milk", desc: ptr("2 litres"), completed: true},
		{name: "no description", id: 1, title: "Buy milk"},
		{name: "empty description", id: 1, title: "Buy milk", desc: ptr("")},
		{name: "largest id", id: 1<<63 - 1, title: "t"},
		{name: "zero id", id: 0, title: "Buy milk", wantField: "id"},
		{name: "negative id", id: -1, title: "Buy milk", wantField: "id"},
		{name: "empty title", id: 1, title: "", wantField: "title"},
		{name: "title too long", id: 1, title: strings.Repeat("a", 201), wantField: "title"},
		{name: "NUL in title", id: 1, title: "a\x00", wantField: "title"},
		{name: "description too long", id: 1, title: "t", desc: ptr(strings.Repeat("a", 1001)), wantField: "description"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk, err := task.Restore(tt.id, owner, tt.title, tt.desc, tt.completed, created, updated)
			if tt.wantField != "" {
				if err == nil {
					t.Fatalf("Restore(%d, %q) = nil error, want a %q problem", tt.id, tt.title, tt.wantField)
				}
				ps := problems(t, err)
				if len(ps) != 1 || ps[0].Field != tt.wantField {
					t.Errorf("Restore(%d, %q) problems = %v, want one for %q", tt.id, tt.title, ps, tt.wantField)
				}
				if tk != nil {
					t.Errorf("Restore(%d, %q) returned a task with its error", tt.id, tt.title)
				}
				return
			}
			if err != nil {
				t.Fatalf("Restore(%d, %q) = %v, want no error", tt.id, tt.title, err)
			}
			want := view{tt.id, owner, tt.title, tt.desc, tt.completed, created, updated}
			if got := snapshot(tk); !got.equal(want) {
				t.Errorf("Restore(%d, %q) = %+v, want %+v", tt.id, tt.title, got, want)
			}
		})
	}
}

func TestRestoreCleansTimes(t *testing.T) {
	zone := time.FixedZone("UTC-5", -5*60*60)
	created := time.Date(2026, 1, 5, 5, 0, 0, 1999, zone)
	updated := time.Date(2026, 1, 5, 6, 0, 0, 2999, zone)
	tk, err := task.Restore(1, owner, "t", nil, false, created, updated)
	if err != nil {
		t.Fatalf("Restore() = %v, want no error", err)
	}
	for _, c := range []struct {
		name      string
		got, want time.Time
	}{
		{"CreatedAt", tk.CreatedAt(), time.Date(2026, 1, 5, 10, 0, 0, 1000, time.UTC)},
		{"UpdatedAt", tk.UpdatedAt(), time.Date(2026, 1, 5, 11, 0, 0, 2000, time.UTC)},
	} {
		if !c.got.Equal(c.want) || c.got.Location() != time.UTC {
			t.Errorf("Restore().%s() = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestDescriptionIsACopy(t *testing.T) {
	in := "original"
	tk := mustNew(t, "title", &in, t0)

	in = "changed by the caller"
	if got := tk.Description(); got == nil || *got != "original" {
		t.Errorf("after changing New's argument, Description() = %s, want %q", show(got), "original")
	}

	d := tk.Description()
	*d = "changed through the getter"
	if got := tk.Description(); got == nil || *got != "original" {
		t.Errorf("after changing Description()'s result, Description() = %s, want %q", show(got), "original")
	}
}

func TestWithID(t *testing.T) {
	tk := mustNew(t, "title", ptr("desc"), t0)
	c := tk.WithID(9)
	if got := c.ID(); got != 9 {
		t.Errorf("WithID(9).ID() = %d, want 9", got)
	}
	if got := tk.ID(); got != 0 {
		t.Errorf("after WithID(9), the original's ID() = %d, want 0", got)
	}
	before := snapshot(tk)
	if err := c.Edit("other", nil, t0.Add(time.Hour)); err != nil {
		t.Fatalf("Edit() = %v, want no error", err)
	}
	c.ToggleCompleted(t0.Add(time.Hour))
	if got := snapshot(tk); !got.equal(before) {
		t.Errorf("changing the copy changed the original: %+v, want %+v", got, before)
	}
}
