package application_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // zones whatever the machine has

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/domain/user"
)

// start is in another zone and has nanoseconds, which the service must not keep.
var start = time.Date(2026, 1, 5, 12, 0, 0, 123456789, time.FixedZone("UTC+2", 2*60*60))

// clock is a controllable application.Clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// clean is what a task keeps of a time: UTC, whole microseconds.
func clean(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func ptr[T any](v T) *T { return &v }

var (
	alice = auth.Identity{UserID: "u_alice", Email: "alice@example.com", Name: "Alice"}
	bob   = auth.Identity{UserID: "u_bob", Email: "bob@example.com", Name: "Bob"}
)

func newService(t *testing.T) (*application.Service, *clock) {
	t.Helper()
	c := &clock{t: start}
	return application.New(memory.NewTaskRepository(), memory.NewUserRepository(), c.now), c
}

func authorize(t *testing.T, s *application.Service, id auth.Identity) application.Actor {
	t.Helper()
	a, err := s.Authorize(context.Background(), id, string(id.UserID))
	if err != nil {
		t.Fatalf("Authorize(%q) = %v, want no error", id.UserID, err)
	}
	return a
}

func create(t *testing.T, s *application.Service, a application.Actor, title string, desc *string) *task.Task {
	t.Helper()
	tk, err := s.CreateTask(context.Background(), a, title, desc)
	if err != nil {
		t.Fatalf("CreateTask(%q) = %v, want no error", title, err)
	}
	return tk
}

func TestAuthorize(t *testing.T) {
	type call struct {
		id   auth.Identity
		path string
		want error // nil means admitted
	}
	with := func(id auth.Identity, email string) auth.Identity { id.Email = email; return id }
	tests := []struct {
		name  string
		calls []call
	}{
		{"own tasks", []call{{alice, "u_alice", nil}}},
		{"another user's tasks", []call{{alice, "u_bob", auth.ErrForbidden}}},
		{"path differs in case", []call{{alice, "U_ALICE", auth.ErrForbidden}}},
		{"empty user id", []call{{auth.Identity{Email: "x@example.com"}, "", auth.ErrUnauthenticated}}},
		{"empty user id, other path", []call{{auth.Identity{}, "u_alice", auth.ErrUnauthenticated}}},
		{"same user again", []call{{alice, "u_alice", nil}, {alice, "u_alice", nil}}},
		{"same user, email in other case", []call{
			{alice, "u_alice", nil},
			{with(alice, " ALICE@Example.com "), "u_alice", nil},
		}},
		{"email held by another user", []call{
			{alice, "u_alice", nil},
			{with(bob, "alice@example.com"), "u_bob", user.ErrEmailTaken},
		}},
		{"email held by another user, other case", []call{
			{alice, "u_alice", nil},
			{with(bob, " Alice@EXAMPLE.com"), "u_bob", user.ErrEmailTaken},
		}},
		{"a refusal is not remembered as a success", []call{
			{alice, "u_alice", nil},
			{with(bob, "alice@example.com"), "u_bob", user.ErrEmailTaken},
			{with(bob, "alice@example.com"), "u_bob", user.ErrEmailTaken},
		}},
		{"the holder still gets in", []call{
			{alice, "u_alice", nil},
			{with(bob, "alice@example.com"), "u_bob", user.ErrEmailTaken},
			{alice, "u_alice", nil},
		}},
		{"an email freed by its holder", []call{
			{alice, "u_alice", nil},
			{with(alice, "alice@new.example.com"), "u_alice", nil},
			{with(bob, "alice@example.com"), "u_bob", nil},
		}},
		{"an old email taken over meanwhile", []call{
			{alice, "u_alice", nil},
			{with(alice, "alice@new.example.com"), "u_alice", nil},
			{with(bob, "alice@example.com"), "u_bob", nil},
			{alice, "u_alice", user.ErrEmailTaken},
		}},
		{"users without an email", []call{
			{with(alice, ""), "u_alice", nil},
			{with(bob, ""), "u_bob", nil},
		}},
		{"forbidden before the email is looked at", []call{
			{alice, "u_alice", nil},
			{with(bob, "alice@example.com"), "u_alice", auth.ErrForbidden},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newService(t)
			for i, c := range tt.calls {
				a, err := s.Authorize(context.Background(), c.id, c.path)
				if c.want == nil {
					if err != nil {
						t.Fatalf("call %d: Authorize(%q <%s>, %q) = %v, want no error", i+1, c.id.UserID, c.id.Email, c.path, err)
					}
					if got := a.Owner(); got != c.id.UserID {
						t.Errorf("call %d: Authorize(%q, %q).Owner() = %q, want %q", i+1, c.id.UserID, c.path, got, c.id.UserID)
					}
					continue
				}
				if !errors.Is(err, c.want) {
					t.Fatalf("call %d: Authorize(%q <%s>, %q) = %v, want %v", i+1, c.id.UserID, c.id.Email, c.path, err, c.want)
				}
				// The three refusals map to different statuses (401, 403, 409).
				for _, other := range []error{auth.ErrUnauthenticated, auth.ErrForbidden, user.ErrEmailTaken} {
					if other != c.want && errors.Is(err, other) {
						t.Errorf("call %d: Authorize(%q, %q) = %v, which is also %v", i+1, c.id.UserID, c.path, err, other)
					}
				}
			}
		})
	}
}

// countingUsers counts the Saves that reach the repository.
type countingUsers struct {
	user.Repository
	saves int
}

func (c *countingUsers) Save(ctx context.Context, u user.User) error {
	c.saves++
	return c.Repository.Save(ctx, u)
}

func TestAuthorizeSavesOnlyChanges(t *testing.T) {
	users := &countingUsers{Repository: memory.NewUserRepository()}
	s := application.New(memory.NewTaskRepository(), users, (&clock{t: start}).now)
	renamed := alice
	renamed.Name = "Alice Smith"
	recased := renamed
	recased.Email = "ALICE@example.com"
	steps := []struct {
		id        auth.Identity
		wantSaves int
	}{
		{alice, 1},
		{alice, 1},
		{alice, 1},
		{renamed, 2},
		{recased, 2}, // the same user once the email is lower-cased
		{bob, 3},
		{alice, 4},
	}
	for i, st := range steps {
		authorize(t, s, st.id)
		if users.saves != st.wantSaves {
			t.Errorf("step %d: after Authorize(%+v), Saves = %d, want %d", i+1, st.id, users.saves, st.wantSaves)
		}
	}
}

// view is everything a task shows, in a form tests can compare.
type view struct {
	ID          task.ID
	Owner       auth.UserID
	Title       string
	Description string // "<nil>" for none
	Completed   bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func snapshot(tk *task.Task) view {
	d := "<nil>"
	if p := tk.Description(); p != nil {
		d = fmt.Sprintf("%q", *p)
	}
	return view{tk.ID(), tk.Owner(), tk.Title(), d, tk.Completed(), tk.CreatedAt(), tk.UpdatedAt()}
}

func (v view) equal(w view) bool {
	return v.ID == w.ID && v.Owner == w.Owner && v.Title == w.Title && v.Description == w.Description &&
		v.Completed == w.Completed && v.CreatedAt.Equal(w.CreatedAt) && v.UpdatedAt.Equal(w.UpdatedAt)
}

// stored fails unless GetTask hands back exactly want.
func stored(t *testing.T, s *application.Service, a application.Actor, want *task.Task) {
	t.Helper()
	got, err := s.GetTask(context.Background(), a, want.ID())
	if err != nil {
		t.Fatalf("GetTask(%d) = %v, want no error", want.ID(), err)
	}
	if g, w := snapshot(got), snapshot(want); !g.equal(w) {
		t.Errorf("GetTask(%d) = %+v, want %+v", want.ID(), g, w)
	}
}

func TestCreateTask(t *testing.T) {
	tests := []struct {
		title     string
		desc      *string
		wantTitle string
		wantDesc  string
	}{
		{title: "Buy milk", desc: nil, wantTitle: "Buy milk", wantDesc: "<nil>"},
		{title: "  Buy milk\n", desc: ptr("2 litres"), wantTitle: "Buy milk", wantDesc: `"2 litres"`},
		{title: "Buy milk", desc: ptr(""), wantTitle: "Buy milk", wantDesc: `""`},
	}
	for _, tt := range tests {
		s, _ := newService(t)
		a := authorize(t, s, alice)
		got := create(t, s, a, tt.title, tt.desc)
		want := view{
			ID: 1, Owner: alice.UserID, Title: tt.wantTitle, Description: tt.wantDesc,
			CreatedAt: clean(start), UpdatedAt: clean(start),
		}
		if g := snapshot(got); !g.equal(want) {
			t.Errorf("CreateTask(%q) = %+v, want %+v", tt.title, g, want)
		}
		stored(t, s, a, got)
	}
}

func TestCreateTaskInvalid(t *testing.T) {
	s, _ := newService(t)
	a := authorize(t, s, alice)
	_, err := s.CreateTask(context.Background(), a, " ", ptr("\x00"))
	var ve *task.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 2 {
		t.Fatalf("CreateTask(%q, %q) = %v, want a ValidationError with 2 problems", " ", "\x00", err)
	}
	page, err := s.ListTasks(context.Background(), a, task.Query{})
	if list := page.Tasks; err != nil || len(list) != 0 {
		t.Errorf("after a refused CreateTask, ListTasks() = %d tasks, %v, want none", len(page.Tasks), err)
	}
}

func TestListTasks(t *testing.T) {
	s, c := newService(t)
	ctx := context.Background()
	a := authorize(t, s, alice)
	b := authorize(t, s, bob)
	for _, title := range []string{"first", "second", "third"} {
		create(t, s, a, title, nil)
		c.advance(time.Second)
	}
	create(t, s, b, "bob's", nil)
	if _, err := s.CompleteTask(ctx, a, 2, task.AnyVersion, nil); err != nil {
		t.Fatalf("CompleteTask(2) = %v, want no error", err)
	}

	tests := []struct {
		actor  application.Actor
		status task.Status
		want   []string
	}{
		{a, "", []string{"first", "second", "third"}},
		{a, task.StatusAll, []string{"first", "second", "third"}},
		{a, task.StatusPending, []string{"first", "third"}},
		{a, task.StatusCompleted, []string{"second"}},
		{b, task.StatusAll, []string{"bob's"}},
		{b, task.StatusCompleted, []string{}},
	}
	for _, tt := range tests {
		page, err := s.ListTasks(ctx, tt.actor, task.Query{Statuses: []task.Status{tt.status}})
		list := page.Tasks
		if err != nil {
			t.Fatalf("ListTasks(%q, %q) = %v, want no error", tt.actor.Owner(), tt.status, err)
		}
		if list == nil {
			t.Errorf("ListTasks(%q, %q) = nil, want a non-nil slice", tt.actor.Owner(), tt.status)
		}
		got := []string{}
		for _, tk := range list {
			got = append(got, tk.Title())
			if tk.Owner() != tt.actor.Owner() {
				t.Errorf("ListTasks(%q) returned a task of %q", tt.actor.Owner(), tk.Owner())
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ListTasks(%q, %q) = %q, want %q", tt.actor.Owner(), tt.status, got, tt.want)
		}
	}
}

func TestReplaceTask(t *testing.T) {
	tests := []struct {
		name          string
		wasCompleted  bool
		title         string
		desc          *string
		completed     *bool
		wantTitle     string
		wantDesc      string
		wantCompleted bool
	}{
		{name: "title and description", title: " New ", desc: ptr("new"), wantTitle: "New", wantDesc: `"new"`},
		{name: "nil description clears it", title: "New", desc: nil, wantTitle: "New", wantDesc: "<nil>"},
		{name: "empty description is kept", title: "New", desc: ptr(""), wantTitle: "New", wantDesc: `""`},
		{name: "nil completed keeps false", title: "New", wantTitle: "New", wantDesc: "<nil>"},
		{name: "nil completed keeps true", wasCompleted: true, title: "New", wantTitle: "New", wantDesc: "<nil>", wantCompleted: true},
		{name: "completed set", title: "New", completed: ptr(true), wantTitle: "New", wantDesc: "<nil>", wantCompleted: true},
		{name: "completed cleared", wasCompleted: true, title: "New", completed: ptr(false), wantTitle: "New", wantDesc: "<nil>"},
		{name: "completed set again", wasCompleted: true, title: "New", completed: ptr(true), wantTitle: "New", wantDesc: "<nil>", wantCompleted: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := newService(t)
			ctx := context.Background()
			a := authorize(t, s, alice)
			before := create(t, s, a, "Old", ptr("old"))
			if tt.wasCompleted {
				c.advance(time.Second)
				var err error
				if before, err = s.CompleteTask(ctx, a, before.ID(), task.AnyVersion, ptr(true)); err != nil {
					t.Fatalf("CompleteTask(true) = %v, want no error", err)
				}
			}
			c.advance(time.Minute)

			got, err := s.ReplaceTask(ctx, a, before.ID(), task.AnyVersion, tt.title, tt.desc, tt.completed)
			if err != nil {
				t.Fatalf("ReplaceTask(%q) = %v, want no error", tt.title, err)
			}
			g := snapshot(got)
			if g.ID != before.ID() || g.Title != tt.wantTitle || g.Description != tt.wantDesc || g.Completed != tt.wantCompleted {
				t.Errorf("ReplaceTask(%q) = %+v, want title %q, description %s, completed %v",
					tt.title, g, tt.wantTitle, tt.wantDesc, tt.wantCompleted)
			}
			if !g.CreatedAt.Equal(clean(start)) {
				t.Errorf("ReplaceTask(%q).CreatedAt() = %v, want %v (unchanged)", tt.title, g.CreatedAt, clean(start))
			}
			if !g.UpdatedAt.After(before.UpdatedAt()) || g.UpdatedAt.Before(clean(c.now())) {
				t.Errorf("ReplaceTask(%q).UpdatedAt() = %v, want at least %v", tt.title, g.UpdatedAt, clean(c.now()))
			}
			stored(t, s, a, got)
		})
	}
}

func TestReplaceTaskInvalidChangesNothing(t *testing.T) {
	s, c := newService(t)
	ctx := context.Background()
	a := authorize(t, s, alice)
	before := create(t, s, a, "Old", ptr("old"))
	c.advance(time.Minute)

	got, err := s.ReplaceTask(ctx, a, before.ID(), task.AnyVersion, "", ptr("new"), ptr(true))
	var ve *task.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Field != "title" {
		t.Fatalf("ReplaceTask(%q) = %v, %v, want a ValidationError on title", "", got, err)
	}
	stored(t, s, a, before)
}

func TestCompleteTask(t *testing.T) {
	tests := []struct {
		was       bool
		completed *bool
		want      bool
	}{
		{was: false, completed: nil, want: true},
		{was: true, completed: nil, want: false},
		{was: false, completed: ptr(true), want: true},
		{was: true, completed: ptr(true), want: true},
		{was: false, completed: ptr(false), want: false},
		{was: true, completed: ptr(false), want: false},
	}
	for _, tt := range tests {
		name := "nil"
		if tt.completed != nil {
			name = fmt.Sprint(*tt.completed)
		}
		t.Run(fmt.Sprintf("from %v with %s", tt.was, name), func(t *testing.T) {
			s, c := newService(t)
			ctx := context.Background()
			a := authorize(t, s, alice)
			before := create(t, s, a, "title", ptr("desc"))
			if tt.was {
				var err error
				if before, err = s.ReplaceTask(ctx, a, before.ID(), task.AnyVersion, "title", ptr("desc"), ptr(true)); err != nil {
					t.Fatalf("ReplaceTask(completed=true) = %v, want no error", err)
				}
			}
			c.advance(time.Minute)

			got, err := s.CompleteTask(ctx, a, before.ID(), task.AnyVersion, tt.completed)
			if err != nil {
				t.Fatalf("CompleteTask(%s) = %v, want no error", name, err)
			}
			if got.Completed() != tt.want {
				t.Errorf("CompleteTask(%s) from %v: Completed() = %v, want %v", name, tt.was, got.Completed(), tt.want)
			}
			want, wantVersion := snapshot(before), before.Version()
			want.Completed = tt.want
			if tt.want != tt.was {
				// A change; setting the value the task has is none: it
				// keeps its updated_at and version (issue 14 item 11).
				want.UpdatedAt, wantVersion = clean(c.now()), wantVersion+1
			}
			if g := snapshot(got); !g.equal(want) || got.Version() != wantVersion {
				t.Errorf("CompleteTask(%s) = %+v version %d, want %+v version %d", name, g, got.Version(), want, wantVersion)
			}
			stored(t, s, a, got)
		})
	}
}

func TestDeleteTask(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	a := authorize(t, s, alice)
	gone := create(t, s, a, "gone", nil)
	kept := create(t, s, a, "kept", nil)

	if err := s.DeleteTask(ctx, a, gone.ID(), task.AnyVersion); err != nil {
		t.Fatalf("DeleteTask(%d) = %v, want no error", gone.ID(), err)
	}
	if _, err := s.GetTask(ctx, a, gone.ID()); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("GetTask(%d) after delete = %v, want %v", gone.ID(), err, task.ErrNotFound)
	}
	if err := s.DeleteTask(ctx, a, gone.ID(), task.AnyVersion); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("DeleteTask(%d) again = %v, want %v", gone.ID(), err, task.ErrNotFound)
	}
	stored(t, s, a, kept)
}

// TestAnotherActorsTask checks every use case on a task of someone else, and
// on one that does not exist: both are ErrNotFound, and nothing changes.
func TestAnotherActorsTask(t *testing.T) {
	s, c := newService(t)
	ctx := context.Background()
	a := authorize(t, s, alice)
	b := authorize(t, s, bob)
	tk := create(t, s, a, "alice's", ptr("private"))
	c.advance(time.Minute)

	ops := map[string]func(application.Actor, task.ID) error{
		"GetTask": func(x application.Actor, id task.ID) error {
			_, err := s.GetTask(ctx, x, id)
			return err
		},
		"ReplaceTask": func(x application.Actor, id task.ID) error {
			_, err := s.ReplaceTask(ctx, x, id, task.AnyVersion, "mine now", nil, ptr(true))
			return err
		},
		"ReplaceTask(invalid)": func(x application.Actor, id task.ID) error {
			_, err := s.ReplaceTask(ctx, x, id, task.AnyVersion, "", nil, nil)
			return err
		},
		"CompleteTask": func(x application.Actor, id task.ID) error {
			_, err := s.CompleteTask(ctx, x, id, task.AnyVersion, nil)
			return err
		},
		"DeleteTask": func(x application.Actor, id task.ID) error {
			return s.DeleteTask(ctx, x, id, task.AnyVersion)
		},
	}
	targets := []struct {
		name  string
		actor application.Actor
		id    task.ID
	}{
		{"alice's task as bob", b, tk.ID()},
		{"missing task", a, tk.ID() + 100},
	}
	for _, target := range targets {
		for name, op := range ops {
			if err := op(target.actor, target.id); !errors.Is(err, task.ErrNotFound) {
				t.Errorf("%s(%s) = %v, want %v", name, target.name, err, task.ErrNotFound)
			}
		}
	}
	stored(t, s, a, tk)
	if page, err := s.ListTasks(ctx, b, task.Query{}); err != nil || len(page.Tasks) != 0 {
		t.Errorf("ListTasks(bob) = %d tasks, %v, want none", len(page.Tasks), err)
	}
}

func TestCreateAndReplaceWithDetails(t *testing.T) {
	s, c := newService(t)
	ctx := context.Background()
	a := authorize(t, s, alice)
	tk, err := s.CreateTask(ctx, a, "t", nil, task.WithPriority("HIGH"), task.WithDue("2026-03-01"), task.WithTags([]string{"x", "X", "y"}))
	if err != nil {
		t.Fatalf("CreateTask(details) = %v", err)
	}
	if tk.Priority() != task.PriorityHigh || tk.Due().String() != "2026-03-01" || !slices.Equal(tk.Tags(), []string{"x", "y"}) {
		t.Errorf("CreateTask(details) = %q %q %q, want high, 2026-03-01, [x y]", tk.Priority(), tk.Due(), tk.Tags())
	}
	stored(t, s, a, tk)

	// Without options, PUT keeps them; with some, it changes only those.
	c.advance(time.Minute)
	got, err := s.ReplaceTask(ctx, a, tk.ID(), task.AnyVersion, "t2", nil, ptr(true))
	if err != nil || got.Priority() != task.PriorityHigh || got.Due().String() != "2026-03-01" || !slices.Equal(got.Tags(), []string{"x", "y"}) {
		t.Errorf("ReplaceTask(no options) = %v, %v, want the details kept", got, err)
	}
	if at := got.CompletedAt(); at == nil || !at.Equal(got.UpdatedAt()) {
		t.Errorf("ReplaceTask(completed) CompletedAt() = %v, want %v", at, got.UpdatedAt())
	}
	got, err = s.ReplaceTask(ctx, a, tk.ID(), task.AnyVersion, "t2", nil, nil, task.WithDue(""), task.WithTags(nil))
	if err != nil || got.Priority() != task.PriorityHigh || !got.Due().IsZero() || len(got.Tags()) != 0 || got.CompletedAt() == nil {
		t.Errorf("ReplaceTask(clear due and tags) = %v, %v", got, err)
	}
	stored(t, s, a, got)

	// A refused option refuses the whole change.
	if _, err := s.ReplaceTask(ctx, a, tk.ID(), task.AnyVersion, "t3", nil, nil, task.WithPriority("urgent")); err == nil {
		t.Errorf("ReplaceTask(bad priority) = nil error")
	}
	if again, _ := s.GetTask(ctx, a, tk.ID()); again.Title() != "t2" {
		t.Errorf("after a refused ReplaceTask the title is %q, want t2", again.Title())
	}
}

func TestListTasksQuery(t *testing.T) {
	s, c := newService(t)
	ctx := context.Background()
	a := authorize(t, s, alice)
	late := create(t, s, a, "late", nil)
	if _, err := s.ReplaceTask(ctx, a, late.ID(), task.AnyVersion, "late", nil, nil, task.WithDue(clean(c.now()).Add(time.Hour).Format(time.RFC3339))); err != nil {
		t.Fatal(err)
	}
	create(t, s, a, "later", nil)

	yes := true
	page, err := s.ListTasks(ctx, a, task.Query{Overdue: &yes})
	if err != nil || len(page.Tasks) != 0 {
		t.Errorf("ListTasks(overdue) before the due time = %d tasks, %v, want none", len(page.Tasks), err)
	}
	// The service's clock, not the caller's, decides what is overdue.
	c.advance(2 * time.Hour)
	page, err = s.ListTasks(ctx, a, task.Query{Overdue: &yes, Now: start.Add(-24 * time.Hour)})
	if err != nil || len(page.Tasks) != 1 || page.Tasks[0].ID() != late.ID() || page.Total != 1 {
		t.Errorf("ListTasks(overdue) after the due time = %v (total %d), %v, want [%d]", page.Tasks, page.Total, err, late.ID())
	}

	page, err = s.ListTasks(ctx, a, task.Query{Limit: 1, Sort: task.SortTitle, Order: task.OrderDesc})
	if err != nil || len(page.Tasks) != 1 || page.Tasks[0].Title() != "later" || page.Next == nil || page.Total != 2 {
		t.Fatalf("ListTasks(limit 1, title desc) = %v, next %v, total %d, %v", page.Tasks, page.Next, page.Total, err)
	}
	page, err = s.ListTasks(ctx, a, task.Query{Limit: 1, Sort: task.SortTitle, Order: task.OrderDesc, After: page.Next})
	if err != nil || len(page.Tasks) != 1 || page.Tasks[0].Title() != "late" || page.Next != nil {
		t.Errorf("ListTasks(next page) = %v, next %v, %v, want [late] and no next", page.Tasks, page.Next, err)
	}

	_, err = s.ListTasks(ctx, a, task.Query{Sort: "name", Limit: -1})
	var ve *task.ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 2 {
		t.Errorf("ListTasks(bad sort and limit) = %v, want a ValidationError with 2 problems", err)
	}
}

func TestTagsAndStats(t *testing.T) {
	s, c := newService(t)
	ctx := context.Background()
	a := authorize(t, s, alice)
	b := authorize(t, s, bob)
	for _, tags := range [][]string{{"Home", "work"}, {"home"}, nil} {
		if _, err := s.CreateTask(ctx, a, "t", nil, task.WithTags(tags), task.WithDue("2026-01-05")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CreateTask(ctx, b, "bob's", nil, task.WithTags([]string{"secret"})); err != nil {
		t.Fatal(err)
	}
	tags, err := s.ListTags(ctx, a)
	if want := []task.TagCount{{Name: "Home", Count: 2}, {Name: "work", Count: 1}}; err != nil || !slices.Equal(tags, want) {
		t.Errorf("ListTags(alice) = %+v, %v, want %+v", tags, err, want)
	}

	// start is 5 January 10:00 UTC: the tasks are due today in UTC, and
	// overdue where 5 January is over (Kiritimati, UTC+14).
	kiritimati, err := time.LoadLocation("Pacific/Kiritimati")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		zone              *time.Location
		overdue, dueToday int
	}{
		{nil, 0, 3},
		{kiritimati, 3, 0},
	} {
		st, err := s.TaskStats(ctx, a, tt.zone)
		if err != nil || st.Total != 3 || st.Pending != 3 || st.Overdue != tt.overdue || st.DueToday != tt.dueToday || st.ByPriority[task.PriorityMedium] != 3 {
			t.Errorf("TaskStats(%v) = %+v, %v, want 3 pending, %d overdue, %d due today, 3 medium", tt.zone, st, err, tt.overdue, tt.dueToday)
		}
	}
	c.advance(24 * time.Hour)
	if st, err := s.TaskStats(ctx, a, nil); err != nil || st.Overdue != 3 {
		t.Errorf("TaskStats a day later = %+v, %v, want 3 overdue", st, err)
	}
}
