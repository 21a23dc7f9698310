package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/internal/testenv"
)

func batchDB(t *testing.T) *bun.DB {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL (-short)")
	}
	ctx := context.Background()
	db, err := Open(ctx, testenv.FreshSchema(t, "batch"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	return db
}

func batchOf(t *testing.T, ctx context.Context, titles ...string) []*batchReq[task.Stored] {
	t.Helper()
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	reqs := make([]*batchReq[task.Stored], len(titles))
	for i, title := range titles {
		tk, err := task.New("batch-user", "x", nil, now)
		if err != nil {
			t.Fatal(err)
		}
		row := tk.Stored()
		row.Title = title // past the domain's rules, to make a row fail
		reqs[i] = &batchReq[task.Stored]{ctx: ctx, item: row, done: make(chan batchResult, 1)}
	}
	return reqs
}

// inserted reads back each answer of a flushed batch: the title stored
// under the id it was given, and the transaction that wrote it (xmin).
func inserted(t *testing.T, db *bun.DB, reqs []*batchReq[task.Stored]) (titles []string, txs map[string]bool, errs []error) {
	t.Helper()
	txs = make(map[string]bool)
	for _, r := range reqs {
		res := <-r.done
		errs = append(errs, res.err)
		if res.err != nil {
			titles = append(titles, "")
			continue
		}
		var title, xmin string
		if err := db.DB.QueryRowContext(context.Background(), "SELECT title, xmin::text FROM tasks WHERE id = $1", res.n).Scan(&title, &xmin); err != nil {
			t.Fatalf("read back id %d: %v", res.n, err)
		}
		titles = append(titles, title)
		txs[xmin] = true
	}
	return titles, txs, errs
}

// A batch is one statement and one commit, and each create is told its own
// row's id.
func TestInsertBatch(t *testing.T) {
	db := batchDB(t)
	in := newInserter(db)
	var want []string
	for i := range 40 {
		want = append(want, "batched "+strconv.Itoa(i))
	}
	reqs := batchOf(t, context.Background(), want...)
	in.flush(context.Background(), reqs)
	titles, txs, errs := inserted(t, db, reqs)
	for i := range want {
		if errs[i] != nil || titles[i] != want[i] {
			t.Errorf("create %d: stored %q, %v under its id; want %q", i, titles[i], errs[i], want[i])
		}
	}
	if len(txs) != 1 {
		t.Errorf("a batch of %d creates committed in %d transactions, want 1", len(reqs), len(txs))
	}
}

// One bad row fails its own create only: the batch's statement fails as a
// whole, and its creates are retried one by one.
func TestInsertBatchBadRow(t *testing.T) {
	db := batchDB(t)
	in := newInserter(db)
	bad := strings.Repeat("x", 201) // over the table's CHECK on title
	reqs := batchOf(t, context.Background(), "first", "second", bad, "fourth")
	in.flush(context.Background(), reqs)
	titles, _, errs := inserted(t, db, reqs)
	for i, want := range []string{"first", "second", "", "fourth"} {
		if titles[i] != want {
			t.Errorf("create %d: stored %q, want %q", i, titles[i], want)
		}
	}
	if errs[2] == nil || !strings.Contains(errs[2].Error(), "tasks_title_len") {
		t.Errorf("bad row's create error = %v, want the title CHECK", errs[2])
	}
	for _, i := range []int{0, 1, 3} {
		if errs[i] != nil {
			t.Errorf("create %d error = %v, want none", i, errs[i])
		}
	}
}

// A create whose request is gone before its batch is sent is not stored,
// and says why.
func TestInsertBatchSkipsGoneRequests(t *testing.T) {
	db := batchDB(t)
	in := newInserter(db)
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	reqs := append(batchOf(t, context.Background(), "kept"), batchOf(t, gone, "gone")...)
	in.flush(context.Background(), reqs)
	titles, _, errs := inserted(t, db, reqs)
	if titles[0] != "kept" || errs[0] != nil {
		t.Errorf("live create: stored %q, %v; want kept", titles[0], errs[0])
	}
	if !errors.Is(errs[1], context.Canceled) {
		t.Errorf("gone create error = %v, want context.Canceled", errs[1])
	}
	var n int
	if err := db.QueryRowContext(context.Background(), "SELECT count(*) FROM tasks WHERE title = 'gone'").Scan(&n); err != nil || n != 0 {
		t.Errorf("rows of the gone create = %d, %v; want 0", n, err)
	}
}

// A batch stuck behind a lock ends at its requests' deadline, and its
// create is answered as a statement that ran out of time (503 upstream).
func TestInsertBatchEndsAtItsDeadline(t *testing.T) {
	db := batchDB(t)
	in := newInserter(db)
	ctx := context.Background()
	tx := lockTasks(t, db)
	defer tx.Rollback()
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err := in.do(short, batchOf(t, short, "stuck")[0].item)
	if !errors.Is(err, application.ErrUnavailable) {
		t.Errorf("insert behind a lock, past its deadline: error = %v, want application.ErrUnavailable", err)
	}
}

// When a batch is refused and its creates are retried one by one, a create
// whose request is gone by then is not stored (its client was told it
// failed).
func TestInsertBatchRetrySkipsGoneRequests(t *testing.T) {
	db := batchDB(t)
	in := newInserter(db)
	ctx := context.Background()
	tx := lockTasks(t, db)
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	reqs := append(batchOf(t, short, "expired"), batchOf(t, ctx, strings.Repeat("x", 201))...)
	go func() {
		<-short.Done() // the batch, which runs to the latest deadline, is still behind the lock
		time.Sleep(100 * time.Millisecond)
		_ = tx.Rollback()
	}()
	in.flush(ctx, reqs)
	titles, _, errs := inserted(t, db, reqs)
	if titles[0] != "" || !errors.Is(errs[0], application.ErrUnavailable) {
		t.Errorf("create past its deadline: stored %q, error %v; want not stored, application.ErrUnavailable", titles[0], errs[0])
	}
	if errs[1] == nil {
		t.Error("bad row's create: no error")
	}
}

// Batches of many users' creates, sent concurrently, do not deadlock on the
// users' counter rows (the counters' trigger takes them in user order).
func TestInsertBatchesDoNotDeadlock(t *testing.T) {
	db := batchDB(t)
	stop := time.Now().Add(3 * time.Second)
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for time.Now().Before(stop) {
				reqs := batchOf(t, context.Background(), make([]string, 2+rng.IntN(60))...)
				for _, r := range reqs {
					r.item.Title = "t"
					r.item.Owner = auth.UserID("user-" + strconv.Itoa(rng.IntN(80)))
				}
				rows := make([]task.Stored, len(reqs))
				for i, r := range reqs {
					rows[i] = r.item
				}
				if _, err := insertMany(context.Background(), db, rows); err != nil {
					t.Errorf("batch of %d creates for random users: %v", len(reqs), err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// lockTasks holds an exclusive lock on tasks until its transaction ends.
func lockTasks(t *testing.T, db *bun.DB) *sql.Tx {
	t.Helper()
	tx, err := db.DB.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback() })
	if _, err := tx.ExecContext(context.Background(), "LOCK TABLE tasks IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	return tx
}

// addRows stores one task per title, each of its own user, and returns
// their rows as stored (id, version 1).
func addRows(t *testing.T, db *bun.DB, titles ...string) []task.Stored {
	t.Helper()
	reqs := batchOf(t, context.Background(), titles...)
	rows := make([]task.Stored, len(reqs))
	for i, r := range reqs {
		r.item.Owner = auth.UserID("batch-user-" + strconv.Itoa(i))
		id, err := insertOne(context.Background(), db, r.item)
		if err != nil {
			t.Fatal(err)
		}
		rows[i] = r.item
		rows[i].ID, rows[i].Version = task.ID(id), 1
	}
	return rows
}

// A batch of updates is one statement and one commit; each update is told
// whether its task was still as it read it, and only those change.
func TestUpdateBatch(t *testing.T) {
	db := batchDB(t)
	ctx := context.Background()
	rows := addRows(t, db, "a", "b", "c", "d", "e")
	var reqs []*batchReq[updateArg]
	for i, row := range rows {
		next := row
		next.Title, next.Completed = "new "+row.Title, true
		read := int64(row.Version)
		if i == 2 {
			read = 7 // someone else's write came first
		}
		reqs = append(reqs, &batchReq[updateArg]{ctx: ctx, item: updateArg{next: next, read: read}, done: make(chan batchResult, 1)})
	}
	slices.Reverse(reqs) // the statement sorts them by id
	newUpdater(db).flush(ctx, reqs)
	txs := map[string]bool{}
	for _, r := range reqs {
		res := <-r.done
		var title, xmin string
		var version int64
		if err := db.DB.QueryRowContext(ctx, "SELECT title, version, xmin::text FROM tasks WHERE id = $1", r.item.next.ID).Scan(&title, &version, &xmin); err != nil {
			t.Fatal(err)
		}
		stale := r.item.read != 1
		switch {
		case res.err != nil:
			t.Errorf("update of task %d: %v", r.item.next.ID, res.err)
		case stale && (res.n != 0 || title != strings.TrimPrefix(r.item.next.Title, "new ") || version != 1):
			t.Errorf("stale update of task %d: changed %d, stored %q v%d; want 0, unchanged", r.item.next.ID, res.n, title, version)
		case !stale && (res.n != 1 || title != r.item.next.Title || version != 2):
			t.Errorf("update of task %d: changed %d, stored %q v%d; want 1, %q v2", r.item.next.ID, res.n, title, version, r.item.next.Title)
		case !stale:
			txs[xmin] = true
		}
	}
	if len(txs) != 1 {
		t.Errorf("a batch of updates committed in %d transactions, want 1", len(txs))
	}
}

// A batch holds at most one update per task: the others wait, in order, for
// the next (one statement cannot say which of two updates of a row won).
func TestUpdateBatchOnePerTask(t *testing.T) {
	u := newUpdater(nil)
	for _, id := range []int64{1, 2, 1, 3, 2, 1} {
		u.queue = append(u.queue, &batchReq[updateArg]{item: updateArg{next: task.Stored{ID: task.ID(id)}}})
	}
	var got [][]int64
	for len(u.queue) > 0 {
		var ids []int64
		for _, r := range u.take() {
			ids = append(ids, int64(r.item.next.ID))
		}
		got = append(got, ids)
	}
	if want := [][]int64{{1, 2, 3}, {1, 2}, {1}}; !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("batches taken = %v, want %v", got, want)
	}
}

// Batches of updates of overlapping tasks, sent concurrently, do not
// deadlock (each locks its tasks in id order before it writes them).
func TestUpdateBatchesDoNotDeadlock(t *testing.T) {
	db := batchDB(t)
	titles := make([]string, 40)
	for i := range titles {
		titles[i] = "task " + strconv.Itoa(i)
	}
	rows := addRows(t, db, titles...)
	// A small table the planner knows: it joins by hashing, and the rows
	// move in the heap as they are updated.
	if _, err := db.DB.Exec("ANALYZE tasks"); err != nil {
		t.Fatal(err)
	}
	stop := time.Now().Add(3 * time.Second)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 2))
			for time.Now().Before(stop) {
				var as []updateArg
				for _, i := range rng.Perm(len(rows))[:2+rng.IntN(20)] {
					next := rows[i]
					var read int64
					if err := db.DB.QueryRow("SELECT version FROM tasks WHERE id = $1", next.ID).Scan(&read); err != nil {
						t.Error(err)
						return
					}
					next.Completed = rng.IntN(2) == 0
					as = append(as, updateArg{next: next, read: read})
				}
				if _, err := updateMany(context.Background(), db, as); err != nil {
					t.Errorf("batch of %d updates of overlapping tasks: %v", len(as), err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// The batches write every column of taskColumns, each as its array and
// cast: tasks with every field set, and with none, come back as they were
// sent, after a batch of creates and after a batch of updates.
func TestBatchesWriteEveryColumn(t *testing.T) {
	db := batchDB(t)
	ctx := context.Background()
	repo := NewTaskRepository(db)
	const owner = "every-column"
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	newTask := func(title string, desc *string, opts ...task.Option) *task.Task {
		tk, err := task.New(owner, title, desc, now, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	desc := "described"
	// A list and a parent, for the columns that name them.
	var listID list.ID
	if err := db.NewRaw("INSERT INTO lists (user_id, name, name_key, created_at, updated_at) VALUES (?, 'L', 'l', ?, ?) RETURNING id",
		owner, now, now).Scan(ctx, &listID); err != nil {
		t.Fatal(err)
	}
	parent, err := repo.Add(ctx, newTask("parent", nil, task.InList(&listID)))
	if err != nil {
		t.Fatal(err)
	}
	parentID := parent.ID()
	full := newTask("full", &desc, task.WithPriority("high"), task.WithDue("2026-12-01T09:30:00.123456Z"),
		task.InList(&listID), task.Under(&parentID))
	full.SetCompleted(true, now.Add(time.Second))
	tasks := []*task.Task{full, newTask("all day", nil, task.WithPriority("low"), task.WithDue("2026-12-02"), task.InList(&listID)),
		newTask("bare", nil)}
	check := func(what string, want []*task.Task) {
		t.Helper()
		for _, w := range want {
			got, err := repo.Get(ctx, owner, w.ID())
			if err != nil {
				t.Fatalf("%s: Get(%d): %v", what, w.ID(), err)
			}
			g, s := got.Stored(), w.Stored()
			g.Tags, s.Tags = nil, nil // none here; [] or nil
			if !reflect.DeepEqual(g, s) {
				t.Errorf("%s: read back\n%+v\nwant\n%+v", what, g, s)
			}
		}
	}

	rows := make([]task.Stored, len(tasks))
	for i, tk := range tasks {
		rows[i] = tk.Stored()
	}
	ids, err := insertMany(ctx, db, rows)
	if err != nil {
		t.Fatal(err)
	}
	for i := range tasks {
		tasks[i] = tasks[i].WithID(task.ID(ids[i])).WithVersion(1)
	}
	check("batch of creates", tasks)

	// Each task takes another's fields: every column changes, to a value
	// and from one, NULL included; but where it is (its list, parent and
	// key), which only a move changes.
	next := []*task.Task{tasks[2], tasks[0], tasks[1]}
	var as []updateArg
	for i, tk := range next {
		s := tk.Stored()
		at := tasks[i].Stored()
		s.ID, s.ListID, s.ParentID, s.Position = at.ID, at.ListID, at.ParentID, at.Position
		as = append(as, updateArg{next: s, read: 1})
		u, err := s.Restore()
		if err != nil {
			t.Fatal(err)
		}
		next[i] = u.WithVersion(2)
	}
	n, err := updateMany(ctx, db, as)
	if err != nil || !slices.Equal(n, []int64{1, 1, 1}) {
		t.Fatalf("updateMany = %v, %v; want each task written", n, err)
	}
	check("batch of updates", next)
}
