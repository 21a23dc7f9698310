package contract

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

func TestTaskRepository(t *testing.T) {
	t.Parallel()
	for name, open := range taskStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runTaskSuite(t, open(t))
		})
	}
}

// base is a whole second, so that offsets from it exercise times with and
// without a fractional part.
var base = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// runTaskSuite checks every promise of task.Repository. Each case works for
// its own fresh owner, so the cases share one store and run in parallel.
func runTaskSuite(t *testing.T, repo task.Repository) {
	for _, tc := range []struct {
		name string
		run  func(*testing.T, task.Repository)
	}{
		{"add returns positive increasing ids and the same fields", testAddRoundTrip},
		{"add keeps text at the limits", testAddLimits},
		{"get unknown id", testGetUnknown},
		{"list oldest first then by id", testListOrder},
		{"list filters by status", testListStatus},
		{"list of a new owner is empty and non-nil", testListEmpty},
		{"another owner's task is not found", testIsolation},
		{"update applies fn", testUpdate},
		{"update keeps the row when fn fails", testUpdateFnError},
		{"update unknown id", testUpdateUnknown},
		{"delete", testDelete},
		{"concurrent updates all land", testConcurrentUpdates},
		{"concurrent adds get distinct ids", testConcurrentAdds},
		{"concurrent updates of many tasks each land once", testConcurrentUpdatesOfMany},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, repo)
		})
	}
}

func newOwner() auth.UserID { return auth.UserID("u_" + uniq()) }

func ptr(s string) *string { return &s }

func mustNew(t *testing.T, owner auth.UserID, title string, desc *string, now time.Time) *task.Task {
	t.Helper()
	tk, err := task.New(owner, title, desc, now)
	if err != nil {
		t.Fatalf("task.New(%q) error = %v", title, err)
	}
	return tk
}

func mustAdd(t *testing.T, repo task.Repository, tk *task.Task) *task.Task {
	t.Helper()
	got, err := repo.Add(context.Background(), tk)
	if err != nil {
		t.Fatalf("Add(%q) error = %v", tk.Title(), err)
	}
	return got
}

func mustGet(t *testing.T, repo task.Repository, owner auth.UserID, id task.ID) *task.Task {
	t.Helper()
	got, err := repo.Get(context.Background(), owner, id)
	if err != nil {
		t.Fatalf("Get(%d) error = %v", id, err)
	}
	return got
}

func mustList(t *testing.T, repo task.Repository, owner auth.UserID, q task.Query) []*task.Task {
	t.Helper()
	page, err := repo.List(context.Background(), owner, q)
	if err != nil {
		t.Fatalf("List(%+v) error = %v", q, err)
	}
	return page.Tasks
}

func ids(ts []*task.Task) []task.ID {
	out := make([]task.ID, len(ts))
	for i, tk := range ts {
		out[i] = tk.ID()
	}
	return out
}

func descString(d *string) string {
	if d == nil {
		return "<nil>"
	}
	return strconv.Quote(*d)
}

// diffTask lists the fields in which got differs from want; times must be
// equal to the microsecond and in UTC.
func diffTask(got, want *task.Task) []string {
	var d []string
	if got.ID() != want.ID() {
		d = append(d, "id "+strconv.FormatInt(int64(got.ID()), 10)+" != "+strconv.FormatInt(int64(want.ID()), 10))
	}
	if got.Owner() != want.Owner() {
		d = append(d, "owner "+string(got.Owner())+" != "+string(want.Owner()))
	}
	if got.Title() != want.Title() {
		d = append(d, "title "+strconv.Quote(got.Title())+" != "+strconv.Quote(want.Title()))
	}
	if g, w := descString(got.Description()), descString(want.Description()); g != w {
		d = append(d, "description "+g+" != "+w)
	}
	if got.Completed() != want.Completed() {
		d = append(d, "completed "+strconv.FormatBool(got.Completed())+" != "+strconv.FormatBool(want.Completed()))
	}
	for _, c := range []struct {
		name      string
		got, want time.Time
	}{
		{"created_at", got.CreatedAt(), want.CreatedAt()},
		{"updated_at", got.UpdatedAt(), want.UpdatedAt()},
	} {
		if !c.got.Equal(c.want) || c.got.Location() != time.UTC {
			d = append(d, c.name+" "+c.got.Format(time.RFC3339Nano)+" ("+c.got.Location().String()+") != "+c.want.Format(time.RFC3339Nano))
		}
	}
	return d
}

func checkTask(t *testing.T, op string, got, want *task.Task) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s = nil, want task %d", op, want.ID())
	}
	if d := diffTask(got, want); len(d) > 0 {
		t.Errorf("%s differs: %s", op, strings.Join(d, "; "))
	}
}

func testAddRoundTrip(t *testing.T, repo task.Repository) {
	owner := newOwner()
	// Nanoseconds and a non-UTC zone on the way in; the domain keeps UTC
	// microseconds, and every store must hand back exactly that.
	at := time.Date(2026, 1, 5, 15, 30, 0, 123456789, time.FixedZone("UTC+5", 5*3600))
	inputs := []*task.Task{
		mustNew(t, owner, "Buy milk", nil, at),
		mustNew(t, owner, "  O'Brien's \"list\" -- ; \\ ", ptr("line one\nline two; DROP TABLE tasks; --"), at.Add(time.Microsecond)),
		mustNew(t, owner, "Ünïcødé 🥛", ptr(""), at.Add(-time.Hour)),
	}
	var first, last task.ID
	for i, in := range inputs {
		got := mustAdd(t, repo, in)
		if got.ID() <= last {
			t.Errorf("Add(%q).ID() = %d, want > %d", in.Title(), got.ID(), last)
		}
		last = got.ID()
		if i == 0 {
			first = got.ID()
		}
		want := in.WithID(got.ID())
		checkTask(t, "Add("+strconv.Quote(in.Title())+")", got, want)
		checkTask(t, "Get(added)", mustGet(t, repo, owner, got.ID()), want)
	}
	wantCreated := time.Date(2026, 1, 5, 10, 30, 0, 123456000, time.UTC)
	if got := mustGet(t, repo, owner, first).CreatedAt(); !got.Equal(wantCreated) {
		t.Errorf("Get(first).CreatedAt() = %v, want %v", got, wantCreated)
	}
}

func testAddLimits(t *testing.T, repo task.Repository) {
	owner := newOwner()
	title := strings.Repeat("é", task.MaxTitleLen)
	desc := strings.Repeat("🥛", task.MaxDescriptionLen)
	got := mustAdd(t, repo, mustNew(t, owner, title, &desc, base))
	checkTask(t, "Get(limits)", mustGet(t, repo, owner, got.ID()), got)
}

func testGetUnknown(t *testing.T, repo task.Repository) {
	owner := newOwner()
	added := mustAdd(t, repo, mustNew(t, owner, "exists", nil, base))
	for _, id := range []task.ID{0, -1, added.ID() + 1_000_000, math.MaxInt64} {
		if _, err := repo.Get(context.Background(), owner, id); !errors.Is(err, task.ErrNotFound) {
			t.Errorf("Get(%d) error = %v, want ErrNotFound", id, err)
		}
	}
}

func testListOrder(t *testing.T, repo task.Repository) {
	owner := newOwner()
	// Whole seconds, short and long fractions, equal instants and another day:
	// whatever the store's time encoding, its order must be time order.
	offsets := []time.Duration{
		2 * time.Second, 0, 999_999 * time.Microsecond, time.Microsecond, 0,
		150 * time.Millisecond, time.Second, 100 * time.Millisecond,
		1500 * time.Millisecond, -24 * time.Hour, time.Microsecond, 10 * time.Hour,
	}
	var added []*task.Task
	for i, off := range offsets {
		added = append(added, mustAdd(t, repo, mustNew(t, owner, "task "+strconv.Itoa(i), nil, base.Add(off))))
	}
	want := slices.Clone(added)
	slices.SortStableFunc(want, func(a, b *task.Task) int { // stable: equal times keep id (insertion) order
		return a.CreatedAt().Compare(b.CreatedAt())
	})
	for _, f := range []task.Query{{}, {Statuses: []task.Status{task.StatusAll}}} {
		got := mustList(t, repo, owner, f)
		if !slices.Equal(ids(got), ids(want)) {
			t.Errorf("List(%+v) ids = %v, want %v", f, ids(got), ids(want))
			continue
		}
		for i := range got {
			checkTask(t, "List()["+strconv.Itoa(i)+"]", got[i], want[i])
		}
	}
}

func testListStatus(t *testing.T, repo task.Repository) {
	ctx := context.Background()
	owner := newOwner()
	var all, pending, completed []task.ID
	for i := range 5 {
		tk := mustAdd(t, repo, mustNew(t, owner, "task "+strconv.Itoa(i), nil, base.Add(time.Duration(i)*time.Second)))
		all = append(all, tk.ID())
		if i%2 == 1 {
			if _, err := repo.Update(ctx, owner, tk.ID(), task.AnyVersion, func(tk *task.Task) error {
				tk.SetCompleted(true, base.Add(time.Minute))
				return nil
			}); err != nil {
				t.Fatalf("Update(complete %d) error = %v", tk.ID(), err)
			}
			completed = append(completed, tk.ID())
		} else {
			pending = append(pending, tk.ID())
		}
	}
	for _, tt := range []struct {
		f    task.Query
		want []task.ID
	}{
		{task.Query{}, all},
		{task.Query{Statuses: []task.Status{task.StatusAll}}, all},
		{task.Query{Statuses: []task.Status{task.StatusPending}}, pending},
		{task.Query{Statuses: []task.Status{task.StatusCompleted}}, completed},
	} {
		got := mustList(t, repo, owner, tt.f)
		if !slices.Equal(ids(got), tt.want) {
			t.Errorf("List(%+v) ids = %v, want %v", tt.f, ids(got), tt.want)
		}
		for _, tk := range got {
			if slices.Contains(tt.f.Statuses, task.StatusPending) && tk.Completed() || slices.Contains(tt.f.Statuses, task.StatusCompleted) && !tk.Completed() {
				t.Errorf("List(%+v) has task %d with completed=%v", tt.f, tk.ID(), tk.Completed())
			}
		}
	}
}

func testListEmpty(t *testing.T, repo task.Repository) {
	owner := newOwner()
	for _, f := range []task.Query{{}, {Statuses: []task.Status{task.StatusAll}}, {Statuses: []task.Status{task.StatusPending}}, {Statuses: []task.Status{task.StatusCompleted}}} {
		got := mustList(t, repo, owner, f)
		if got == nil || len(got) != 0 {
			t.Errorf("List(%+v) for a new owner = %#v, want an empty non-nil slice", f, got)
		}
	}
}

func testIsolation(t *testing.T, repo task.Repository) {
	ctx := context.Background()
	alice, bob := newOwner(), newOwner()
	theirs := mustAdd(t, repo, mustNew(t, alice, "alice's", ptr("private"), base))
	mine := mustAdd(t, repo, mustNew(t, bob, "bob's", nil, base))

	if _, err := repo.Get(ctx, bob, theirs.ID()); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Get(other owner's task) error = %v, want ErrNotFound", err)
	}
	calls := 0
	if _, err := repo.Update(ctx, bob, theirs.ID(), task.AnyVersion, func(tk *task.Task) error {
		calls++
		tk.SetCompleted(true, base.Add(time.Hour))
		return tk.Edit("hijacked", nil, base.Add(time.Hour))
	}); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Update(other owner's task) error = %v, want ErrNotFound", err)
	}
	if calls != 0 {
		t.Errorf("Update(other owner's task) called fn %d times, want 0", calls)
	}
	if err := repo.Delete(ctx, bob, theirs.ID(), task.AnyVersion); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Delete(other owner's task) error = %v, want ErrNotFound", err)
	}
	for _, f := range []task.Query{{}, {Statuses: []task.Status{task.StatusPending}}} {
		if got := ids(mustList(t, repo, bob, f)); !slices.Equal(got, []task.ID{mine.ID()}) {
			t.Errorf("List(bob, %+v) ids = %v, want only bob's %d", f, got, mine.ID())
		}
	}
	checkTask(t, "Get(alice's task after bob's attempts)", mustGet(t, repo, alice, theirs.ID()), theirs)
}

func testUpdate(t *testing.T, repo task.Repository) {
	owner := newOwner()
	orig := mustAdd(t, repo, mustNew(t, owner, "draft", nil, base))
	later := base.Add(90*time.Minute + 123456*time.Microsecond)

	got, err := repo.Update(context.Background(), owner, orig.ID(), task.AnyVersion, func(tk *task.Task) error {
		checkTask(t, "Update fn's task", tk, orig)
		if err := tk.Edit("final", ptr("now with details"), later); err != nil {
			return err
		}
		tk.SetCompleted(true, later)
		return nil
	})
	if err != nil {
		t.Fatalf("Update() error = %v", err)
	}
	if got.Title() != "final" || descString(got.Description()) != `"now with details"` || !got.Completed() {
		t.Errorf("Update() = %q %s completed=%v, want \"final\" \"now with details\" completed=true", got.Title(), descString(got.Description()), got.Completed())
	}
	if !got.CreatedAt().Equal(orig.CreatedAt()) {
		t.Errorf("Update().CreatedAt() = %v, want unchanged %v", got.CreatedAt(), orig.CreatedAt())
	}
	// Edit set later, SetCompleted in the same microsecond moved it one more.
	if want := later.Add(time.Microsecond); !got.UpdatedAt().Equal(want) {
		t.Errorf("Update().UpdatedAt() = %v, want %v", got.UpdatedAt(), want)
	}
	checkTask(t, "Get(updated)", mustGet(t, repo, owner, orig.ID()), got)
}

func testUpdateFnError(t *testing.T, repo task.Repository) {
	owner := newOwner()
	orig := mustAdd(t, repo, mustNew(t, owner, "keep me", ptr("as is"), base))
	errStop := errors.New("stop")

	for _, tt := range []struct {
		name string
		fn   func(*task.Task) error
		is   func(error) bool
	}{
		{"sentinel after changes", func(tk *task.Task) error {
			tk.SetCompleted(true, base.Add(time.Hour))
			_ = tk.Edit("changed", nil, base.Add(time.Hour))
			return errStop
		}, func(err error) bool { return errors.Is(err, errStop) }},
		{"validation error", func(tk *task.Task) error {
			tk.ToggleCompleted(base.Add(time.Hour))
			return tk.Edit("   ", nil, base.Add(time.Hour))
		}, func(err error) bool { var v *task.ValidationError; return errors.As(err, &v) }},
	} {
		got, err := repo.Update(context.Background(), owner, orig.ID(), task.AnyVersion, tt.fn)
		if !tt.is(err) {
			t.Errorf("Update(%s) error = %v, want fn's error", tt.name, err)
		}
		if got != nil {
			t.Errorf("Update(%s) task = %v, want nil", tt.name, got)
		}
		checkTask(t, "Get(after Update("+tt.name+"))", mustGet(t, repo, owner, orig.ID()), orig)
	}
}

func testUpdateUnknown(t *testing.T, repo task.Repository) {
	owner := newOwner()
	added := mustAdd(t, repo, mustNew(t, owner, "exists", nil, base))
	calls := 0
	_, err := repo.Update(context.Background(), owner, added.ID()+1_000_000, task.AnyVersion, func(*task.Task) error { calls++; return nil })
	if !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Update(unknown id) error = %v, want ErrNotFound", err)
	}
	if calls != 0 {
		t.Errorf("Update(unknown id) called fn %d times, want 0", calls)
	}
}

func testDelete(t *testing.T, repo task.Repository) {
	ctx := context.Background()
	owner := newOwner()
	gone := mustAdd(t, repo, mustNew(t, owner, "delete me", nil, base))
	kept := mustAdd(t, repo, mustNew(t, owner, "keep me", nil, base))

	if err := repo.Delete(ctx, owner, gone.ID(), task.AnyVersion); err != nil {
		t.Fatalf("Delete() error = %v", err)
	}
	if _, err := repo.Get(ctx, owner, gone.ID()); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Get(deleted) error = %v, want ErrNotFound", err)
	}
	if err := repo.Delete(ctx, owner, gone.ID(), task.AnyVersion); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Delete(deleted) error = %v, want ErrNotFound", err)
	}
	if _, err := repo.Update(ctx, owner, gone.ID(), task.AnyVersion, func(*task.Task) error { return nil }); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Update(deleted) error = %v, want ErrNotFound", err)
	}
	if got := ids(mustList(t, repo, owner, task.Query{})); !slices.Equal(got, []task.ID{kept.ID()}) {
		t.Errorf("List() after Delete ids = %v, want %v", got, []task.ID{kept.ID()})
	}
}

// testConcurrentUpdates runs ten read-modify-write updates of one task at
// once. Each reads a counter from the title and writes it plus one, after a
// pause that lets the others read the same value if the store does not lock
// the row: then updates are lost and the count falls short of ten.
func testConcurrentUpdates(t *testing.T, repo task.Repository) {
	const n = 10
	owner := newOwner()
	tk := mustAdd(t, repo, mustNew(t, owner, "0", nil, base))
	edited := base.Add(time.Second)

	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := repo.Update(context.Background(), owner, tk.ID(), task.AnyVersion, func(tk *task.Task) error {
				count, err := strconv.Atoi(tk.Title())
				if err != nil {
					return err
				}
				time.Sleep(time.Millisecond)
				tk.ToggleCompleted(edited)
				return tk.Edit(strconv.Itoa(count+1), tk.Description(), edited)
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Update() error = %v", err)
		}
	}

	got := mustGet(t, repo, owner, tk.ID())
	if got.Title() != strconv.Itoa(n) {
		t.Errorf("after %d concurrent updates title = %q, want %q (updates were lost)", n, got.Title(), strconv.Itoa(n))
	}
	if got.Completed() {
		t.Errorf("after %d toggles completed = true, want false", n)
	}
	// Every change moves updated_at one microsecond past the last (two per update).
	if want := edited.Add((2*n - 1) * time.Microsecond); !got.UpdatedAt().Equal(want) {
		t.Errorf("after %d concurrent updates updated_at = %v, want %v", n, got.UpdatedAt(), want)
	}
}

// testConcurrentUpdatesOfMany updates 20 tasks of 4 owners at once, each
// twice (a toggle and a rename, concurrently), as PostgreSQL's group commit
// sends them in shared statements: every update lands, on its own task,
// once.
func testConcurrentUpdatesOfMany(t *testing.T, repo task.Repository) {
	const n = 20
	owners := []auth.UserID{newOwner(), newOwner(), newOwner(), newOwner()}
	tks := make([]*task.Task, n)
	for i := range tks {
		tks[i] = mustAdd(t, repo, mustNew(t, owners[i%len(owners)], "task "+strconv.Itoa(i), nil, base))
	}
	edited := base.Add(time.Second)
	var wg sync.WaitGroup
	for i, tk := range tks {
		for _, rename := range []bool{false, true} {
			wg.Go(func() {
				_, err := repo.Update(context.Background(), tk.Owner(), tk.ID(), task.AnyVersion, func(tk *task.Task) error {
					if rename {
						return tk.Edit("renamed "+strconv.Itoa(i), tk.Description(), edited)
					}
					tk.ToggleCompleted(edited)
					return nil
				})
				if err != nil {
					t.Errorf("concurrent Update(task %d, rename %v) error = %v", i, rename, err)
				}
			})
		}
	}
	wg.Wait()
	for i, tk := range tks {
		got := mustGet(t, repo, tk.Owner(), tk.ID())
		if got.Title() != "renamed "+strconv.Itoa(i) || !got.Completed() || got.Version() != 3 {
			t.Errorf("task %d after a concurrent toggle and rename = %q, completed %v, version %d; want %q, true, 3",
				i, got.Title(), got.Completed(), got.Version(), "renamed "+strconv.Itoa(i))
		}
	}
}

func testConcurrentAdds(t *testing.T, repo task.Repository) {
	const n = 20
	owner := newOwner()
	var wg sync.WaitGroup
	added := make(chan *task.Task, n)
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			tk, err := task.New(owner, "parallel "+strconv.Itoa(i), nil, base)
			if err == nil {
				tk, err = repo.Add(context.Background(), tk)
			}
			if err != nil {
				errs <- err
				return
			}
			added <- tk
		})
	}
	wg.Wait()
	close(added)
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Add() error = %v", err)
	}

	var want []task.ID
	seen := make(map[task.ID]bool)
	for tk := range added {
		if tk.ID() <= 0 || seen[tk.ID()] {
			t.Errorf("concurrent Add() id = %d, want positive and unique", tk.ID())
		}
		seen[tk.ID()] = true
		want = append(want, tk.ID())
		// Each create is told its own row's id, also when PostgreSQL's
		// creates share a statement (sqlstore's group commit).
		if got, err := repo.Get(context.Background(), owner, tk.ID()); err != nil || got.Title() != tk.Title() {
			t.Errorf("Get(%d) after concurrent Add(%q) = %v, %v; want that task", tk.ID(), tk.Title(), got, err)
		}
	}
	slices.Sort(want) // all created at the same instant: id order
	if got := ids(mustList(t, repo, owner, task.Query{})); !slices.Equal(got, want) {
		t.Errorf("List() after %d concurrent adds ids = %v, want %v", n, got, want)
	}
}
