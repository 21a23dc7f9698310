package contract

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

// failTag and failTitle make the SQL stores fail when they write them: a
// trigger raises an error, as a constraint or a lost connection would,
// after earlier rows of the same call were written. The domain accepts
// both, so only the storage refuses them.
const (
	failTag   = "fail-here"
	failTitle = "fail here"
)

// writeStore is a store under test and whether it can be made to fail
// half-way (the SQL stores, through triggers; the memory store writes
// under one lock after its checks, so nothing can fail there).
type writeStore struct {
	repo     task.Repository
	canBreak bool
}

func TestTaskWrites(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(*testing.T) writeStore{
		"memory": func(*testing.T) writeStore { return writeStore{repo: memory.NewTaskRepository()} },
		"sqlite": func(t *testing.T) writeStore {
			return writeStore{repo: sqlstore.NewTaskRepository(breakable(t, openSQLiteDB(t))), canBreak: true}
		},
		"postgres": func(t *testing.T) writeStore {
			return writeStore{repo: sqlstore.NewTaskRepository(breakable(t, openPostgresDB(t))), canBreak: true}
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			for _, tc := range []struct {
				name string
				run  func(*testing.T, writeStore)
			}{
				{"versions count writes", testVersions},
				{"a write that changes nothing writes nothing", testNoChange},
				{"a stale version changes nothing", testStaleVersion},
				{"of 50 writers on one version exactly one writes", testConcurrentConditional},
				{"trash hides and restore brings back as it was", testTrashRestore},
				{"trash, delete and restore of another owner", testTrashIsolation},
				{"trash lists the latest first, in pages", testTrashOrder},
				{"delete for good, empty trash, clear completed", testDeleteForGood},
				{"purge removes old trash, bounded", testPurge},
				{"add all", testAddAll},
				{"add all fails whole", testAddAllAtomic},
				{"update all", testUpdateAll},
				{"update all fails whole", testUpdateAllAtomic},
				{"trash all fails whole", testTrashAll},
			} {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, s)
				})
			}
		})
	}
}

// breakable installs the triggers behind failTag and failTitle.
func breakable(t *testing.T, db *bun.DB) *bun.DB {
	t.Helper()
	var stmts []string
	if db.Dialect().Name() == dialect.PG {
		stmts = []string{
			`CREATE FUNCTION contract_fail() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'injected failure'; END $$`,
			`CREATE TRIGGER contract_fail_tag BEFORE INSERT ON task_tags FOR EACH ROW
			WHEN (NEW.tag = '` + failTag + `') EXECUTE FUNCTION contract_fail()`,
			`CREATE TRIGGER contract_fail_title BEFORE INSERT OR UPDATE ON tasks FOR EACH ROW
			WHEN (NEW.title = '` + failTitle + `') EXECUTE FUNCTION contract_fail()`,
		}
	} else {
		stmts = []string{
			`CREATE TRIGGER contract_fail_tag BEFORE INSERT ON task_tags
			WHEN NEW.tag = '` + failTag + `' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
			`CREATE TRIGGER contract_fail_title BEFORE INSERT ON tasks
			WHEN NEW.title = '` + failTitle + `' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
			`CREATE TRIGGER contract_fail_title_update BEFORE UPDATE ON tasks
			WHEN NEW.title = '` + failTitle + `' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
		}
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("install failure trigger: %v", err)
		}
	}
	return db
}

// checkSame fails unless got is want in every field, version included.
func checkSame(t *testing.T, op string, got, want *task.Task) {
	t.Helper()
	checkFull(t, op, got, want)
	if got != nil && got.Version() != want.Version() {
		t.Errorf("%s version = %d, want %d", op, got.Version(), want.Version())
	}
}

func rename(title string, at time.Time) func(*task.Task) error {
	return func(tk *task.Task) error { return tk.Edit(title, tk.Description(), at) }
}

func testVersions(t *testing.T, s writeStore) {
	ctx := context.Background()
	owner := newOwner()
	tk := mustAdd(t, s.repo, mustNewWith(t, owner, "v1", base, task.WithTags([]string{"a"})))
	if tk.Version() != 1 {
		t.Fatalf("Add().Version() = %d, want 1", tk.Version())
	}
	want := task.Version(1)
	for i, expect := range []task.Version{task.AnyVersion, 2, task.AnyVersion, 4} {
		got, err := s.repo.Update(ctx, owner, tk.ID(), expect, rename("v"+strconv.Itoa(i+2), base.Add(time.Minute)))
		if err != nil {
			t.Fatalf("Update(expect %d) = %v", expect, err)
		}
		want++
		if got.Version() != want {
			t.Errorf("Update(expect %d).Version() = %d, want %d", expect, got.Version(), want)
		}
		checkSame(t, "Get(after Update)", mustGet(t, s.repo, owner, tk.ID()), got)
	}
	for _, f := range []task.Query{{}, {Limit: 1}, {Sort: task.SortDue, Limit: 5}} {
		if got := mustList(t, s.repo, owner, f); len(got) != 1 || got[0].Version() != want {
			t.Errorf("List(%+v) = %v, want one task at version %d", f, got, want)
		}
	}
	// The trash does not change the task, so neither its version.
	if err := s.repo.Trash(ctx, owner, tk.ID(), want, base.Add(time.Hour)); err != nil {
		t.Fatalf("Trash(expect %d) = %v", want, err)
	}
	back, err := s.repo.RestoreFromTrash(ctx, owner, tk.ID())
	if err != nil || back.Version() != want {
		t.Fatalf("RestoreFromTrash() = %v, %v, want the task at version %d", back, err, want)
	}
	if err := s.repo.Delete(ctx, owner, tk.ID(), want); err != nil {
		t.Errorf("Delete(expect %d) = %v", want, err)
	}
}

// testNoChange: an fn that leaves the task as it was is no write (issue 14
// item 11): the task comes back as read, same version and updated_at, and
// stays so, with or without If-Match, whatever the fn named (text, options,
// completion); in a batch only the tasks fn changed are written.
func testNoChange(t *testing.T, s writeStore) {
	ctx := context.Background()
	owner := newOwner()
	tk := mustAdd(t, s.repo, mustNewWith(t, owner, "draft", base, task.WithTags([]string{"a", "B"}), task.WithPriority("high"),
		task.WithDue("2026-03-01")))
	tk, err := s.repo.Update(ctx, owner, tk.ID(), task.AnyVersion, rename("same", base.Add(time.Minute)))
	if err != nil || tk.Version() != 2 {
		t.Fatalf("Update(rename) = %v, %v; want version 2", tk, err)
	}
	later := base.Add(time.Hour)
	for name, fn := range map[string]func(*task.Task) error{
		"the same text": func(x *task.Task) error { return x.Edit(" same ", x.Description(), later) },
		"the same options": func(x *task.Task) error {
			return x.Edit(x.Title(), x.Description(), later, task.WithTags([]string{"a", "B", "b"}), task.WithPriority("HIGH"),
				task.WithDue("2026-03-01"))
		},
		"completed as it is": func(x *task.Task) error { x.SetCompleted(false, later); return nil },
		"nothing":            func(*task.Task) error { return nil },
	} {
		for _, expect := range []task.Version{task.AnyVersion, tk.Version()} {
			op := "Update(" + name + ", expect " + strconv.Itoa(int(expect)) + ")"
			got, err := s.repo.Update(ctx, owner, tk.ID(), expect, fn)
			if err != nil {
				t.Fatalf("%s = %v", op, err)
			}
			checkSame(t, op, got, tk)
			checkSame(t, "Get(after "+op+")", mustGet(t, s.repo, owner, tk.ID()), tk)
		}
	}

	// A batch: the pending task is completed, the completed one is left.
	done, err := s.repo.Update(ctx, owner, mustAdd(t, s.repo, mustNewWith(t, owner, "done", base)).ID(), task.AnyVersion,
		func(x *task.Task) error { x.SetCompleted(true, base.Add(time.Minute)); return nil })
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.repo.UpdateAll(ctx, owner, []task.ID{tk.ID(), done.ID()}, func(x *task.Task) error {
		x.SetCompleted(true, later)
		return nil
	})
	if err != nil || len(got) != 2 {
		t.Fatalf("UpdateAll(complete) = %v, %v", got, err)
	}
	if !got[0].Completed() || got[0].Version() != tk.Version()+1 || !got[0].UpdatedAt().Equal(later) {
		t.Errorf("UpdateAll(complete) pending task = completed %v version %d updated_at %v, want completed at version %d, %v",
			got[0].Completed(), got[0].Version(), got[0].UpdatedAt(), tk.Version()+1, later)
	}
	checkSame(t, "UpdateAll(complete) completed task", got[1], done)
	checkSame(t, "Get(completed task after UpdateAll)", mustGet(t, s.repo, owner, done.ID()), done)
	checkSame(t, "Get(pending task after UpdateAll)", mustGet(t, s.repo, owner, tk.ID()), got[0])
}

// wantConflict checks that err is a ConflictError carrying current.
func wantConflict(t *testing.T, op string, err error, current *task.Task) {
	t.Helper()
	var ce *task.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, task.ErrVersionMismatch) {
		t.Errorf("%s = %v, want a *task.ConflictError", op, err)
		return
	}
	checkSame(t, op+" current", ce.Current, current)
}

func testStaleVersion(t *testing.T, s writeStore) {
	ctx := context.Background()
	owner := newOwner()
	tk := mustAdd(t, s.repo, mustNewWith(t, owner, "original", base, task.WithTags([]string{"x"})))
	now, err := s.repo.Update(ctx, owner, tk.ID(), 1, rename("first writer", base.Add(time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	_, err = s.repo.Update(ctx, owner, tk.ID(), 1, func(tk *task.Task) error {
		calls++
		return tk.Edit("second writer", nil, base.Add(time.Hour))
	})
	wantConflict(t, "Update(stale version)", err, now)
	if calls != 0 {
		t.Errorf("Update(stale version) called fn %d times, want 0", calls)
	}
	wantConflict(t, "Trash(stale version)", s.repo.Trash(ctx, owner, tk.ID(), 1, base), now)
	wantConflict(t, "Delete(stale version)", s.repo.Delete(ctx, owner, tk.ID(), 1), now)
	wantConflict(t, "Update(version from the future)", func() error {
		_, err := s.repo.Update(ctx, owner, tk.ID(), 99, rename("x", base))
		return err
	}(), now)
	checkSame(t, "Get(after stale writes)", mustGet(t, s.repo, owner, tk.ID()), now)

	// A missing task is not found, whatever version is expected.
	if _, err := s.repo.Update(ctx, owner, tk.ID()+1_000_000, 1, rename("x", base)); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Update(unknown id, expect 1) = %v, want ErrNotFound", err)
	}
	if err := s.repo.Delete(ctx, owner, tk.ID()+1_000_000, 1); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Delete(unknown id, expect 1) = %v, want ErrNotFound", err)
	}
}

// testConcurrentConditional starts 50 writers holding the same version at
// once, each pausing between its read and its write so that all of them
// read before any writes: exactly one may write, every other one gets a
// conflict carrying the winner's task. Then writers that update and
// writers that trash race on the new version: again exactly one wins.
func testConcurrentConditional(t *testing.T, s writeStore) {
	const n = 50
	ctx := context.Background()
	owner := newOwner()
	tk := mustAdd(t, s.repo, mustNewWith(t, owner, "contended", base))

	race := func(v task.Version, write func(i int) error) (winner int, errs []error) {
		var wg, ready sync.WaitGroup
		start := make(chan struct{})
		errs = make([]error, n)
		for i := range n {
			ready.Add(1)
			wg.Go(func() {
				// A read first, all at once, fills the connection pool: else
				// the first writer may be done before the others connect.
				_, errs[i] = s.repo.Get(ctx, owner, tk.ID())
				ready.Done()
				<-start
				if errs[i] == nil {
					errs[i] = write(i)
				}
			})
		}
		ready.Wait()
		close(start)
		wg.Wait()
		winner = -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Errorf("writers %d and %d both wrote version %d", winner, i, v)
				}
				winner = i
			case errors.Is(err, task.ErrVersionMismatch), errors.Is(err, task.ErrNotFound):
			default:
				t.Errorf("writer %d: %v, want a conflict or not found", i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("none of %d writers on version %d wrote", n, v)
		}
		return winner, errs
	}

	v := tk.Version()
	winner, errs := race(v, func(i int) error {
		_, err := s.repo.Update(ctx, owner, tk.ID(), v, func(tk *task.Task) error {
			time.Sleep(5 * time.Millisecond) // the others read meanwhile
			return tk.Edit("writer "+strconv.Itoa(i), nil, base.Add(time.Second))
		})
		return err
	})
	got, err := s.repo.Get(ctx, owner, tk.ID())
	if err != nil || got.Title() != "writer "+strconv.Itoa(winner) || got.Version() != v+1 {
		t.Fatalf("Get() = %v, %v, want writer %d's title at version %d", got, err, winner, v+1)
	}
	for i, err := range errs {
		if i == winner {
			continue
		}
		if ce, ok := errors.AsType[*task.ConflictError](err); !ok || ce.Current.Title() != got.Title() || ce.Current.Version() != v+1 {
			t.Errorf("writer %d: %v, want a conflict showing writer %d's task", i, err, winner)
		}
	}

	v = got.Version()
	winner, _ = race(v, func(i int) error {
		if i%2 == 0 {
			_, err := s.repo.Update(ctx, owner, tk.ID(), v, rename("second round "+strconv.Itoa(i), base.Add(time.Minute)))
			return err
		}
		return s.repo.Trash(ctx, owner, tk.ID(), v, base.Add(time.Minute))
	})
	got, err = s.repo.Get(ctx, owner, tk.ID())
	switch {
	case winner%2 == 1 && !errors.Is(err, task.ErrNotFound):
		t.Errorf("writer %d trashed the task, but Get() = %v, %v", winner, got, err)
	case winner%2 == 0 && (err != nil || got.Title() != "second round "+strconv.Itoa(winner)):
		t.Errorf("writer %d updated the task, but Get() = %v, %v", winner, got, err)
	}
}

func testTrashRestore(t *testing.T, s writeStore) {
	ctx := context.Background()
	owner := newOwner()
	keep := mustAdd(t, s.repo, mustNewWith(t, owner, "keep", base, task.WithTags([]string{"shared"})))
	gone := mustAdd(t, s.repo, mustNewWith(t, owner, "gone", base.Add(time.Second),
		task.WithTags([]string{"Shared", "only-trashed"}), task.WithPriority("high"), task.WithDue("2026-01-01")))
	gone, err := s.repo.Update(ctx, owner, gone.ID(), task.AnyVersion, func(tk *task.Task) error {
		tk.SetCompleted(true, base.Add(time.Minute))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	deletedAt := time.Date(2026, 1, 6, 9, 0, 0, 123456789, time.FixedZone("UTC+1", 3600))
	if err := s.repo.Trash(ctx, owner, gone.ID(), task.AnyVersion, deletedAt); err != nil {
		t.Fatalf("Trash() = %v", err)
	}

	// Gone from every call about live tasks.
	if _, err := s.repo.Get(ctx, owner, gone.ID()); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Get(trashed) = %v, want ErrNotFound", err)
	}
	if _, err := s.repo.Update(ctx, owner, gone.ID(), task.AnyVersion, rename("x", base)); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Update(trashed) = %v, want ErrNotFound", err)
	}
	if err := s.repo.Trash(ctx, owner, gone.ID(), task.AnyVersion, base); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Trash(trashed) = %v, want ErrNotFound", err)
	}
	for _, q := range []task.Query{{}, {Statuses: []task.Status{task.StatusCompleted}}, {Tags: []string{"only-trashed"}},
		{Search: "gone"}, {Sort: task.SortDue, Limit: 10}, {Sort: task.SortPriority, Limit: 1}} {
		page, err := s.repo.List(ctx, owner, q)
		if err != nil {
			t.Fatal(err)
		}
		want := []task.ID{keep.ID()}
		if !q.Matches(keep) {
			want = []task.ID{}
		}
		if got := ids(page.Tasks); !slices.Equal(got, want) || page.Total != len(want) {
			t.Errorf("List(%+v) = %v (total %d), want %v: no trashed task", q, got, page.Total, want)
		}
	}
	tags, err := s.repo.Tags(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	if want := []task.TagCount{{Name: "shared", Count: 1}}; !slices.Equal(tags, want) {
		t.Errorf("Tags() = %v, want %v: tags of trashed tasks do not count", tags, want)
	}
	stats, err := s.repo.Stats(ctx, owner, task.Moment{Now: base}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Total != 1 || stats.Completed != 0 || stats.ByPriority[task.PriorityHigh] != 0 {
		t.Errorf("Stats() = %+v, want only the live task counted", stats)
	}

	// In the trash, with the time it went there.
	trash, err := s.repo.ListTrash(ctx, owner, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(trash.Items) != 1 || trash.Total != 1 {
		t.Fatalf("ListTrash() = %d items (total %d), want 1", len(trash.Items), trash.Total)
	}
	checkSame(t, "ListTrash()[0]", trash.Items[0].Task, gone)
	wantAt := deletedAt.UTC().Truncate(time.Microsecond)
	if at := trash.Items[0].DeletedAt; !at.Equal(wantAt) || at.Location() != time.UTC {
		t.Errorf("ListTrash()[0].DeletedAt = %v, want %v in UTC", at, wantAt)
	}

	// Back exactly as it was, everywhere.
	back, err := s.repo.RestoreFromTrash(ctx, owner, gone.ID())
	if err != nil {
		t.Fatalf("RestoreFromTrash() = %v", err)
	}
	checkSame(t, "RestoreFromTrash()", back, gone)
	checkSame(t, "Get(restored)", mustGet(t, s.repo, owner, gone.ID()), gone)
	if got := ids(mustList(t, s.repo, owner, task.Query{Tags: []string{"only-trashed"}})); !slices.Equal(got, []task.ID{gone.ID()}) {
		t.Errorf("List(tag of the restored task) = %v, want [%d]", got, gone.ID())
	}
	if trash, _ := s.repo.ListTrash(ctx, owner, 0, 0); len(trash.Items) != 0 || trash.Total != 0 {
		t.Errorf("ListTrash() after restore = %d items (total %d), want none", len(trash.Items), trash.Total)
	}
	// Restoring again is harmless; an unknown task is not found.
	if again, err := s.repo.RestoreFromTrash(ctx, owner, gone.ID()); err != nil {
		t.Errorf("RestoreFromTrash(live) = %v, want the task", err)
	} else {
		checkSame(t, "RestoreFromTrash(live)", again, gone)
	}
	if _, err := s.repo.RestoreFromTrash(ctx, owner, gone.ID()+1_000_000); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("RestoreFromTrash(unknown) = %v, want ErrNotFound", err)
	}
}

func testTrashIsolation(t *testing.T, s writeStore) {
	ctx := context.Background()
	alice, bob := newOwner(), newOwner()
	live := mustAdd(t, s.repo, mustNewWith(t, alice, "alice live", base))
	trashed := mustAdd(t, s.repo, mustNewWith(t, alice, "alice trashed", base))
	if err := s.repo.Trash(ctx, alice, trashed.ID(), task.AnyVersion, base); err != nil {
		t.Fatal(err)
	}
	if err := s.repo.Trash(ctx, bob, live.ID(), task.AnyVersion, base); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Trash(another owner's) = %v, want ErrNotFound", err)
	}
	if _, err := s.repo.RestoreFromTrash(ctx, bob, trashed.ID()); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("RestoreFromTrash(another owner's) = %v, want ErrNotFound", err)
	}
	if err := s.repo.Delete(ctx, bob, trashed.ID(), task.AnyVersion); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Delete(another owner's trashed) = %v, want ErrNotFound", err)
	}
	if n, err := s.repo.EmptyTrash(ctx, bob); n != 0 || err != nil {
		t.Errorf("EmptyTrash(bob) = %d, %v, want 0", n, err)
	}
	if n, err := s.repo.TrashAll(ctx, bob, []task.ID{live.ID()}, base); !errors.Is(err, task.ErrNotFound) || n != 0 {
		t.Errorf("TrashAll(another owner's) = %d, %v, want ErrNotFound", n, err)
	}
	if got, err := s.repo.UpdateAll(ctx, bob, []task.ID{live.ID()}, rename("x", base)); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("UpdateAll(another owner's) = %v, %v, want ErrNotFound", got, err)
	}
	if page, err := s.repo.ListTrash(ctx, bob, 0, 0); err != nil || len(page.Items) != 0 || page.Total != 0 {
		t.Errorf("ListTrash(bob) = %d items, %v, want none", len(page.Items), err)
	}
	checkSame(t, "Get(alice's live)", mustGet(t, s.repo, alice, live.ID()), live)
	if page, err := s.repo.ListTrash(ctx, alice, 0, 0); err != nil || len(page.Items) != 1 {
		t.Errorf("ListTrash(alice) = %d items, %v, want her trashed task", len(page.Items), err)
	}
}

func testTrashOrder(t *testing.T, s writeStore) {
	ctx := context.Background()
	owner := newOwner()
	// Deleted at: t+2h, t+1h, t+1h (a tie: the higher id first), t.
	at := []time.Duration{2 * time.Hour, time.Hour, time.Hour, 0}
	var trashed []*task.Task
	for i, d := range at {
		tk := mustAdd(t, s.repo, mustNewWith(t, owner, "t"+strconv.Itoa(i), base))
		if err := s.repo.Trash(ctx, owner, tk.ID(), task.AnyVersion, base.Add(d)); err != nil {
			t.Fatal(err)
		}
		trashed = append(trashed, tk)
	}
	want := []task.ID{trashed[0].ID(), trashed[2].ID(), trashed[1].ID(), trashed[3].ID()}
	for _, tt := range []struct{ limit, offset int }{{0, 0}, {2, 0}, {2, 2}, {3, 3}, {0, 1}, {1, 10}} {
		page, err := s.repo.ListTrash(ctx, owner, tt.limit, tt.offset)
		if err != nil {
			t.Fatalf("ListTrash(%d, %d) = %v", tt.limit, tt.offset, err)
		}
		w := want[min(tt.offset, len(want)):]
		if tt.limit > 0 && len(w) > tt.limit {
			w = w[:tt.limit]
		}
		var got []task.ID
		for _, it := range page.Items {
			got = append(got, it.Task.ID())
		}
		if !slices.Equal(got, w) || page.Total != len(want) || page.Items == nil {
			t.Errorf("ListTrash(limit %d, offset %d) = %v (total %d), want %v (total %d)", tt.limit, tt.offset, got, page.Total, w, len(want))
		}
	}
}

func testDeleteForGood(t *testing.T, s writeStore) {
	ctx := context.Background()
	owner := newOwner()
	var tks []*task.Task
	for i := range 5 {
		tks = append(tks, mustAdd(t, s.repo, mustNewWith(t, owner, "t"+strconv.Itoa(i), base, task.WithTags([]string{"t"}))))
	}
	// A trashed task can be deleted for good, a live one too.
	if err := s.repo.Trash(ctx, owner, tks[0].ID(), task.AnyVersion, base); err != nil {
		t.Fatal(err)
	}
	for _, tk := range tks[:2] {
		if err := s.repo.Delete(ctx, owner, tk.ID(), task.AnyVersion); err != nil {
			t.Errorf("Delete(%d) = %v", tk.ID(), err)
		}
		if _, err := s.repo.RestoreFromTrash(ctx, owner, tk.ID()); !errors.Is(err, task.ErrNotFound) {
			t.Errorf("RestoreFromTrash(deleted for good) = %v, want ErrNotFound", err)
		}
	}
	// Clear completed trashes the completed ones only.
	for _, tk := range tks[2:4] {
		if _, err := s.repo.Update(ctx, owner, tk.ID(), task.AnyVersion, func(tk *task.Task) error {
			tk.SetCompleted(true, base.Add(time.Minute))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.repo.TrashCompleted(ctx, owner, base.Add(time.Hour)); n != 2 || err != nil {
		t.Errorf("TrashCompleted() = %d, %v, want 2", n, err)
	}
	if n, err := s.repo.TrashCompleted(ctx, owner, base.Add(time.Hour)); n != 0 || err != nil {
		t.Errorf("TrashCompleted() again = %d, %v, want 0", n, err)
	}
	if got := ids(mustList(t, s.repo, owner, task.Query{})); !slices.Equal(got, []task.ID{tks[4].ID()}) {
		t.Errorf("List() after clear completed = %v, want [%d]", got, tks[4].ID())
	}
	if n, err := s.repo.EmptyTrash(ctx, owner); n != 2 || err != nil {
		t.Errorf("EmptyTrash() = %d, %v, want 2", n, err)
	}
	if page, _ := s.repo.ListTrash(ctx, owner, 0, 0); page.Total != 0 {
		t.Errorf("ListTrash() after EmptyTrash total = %d, want 0", page.Total)
	}
	if tags, _ := s.repo.Tags(ctx, owner); !slices.Equal(tags, []task.TagCount{{Name: "t", Count: 1}}) {
		t.Errorf("Tags() after deletes = %v, want t: 1", tags)
	}
}

// testPurge trashes tasks in the year 2000, which no other case does, so
// that the purge (across every owner) takes exactly these.
func testPurge(t *testing.T, s writeStore) {
	ctx := context.Background()
	owner := newOwner()
	old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	var tks []*task.Task
	for i := range 3 {
		tk := mustAdd(t, s.repo, mustNewWith(t, owner, "old "+strconv.Itoa(i), base, task.WithTags([]string{"old"})))
		if err := s.repo.Trash(ctx, owner, tk.ID(), task.AnyVersion, old.Add(time.Duration(i)*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		tks = append(tks, tk)
	}
	recent := mustAdd(t, s.repo, mustNewWith(t, owner, "recent", base))
	if err := s.repo.Trash(ctx, owner, recent.ID(), task.AnyVersion, old.Add(30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	cutoff := old.Add(10 * 24 * time.Hour)
	for _, want := range []int{2, 1, 0} {
		if n, err := s.repo.PurgeTrash(ctx, cutoff, 2); n != want || err != nil {
			t.Errorf("PurgeTrash(cutoff, 2) = %d, %v, want %d", n, err, want)
		}
	}
	page, err := s.repo.ListTrash(ctx, owner, 0, 0)
	if err != nil || len(page.Items) != 1 || page.Items[0].Task.ID() != recent.ID() {
		t.Errorf("ListTrash() after purge = %d items, %v, want only the recent one", len(page.Items), err)
	}
	for _, tk := range tks {
		if _, err := s.repo.RestoreFromTrash(ctx, owner, tk.ID()); !errors.Is(err, task.ErrNotFound) {
			t.Errorf("RestoreFromTrash(purged) = %v, want ErrNotFound", err)
		}
	}
}

func newBatch(t *testing.T, owner auth.UserID, titles ...string) []*task.Task {
	t.Helper()
	var out []*task.Task
	for i, title := range titles {
		out = append(out, mustNewWith(t, owner, title, base.Add(time.Duration(i)*time.Second),
			task.WithTags([]string{"batch", "n" + strconv.Itoa(i)})))
	}
	return out
}

func testAddAll(t *testing.T, s writeStore) {
	owner := newOwner()
	in := newBatch(t, owner, "a", "b", "c")
	got, err := s.repo.AddAll(context.Background(), in)
	if err != nil || len(got) != len(in) {
		t.Fatalf("AddAll() = %d tasks, %v", len(got), err)
	}
	for i, tk := range got {
		if i > 0 && tk.ID() <= got[i-1].ID() {
			t.Errorf("AddAll() ids %v not increasing in the order given", ids(got))
		}
		checkSame(t, "AddAll()["+strconv.Itoa(i)+"]", tk, in[i].WithID(tk.ID()))
		checkSame(t, "Get(added)", mustGet(t, s.repo, owner, tk.ID()), tk)
	}
}

func testAddAllAtomic(t *testing.T, s writeStore) {
	if !s.canBreak {
		t.Skip("the memory store checks, then writes under one lock: nothing can fail half-way")
	}
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		in   func(owner auth.UserID) []*task.Task
	}{
		{"the third task fails", func(owner auth.UserID) []*task.Task {
			return newBatch(t, owner, "a", "b", failTitle, "d")
		}},
		{"the last tag fails, after every task", func(owner auth.UserID) []*task.Task {
			in := newBatch(t, owner, "a", "b")
			return append(in, mustNewWith(t, owner, "c", base, task.WithTags([]string{"ok", failTag})))
		}},
	} {
		owner := newOwner()
		if got, err := s.repo.AddAll(ctx, tt.in(owner)); err == nil {
			t.Errorf("AddAll(%s) = %d tasks, want an error", tt.name, len(got))
		}
		if got := mustList(t, s.repo, owner, task.Query{}); len(got) != 0 {
			t.Errorf("AddAll(%s): %d tasks stored, want none", tt.name, len(got))
		}
		if tags, _ := s.repo.Tags(ctx, owner); len(tags) != 0 {
			t.Errorf("AddAll(%s): tags %v stored, want none", tt.name, tags)
		}
	}
}

func testUpdateAll(t *testing.T, s writeStore) {
	ctx := context.Background()
	owner := newOwner()
	added, err := s.repo.AddAll(ctx, newBatch(t, owner, "a", "b", "c"))
	if err != nil {
		t.Fatal(err)
	}
	order := []task.ID{added[2].ID(), added[0].ID(), added[2].ID()} // a repeat counts once
	calls := 0
	got, err := s.repo.UpdateAll(ctx, owner, order, func(tk *task.Task) error {
		calls++
		tk.SetCompleted(true, base.Add(time.Hour))
		return tk.Edit(tk.Title(), tk.Description(), base.Add(time.Hour), task.WithTags([]string{"done"}), task.WithPriority("high"))
	})
	if err != nil {
		t.Fatalf("UpdateAll() = %v", err)
	}
	if calls != 2 || !slices.Equal(ids(got), []task.ID{added[2].ID(), added[0].ID()}) {
		t.Errorf("UpdateAll(%v) = %v with %d calls, want each id once, in order", order, ids(got), calls)
	}
	for _, tk := range got {
		if !tk.Completed() || tk.Priority() != task.PriorityHigh || !slices.Equal(tk.Tags(), []string{"done"}) || tk.Version() != 2 {
			t.Errorf("UpdateAll() task %d = completed %v priority %s tags %v version %d, want the change at version 2",
				tk.ID(), tk.Completed(), tk.Priority(), tk.Tags(), tk.Version())
		}
		checkSame(t, "Get(updated)", mustGet(t, s.repo, owner, tk.ID()), tk)
	}
	checkSame(t, "Get(untouched)", mustGet(t, s.repo, owner, added[1].ID()), added[1])
}

func testUpdateAllAtomic(t *testing.T, s writeStore) {
	ctx := context.Background()
	owner := newOwner()
	added, err := s.repo.AddAll(ctx, newBatch(t, owner, "a", "b", "c", "d"))
	if err != nil {
		t.Fatal(err)
	}
	trashed := mustAdd(t, s.repo, mustNewWith(t, owner, "trashed", base))
	if err := s.repo.Trash(ctx, owner, trashed.ID(), task.AnyVersion, base); err != nil {
		t.Fatal(err)
	}
	other := mustAdd(t, s.repo, mustNewWith(t, newOwner(), "someone else's", base))
	all := ids(added)
	errStop := errors.New("stop at the third")
	change := func(tk *task.Task) error {
		return tk.Edit("changed", nil, base.Add(time.Hour), task.WithTags([]string{"changed"}))
	}
	for _, tt := range []struct {
		name string
		ids  []task.ID
		fn   func(*task.Task) error
		is   func(error) bool
	}{
		{"another owner's id last", append(slices.Clone(all), other.ID()), change, isNotFound},
		{"a trashed id", append(slices.Clone(all), trashed.ID()), change, isNotFound},
		{"an unknown id", append(slices.Clone(all), 0), change, isNotFound},
		{"fn fails on the third", all, func() func(*task.Task) error {
			n := 0
			return func(tk *task.Task) error {
				if n++; n == 3 {
					return errStop
				}
				return change(tk)
			}
		}(), func(err error) bool { return errors.Is(err, errStop) }},
		{"the store fails on the third", all, func() func(*task.Task) error {
			n := 0
			return func(tk *task.Task) error {
				if n++; n == 3 && s.canBreak {
					return tk.Edit(failTitle, nil, base.Add(time.Hour))
				}
				if n == 3 {
					return errStop // the memory store cannot fail: stop as fn
				}
				return change(tk)
			}
		}(), func(err error) bool { return err != nil }},
	} {
		got, err := s.repo.UpdateAll(ctx, owner, tt.ids, tt.fn)
		if !tt.is(err) || got != nil {
			t.Errorf("UpdateAll(%s) = %v, %v, want the failure and no tasks", tt.name, got, err)
		}
		for _, tk := range added {
			checkSame(t, "Get(after UpdateAll("+tt.name+"))", mustGet(t, s.repo, owner, tk.ID()), tk)
		}
		if tags, _ := s.repo.Tags(ctx, owner); slices.ContainsFunc(tags, func(c task.TagCount) bool { return c.Name == "changed" }) {
			t.Errorf("UpdateAll(%s) left tags %v", tt.name, tags)
		}
	}
}

func isNotFound(err error) bool { return errors.Is(err, task.ErrNotFound) }

func testTrashAll(t *testing.T, s writeStore) {
	ctx := context.Background()
	owner := newOwner()
	added, err := s.repo.AddAll(ctx, newBatch(t, owner, "a", "b", "c"))
	if err != nil {
		t.Fatal(err)
	}
	other := mustAdd(t, s.repo, mustNewWith(t, newOwner(), "someone else's", base))
	for _, bad := range [][]task.ID{
		{added[0].ID(), added[1].ID(), other.ID()},
		{added[0].ID(), added[0].ID() + 1_000_000},
	} {
		if n, err := s.repo.TrashAll(ctx, owner, bad, base); !errors.Is(err, task.ErrNotFound) || n != 0 {
			t.Errorf("TrashAll(%v) = %d, %v, want ErrNotFound", bad, n, err)
		}
		if got := ids(mustList(t, s.repo, owner, task.Query{})); !slices.Equal(got, ids(added)) {
			t.Errorf("after TrashAll(%v) List() = %v, want every task still there", bad, got)
		}
	}
	want := []task.ID{added[2].ID(), added[0].ID()}
	if n, err := s.repo.TrashAll(ctx, owner, append(want, added[2].ID()), base); n != 2 || err != nil {
		t.Fatalf("TrashAll(%v plus a repeat) = %d, %v, want 2", want, n, err)
	}
	if n, err := s.repo.TrashAll(ctx, owner, want, base); !errors.Is(err, task.ErrNotFound) || n != 0 {
		t.Errorf("TrashAll(already trashed) = %d, %v, want ErrNotFound", n, err)
	}
	page, err := s.repo.ListTrash(ctx, owner, 0, 0)
	if err != nil || page.Total != 2 {
		t.Errorf("ListTrash() = %d, %v, want 2", page.Total, err)
	}
	if got := ids(mustList(t, s.repo, owner, task.Query{})); !slices.Equal(got, []task.ID{added[1].ID()}) {
		t.Errorf("List() after TrashAll = %v, want [%d]", got, added[1].ID())
	}
}

// TestPurgeSparesRestored: a purge that picked a task while a restore of it
// was still uncommitted must not delete it once the restore commits. The
// purge waits on the restore's row lock; PostgreSQL then checks the
// DELETE's own WHERE again on the restored row, so the condition has to be
// there, not only in the subquery that picked the ids.
func TestPurgeSparesRestored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openPostgresDB(t)
	repo := sqlstore.NewTaskRepository(db)
	owner := newOwner()
	tk := mustAdd(t, repo, mustNewWith(t, owner, "restored while purged", base))
	if err := repo.Trash(ctx, owner, tk.ID(), task.AnyVersion, base); err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, "UPDATE tasks SET deleted_at = NULL WHERE id = ?", int64(tk.ID())); err != nil {
		t.Fatal(err)
	}
	purged := make(chan error, 1)
	go func() {
		_, err := repo.PurgeTrash(ctx, base.Add(time.Hour), 10)
		purged <- err
	}()
	// Until the purge waits on the restore's lock (it must, to be a race).
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		if err := db.NewRaw("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'DELETE FROM tasks%'").
			Scan(ctx, &waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the purge never waited on the restore's row lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-purged; err != nil {
		t.Fatalf("PurgeTrash = %v", err)
	}
	if _, err := repo.Get(ctx, owner, tk.ID()); err != nil {
		t.Errorf("the restored task after the purge: Get = %v, want it live", err)
	}
}
