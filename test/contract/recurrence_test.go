package contract

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

// recurStore is a store's repositories with its history of repeating
// tasks and its transactor (issue 18).
type recurStore struct {
	txStore
	occ task.OccurrenceLog
}

var recurStores = map[string]func(*testing.T) recurStore{
	"memory": func(*testing.T) recurStore {
		s := memory.NewStore()
		s.SetFeedCheck(true) // every commit also compared with the whole store
		return recurStore{txStore{tasks: s.Tasks(), lists: s.Lists(), users: s.Users(), keys: s.Keys(), tx: s}, s.Occurrences()}
	},
	"sqlite": func(t *testing.T) recurStore {
		db := openSQLiteDB(t)
		return recurStore{sqlTxStore(db), sqlstore.NewOccurrenceLog(db)}
	},
	"postgres": func(t *testing.T) recurStore {
		db := openPostgresDB(t)
		return recurStore{sqlTxStore(db), sqlstore.NewOccurrenceLog(db)}
	},
}

func (s recurStore) service(clock application.Clock) *application.Service {
	return application.New(s.tasks, s.users, clock, application.WithTransactor(s.tx),
		application.WithLists(s.lists), application.WithOccurrences(s.occ))
}

func actorOf(t *testing.T, svc *application.Service, owner auth.UserID) application.Actor {
	t.Helper()
	a, err := svc.Authorize(context.Background(), auth.Identity{UserID: owner, Email: string(owner) + "@example.com"}, string(owner))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestRecurrence(t *testing.T) {
	t.Parallel()
	for name, open := range recurStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			for _, tc := range []struct {
				name string
				run  func(*testing.T, recurStore)
			}{
				{"round trip", testRecurRoundTrip},
				{"complete and skip", testRecurComplete},
				{"concurrent completions", testRecurConcurrent},
				{"history", testRecurHistory},
				{"overdue and stats", testRecurOverdue},
			} {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, s) })
			}
		})
	}
}

// Every store keeps the zone, floating and the recurrence as given.
func testRecurRoundTrip(t *testing.T, s recurStore) {
	ctx := context.Background()
	owner := newOwner()
	for _, opts := range [][]task.Option{
		{task.WithDue("2026-10-16T17:00:00"), task.WithDueZone("Europe/Paris"), task.WithRecurrence("FREQ=WEEKLY;INTERVAL=2;BYDAY=FR;COUNT=10", "due"),
			task.WithReminders([]task.ReminderInput{{Before: ref("PT15M")}, {At: ref("2026-10-16T16:00:00.5+02:00")}})},
		{task.WithDue("2026-03-01T09:00:00.25"), task.WithDueFloating(true), task.WithRecurrence("FREQ=DAILY;INTERVAL=3", "completion")},
		{task.WithDue("2026-01-31"), task.WithRecurrence("FREQ=MONTHLY;BYMONTHDAY=-1;UNTIL=20271231", "due")},
		{task.WithDue("2026-03-01T09:00:00Z")},
	} {
		tk := mustAdd(t, s.tasks, mustNewWith(t, owner, "r", base, opts...))
		got, err := s.tasks.Get(ctx, owner, tk.ID())
		if err != nil || !reflect.DeepEqual(got.Stored(), tk.Stored()) {
			t.Fatalf("Get = %+v, %v; want %+v", got.Stored(), err, tk.Stored())
		}
		// The same values are no write.
		same, err := s.tasks.Update(ctx, owner, tk.ID(), task.AnyVersion, func(t *task.Task) error {
			return t.Edit(t.Title(), t.Description(), base.Add(time.Hour), opts...)
		})
		if err != nil || same.Version() != tk.Version() || !same.UpdatedAt().Equal(tk.UpdatedAt()) {
			t.Errorf("an edit to the same values: version %d, updated %v, %v", same.Version(), same.UpdatedAt(), err)
		}
		page, err := s.tasks.List(ctx, owner, mustQuery(t, task.Query{}))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Tasks {
			if p.ID() == tk.ID() && !reflect.DeepEqual(p.Stored(), tk.Stored()) {
				t.Errorf("List = %+v, want %+v", p.Stored(), tk.Stored())
			}
		}
	}
}

func mustQuery(t *testing.T, q task.Query) task.Query {
	t.Helper()
	q, err := q.Normalized()
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func testRecurComplete(t *testing.T, s recurStore) {
	ctx := context.Background()
	svc := s.service(func() time.Time { return base })
	owner := newOwner()
	a := actorOf(t, svc, owner)
	tk, err := svc.CreateTask(ctx, a, "water", nil, task.WithDue("2026-03-01"), task.WithRecurrence("FREQ=DAILY;COUNT=3", "due"))
	if err != nil {
		t.Fatal(err)
	}
	child, err := svc.CreateTaskAt(ctx, a, application.Home{Parent: ref(tk.ID())}, "step", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CompleteTask(ctx, a, child.ID(), task.AnyVersion, nil); err != nil {
		t.Fatal(err)
	}
	next, err := svc.CompleteOccurrence(ctx, a, tk.ID(), task.AnyVersion, nil, "2026-03-01")
	if err != nil || next.Due().String() != "2026-03-02" || next.Completed() || next.Version() != tk.Version()+1 || next.ID() != tk.ID() {
		t.Fatalf("complete 1 March = %v %v v%d, %v", next.Due(), next.Completed(), next.Version(), err)
	}
	if c, _ := s.tasks.Get(ctx, owner, child.ID()); c.Completed() {
		t.Errorf("the subtask stayed completed")
	}
	again, err := svc.CompleteOccurrence(ctx, a, tk.ID(), task.AnyVersion, nil, "2026-03-01")
	if err != nil || again.Version() != next.Version() || again.Due().String() != "2026-03-02" {
		t.Errorf("a replayed completion: %v v%d, %v", again.Due(), again.Version(), err)
	}
	skipped, err := svc.SkipOccurrence(ctx, a, tk.ID(), task.AnyVersion, "")
	if err != nil || skipped.Due().String() != "2026-03-03" {
		t.Fatalf("skip = %v, %v", skipped.Due(), err)
	}
	done, err := svc.CompleteTask(ctx, a, tk.ID(), task.AnyVersion, nil)
	if err != nil || !done.Completed() || done.RecurrencePassed() != 3 {
		t.Errorf("the last occurrence: completed %v, passed %d, %v", done.Completed(), done.RecurrencePassed(), err)
	}
	// If-Match: the version read must still be the task's.
	other, _ := svc.CreateTask(ctx, a, "weekly", nil, task.WithDue("2026-03-06"), task.WithRecurrence("FREQ=WEEKLY", "due"))
	if _, err := svc.CompleteOccurrence(ctx, a, other.ID(), other.Version()+1, nil, ""); !isConflict(err) {
		t.Errorf("complete with a stale If-Match: %v, want a conflict", err)
	}
	// Bulk complete passes occurrences of repeating tasks too.
	ts, err := svc.UpdateTasks(ctx, a, []task.ID{other.ID()}, application.BulkSet{Completed: ref(true)})
	if err != nil || ts[0].Completed() || ts[0].Due().String() != "2026-03-13" {
		t.Errorf("bulk complete of a weekly task: %v %v, %v", ts[0].Due(), ts[0].Completed(), err)
	}
	h, err := svc.OccurrenceHistory(ctx, a, other.ID(), 10)
	if err != nil || len(h) != 1 || h[0].Due.String() != "2026-03-06" || h[0].Kind != task.OccurrenceCompleted {
		t.Errorf("history after a bulk complete = %v, %v", h, err)
	}
}

func ref[T any](v T) *T { return &v }

func isConflict(err error) bool {
	_, ok := errors.AsType[*task.ConflictError](err)
	return ok
}

// Completing the same occurrence from many clients at once moves the task
// on exactly once.
func testRecurConcurrent(t *testing.T, s recurStore) {
	ctx := context.Background()
	svc := s.service(nil)
	owner := newOwner()
	a := actorOf(t, svc, owner)
	tk, err := svc.CreateTask(ctx, a, "friday", nil, task.WithDue("2026-10-16T17:00:00"), task.WithDueZone("Europe/Paris"),
		task.WithRecurrence("FREQ=WEEKLY;INTERVAL=2;BYDAY=FR", "due"))
	if err != nil {
		t.Fatal(err)
	}
	occ := tk.Due().String()
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() {
			if _, err := svc.CompleteOccurrence(ctx, a, tk.ID(), task.AnyVersion, nil, occ); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("a concurrent completion: %v", err)
	}
	got, err := s.tasks.Get(ctx, owner, tk.ID())
	if err != nil || got.Version() != 2 || got.Due().String() != "2026-10-30T16:00:00Z" {
		t.Errorf("after 10 completions of one occurrence: v%d due %v, %v; want v2 due 2026-10-30T16:00:00Z", got.Version(), got.Due(), err)
	}
	if h, _ := svc.OccurrenceHistory(ctx, a, tk.ID(), 100); len(h) != 1 {
		t.Errorf("history has %d entries, want 1", len(h))
	}
}

// The history keeps an occurrence once, per owner, and only what a unit of
// work committed.
func testRecurHistory(t *testing.T, s recurStore) {
	ctx := context.Background()
	owner := newOwner()
	tk := mustAdd(t, s.tasks, mustNewWith(t, owner, "h", base, task.WithDue("2026-03-01"), task.WithRecurrence("FREQ=DAILY", "due")))
	rec := task.Occurrence{Task: tk.ID(), Due: tk.Due(), Kind: task.OccurrenceSkipped, At: base}
	if ok, err := s.occ.Record(ctx, owner, rec); !ok || err != nil {
		t.Fatalf("Record = %v, %v", ok, err)
	}
	if ok, err := s.occ.Record(ctx, owner, rec); ok || err != nil {
		t.Errorf("Record again = %v, %v; want false", ok, err)
	}
	if ok, _ := s.occ.Recorded(ctx, owner, tk.ID(), tk.Due()); !ok {
		t.Errorf("Recorded = false")
	}
	if ok, _ := s.occ.Recorded(ctx, newOwner(), tk.ID(), tk.Due()); ok {
		t.Errorf("another owner sees the history")
	}
	undone := errors.New("undo")
	d2, _ := task.ParseDue("d", "2026-03-02")
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.occ.Record(ctx, owner, task.Occurrence{Task: tk.ID(), Due: d2, Kind: task.OccurrenceCompleted, At: base}); err != nil {
			return err
		}
		return undone
	})
	if !errors.Is(err, undone) {
		t.Fatal(err)
	}
	h, err := s.occ.History(ctx, owner, tk.ID(), 10)
	if err != nil || len(h) != 1 || !reflect.DeepEqual(h[0], rec) {
		t.Errorf("History = %+v, %v; want [%+v]", h, err, rec)
	}
}

// Overdue and due today, in the stores' SQL and in the domain's reference,
// for all-day, zoned, plain and floating dues in several zones.
func testRecurOverdue(t *testing.T, s recurStore) {
	ctx := context.Background()
	owner := newOwner()
	now := time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC) // 2 March 00:30 in Paris, 08:30 in Tokyo
	var all []*task.Task
	for _, opts := range [][]task.Option{
		{task.WithDue("2026-03-01")},
		{task.WithDue("2026-03-02")},
		{task.WithDue("2026-03-01T23:00:00Z"), task.WithDueZone("Europe/Paris")},
		{task.WithDue("2026-03-02T08:00:00"), task.WithDueFloating(true)},
		{task.WithDue("2026-03-01T23:45:00"), task.WithDueFloating(true)},
		{task.WithDue("2026-03-02T00:15:00"), task.WithDueFloating(true)},
		{task.WithDue("2026-03-02T09:00:00"), task.WithDueFloating(true)},
	} {
		all = append(all, mustAdd(t, s.tasks, mustNewWith(t, owner, "o", base, opts...)))
	}
	for _, zone := range []string{"UTC", "Europe/Paris", "Asia/Tokyo"} {
		loc, _ := time.LoadLocation(zone)
		m := task.Moment{Now: now, Zone: loc}
		want := task.StatsOf(all, m)
		got, err := s.tasks.Stats(ctx, owner, m, nil)
		if err != nil || got.Overdue != want.Overdue || got.DueToday != want.DueToday {
			t.Errorf("%s: Stats overdue %d due today %d (%v), want %d and %d", zone, got.Overdue, got.DueToday, err, want.Overdue, want.DueToday)
		}
		for _, overdue := range []bool{true, false} {
			q := mustQuery(t, task.Query{Overdue: &overdue, Now: now, Zone: loc})
			page, err := s.tasks.List(ctx, owner, q)
			if err != nil {
				t.Fatal(err)
			}
			var n int
			for _, tk := range all {
				if q.Matches(tk) {
					n++
				}
			}
			if len(page.Tasks) != n {
				t.Errorf("%s: overdue=%v lists %d, the reference %d", zone, overdue, len(page.Tasks), n)
			}
		}
		from, _ := task.ParseDue("due_from", "2026-03-02")
		q := mustQuery(t, task.Query{DueFrom: from, DueTo: from, Now: now, Zone: loc})
		page, err := s.tasks.List(ctx, owner, q)
		var n int
		for _, tk := range all {
			if q.Matches(tk) {
				n++
			}
		}
		if err != nil || len(page.Tasks) != n {
			t.Errorf("%s: due on 2 March lists %d (%v), the reference %d", zone, len(page.Tasks), err, n)
		}
	}
}
