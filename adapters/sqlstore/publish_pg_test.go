package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/internal/testenv"
)

// openPG opens url on the pool, migrated when migrate, until the test ends.
func openPG(t *testing.T, url string, migrate bool) *bun.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, url, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if migrate {
		if err := sqlstore.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// listening starts a listener of instance B that keeps its watchers' rows
// on db, checks their heads every check, and waits until it listens.
func listening(t *testing.T, url string, db *bun.DB, hub *application.Hub, check time.Duration) *sqlstore.Listener {
	t.Helper()
	l, err := sqlstore.NewListener(url, hub, sqlstore.ListenOptions{DB: db, CheckInterval: check, RaceWindow: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	l.Start()
	t.Cleanup(l.Stop)
	for deadline := time.Now().Add(20 * time.Second); !l.Listening(); {
		if time.Now().After(deadline) {
			t.Fatal("the listener did not come up in 20 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return l
}

// spy listens on the channel with a connection of its own, to see the
// notifications themselves.
func spy(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	if _, err := c.Exec(ctx, "LISTEN "+pgx.Identifier{application.ChangeChannel}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	return c
}

// pairs returns the payload lines naming owner that the spy hears within d.
func pairs(t *testing.T, c *pgx.Conn, owner auth.UserID, d time.Duration) []string {
	t.Helper()
	var got []string
	deadline := time.Now().Add(d)
	for {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		n, err := c.WaitForNotification(ctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		for p := range strings.Lines(n.Payload) {
			if strings.HasSuffix(strings.TrimSuffix(p, "\n"), " "+string(owner)) {
				got = append(got, strings.TrimSuffix(p, "\n"))
			}
		}
	}
}

// quiet fails when ch wakes within d.
func quiet(t *testing.T, ch <-chan application.Wake, d time.Duration, what string) {
	t.Helper()
	select {
	case w := <-ch:
		t.Errorf("%s: a wake %+v", what, w)
	case <-time.After(d):
	}
}

func addTask(t *testing.T, ctx context.Context, tasks *sqlstore.TaskRepository, owner auth.UserID, title string) {
	t.Helper()
	tk, err := task.New(owner, title, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tasks.Add(ctx, tk); err != nil {
		t.Fatal(err)
	}
}

// TestPublishAfterCommit: writers do not notify (the trigger only stamps
// the watched user's head); instance A's publisher, woken by A's commits,
// sends the new head after the commit, and B's listener hands it to the
// stream's watcher; a rolled-back write sends nothing; one transaction's
// writes for many watched users (long ids) go out in as many
// notifications as their size needs, every one of them heard.
func TestPublishAfterCommit(t *testing.T) {
	t.Parallel()
	url := testenv.FreshSchema(t, "publish")
	ctx := context.Background()
	dbA, dbB := openPG(t, url, true), openPG(t, url, false)
	hubB := application.NewHub()
	b := listening(t, url, dbB, hubB, time.Hour) // no check: only notifications reach B
	raw := spy(t, url)
	tasks, feed, tx := sqlstore.NewTaskRepository(dbA), sqlstore.NewChangeLog(dbA), sqlstore.NewTransactor(dbA)

	owner := auth.UserID(fmt.Sprintf("u publish %d", time.Now().UnixNano()))
	ch, stop := b.Watch(owner, nil)
	defer stop()

	// No publisher on A yet: the commit is stamped, and nobody notifies.
	if err := tx.InTx(ctx, func(ctx context.Context) error {
		addTask(t, ctx, tasks, owner, "before the publisher")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := pairs(t, raw, owner, 300*time.Millisecond); len(got) > 0 {
		t.Errorf("a write notified by itself: %q", got)
	}
	quiet(t, ch, 10*time.Millisecond, "without a publisher")
	var stamp int64
	if err := dbA.NewRaw("SELECT stamp FROM change_heads WHERE user_id = ?", string(owner)).Scan(ctx, &stamp); err != nil || stamp <= 0 {
		t.Fatalf("the watched user's head has stamp %d (%v), want the writer's transaction id", stamp, err)
	}

	// The publisher's first floor is the oldest transaction running in the
	// whole cluster when it starts: it may send head 1 too.
	stopA := sqlstore.PublishChanges(dbA, application.NewHub())
	defer stopA()
	addTask(t, ctx, tasks, owner, "alone") // the group commit's statement, on pgx
	for {
		w := wake(t, ch, "after a write on A")
		if w.Head == 2 {
			break
		}
		if w.Head != 1 {
			t.Fatalf("B's watcher woke with %+v, want Head 2", w)
		}
	}
	if got := pairs(t, raw, owner, 300*time.Millisecond); len(got) == 0 || got[len(got)-1] != sqlstore.ChangeNotice(owner, 2) {
		t.Errorf("notifications %q, want the last for head 2", got)
	}
	select {
	case <-ch:
	default:
	}

	// A rollback: nothing; the commit after it: its own head.
	_ = tx.InTx(ctx, func(ctx context.Context) error {
		addTask(t, ctx, tasks, owner, "rolled back")
		return context.Canceled
	})
	if got := pairs(t, raw, owner, 300*time.Millisecond); len(got) > 0 {
		t.Errorf("a rolled-back write was notified: %q", got)
	}
	quiet(t, ch, 10*time.Millisecond, "after a rollback")
	if err := tx.InTx(ctx, func(ctx context.Context) error {
		addTask(t, ctx, tasks, owner, "committed")
		addTask(t, ctx, tasks, owner, "committed too")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	head, err := feed.Head(ctx, owner)
	if err != nil {
		t.Fatal(err)
	}
	if w := wake(t, ch, "after the transaction"); w.Head != head || head != 4 {
		t.Errorf("B's watcher woke with %+v, want the head %d (4)", w, head)
	}

	// Many watched users in one transaction: ids of 200 bytes, 60 of them
	// (12 kB of pairs: two notifications at least).
	users := make([]auth.UserID, 60)
	chans := make([]<-chan application.Wake, len(users))
	for i := range users {
		users[i] = auth.UserID(fmt.Sprintf("%s %02d %s", owner, i, strings.Repeat("x", 200-len(owner)-4)))
		c, stop := b.Watch(users[i], nil)
		defer stop()
		chans[i] = c
	}
	if err := tx.InTx(ctx, func(ctx context.Context) error {
		for _, u := range users {
			addTask(t, ctx, tasks, u, "one of many")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i, c := range chans {
		if w := wake(t, c, fmt.Sprintf("user %d of many", i)); w.Head != 1 {
			t.Errorf("user %d woke with %+v, want Head 1", i, w)
		}
	}
}

// TestPublishCheckFindsUnsent: a write committed by an instance whose
// publisher never ran (it died after the commit) still reaches the stream
// on B, by B's check of its users' heads; without streams the check sends
// no statement.
func TestPublishCheckFindsUnsent(t *testing.T) {
	t.Parallel()
	url := testenv.FreshSchema(t, "unsent")
	ctx := context.Background()
	dbA, dbB := openPG(t, url, true), openPG(t, url, false)
	b := listening(t, url, dbB, application.NewHub(), 100*time.Millisecond)
	tasks := sqlstore.NewTaskRepository(dbA)

	owner := auth.UserID(fmt.Sprintf("u_unsent_%d", time.Now().UnixNano()))
	ch, stop := b.Watch(owner, nil)
	defer stop()
	addTask(t, ctx, tasks, owner, "never notified") // no publisher on A
	start := time.Now()
	for {
		w := wake(t, ch, "the check")
		if w.Head == 1 {
			break
		}
		if w.Head != 0 {
			t.Fatalf("B's watcher woke with %+v, want Head 1", w)
		}
	}
	t.Logf("the check found the change after %s (interval 100ms)", time.Since(start).Round(time.Millisecond))
	// Seen once, not again.
	quiet(t, ch, 300*time.Millisecond, "a head already published")
}

// TestPublishFlushesAtStop: a commit that woke the publisher just before
// it stops (the instance shuts down: fx stops it after the HTTP server has
// drained its requests) is still notified, by a last round, and not left
// to the other instances' checks.
func TestPublishFlushesAtStop(t *testing.T) {
	t.Parallel()
	url := testenv.FreshSchema(t, "flush")
	ctx := context.Background()
	dbA, dbB := openPG(t, url, true), openPG(t, url, false)
	b := listening(t, url, dbB, application.NewHub(), time.Hour) // no check: only notifications reach B
	tasks := sqlstore.NewTaskRepository(dbA)

	owner := auth.UserID(fmt.Sprintf("u_flush_%d", time.Now().UnixNano()))
	ch, stop := b.Watch(owner, nil)
	defer stop()
	stopA := sqlstore.PublishChanges(dbA, application.NewHub())
	addTask(t, ctx, tasks, owner, "the last write before the shutdown")
	stopA()
	if w := wake(t, ch, "after the publisher stopped"); w.Head != 1 {
		t.Errorf("B's watcher woke with %+v, want Head 1", w)
	}
}
