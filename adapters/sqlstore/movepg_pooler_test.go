package sqlstore_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/internal/testenv"
)

// TestMovesThroughTransactionPooler: a move's statements run prepared,
// in a pipeline that begins the transaction. Behind PgBouncer in
// transaction mode without prepared statements the first of them to find
// its statement missing (or already there) ends its transaction and runs
// again unprepared, the hand-written statements switch to exec mode once,
// and every move lands. Moves come first on a fresh pool, so that they
// are the ones that meet the pooler.
func TestMovesThroughTransactionPooler(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL and pgbouncer: skipped with -short")
	}
	t.Parallel()
	direct := testenv.PostgresDatabase(t)
	pooled := startPgBouncer(t, direct)
	setup := open(t, direct, sqlstore.Options{})
	ctx := t.Context()
	if err := sqlstore.Migrate(ctx, setup); err != nil {
		t.Fatal(err)
	}
	owner := auth.UserID("pooler-mover")
	var ids []task.ID
	for i := range 10 {
		tk, err := task.New(owner, fmt.Sprint(i), nil, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if tk, err = sqlstore.NewTaskRepository(setup).Add(ctx, tk); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tk.ID())
	}

	ev := newEventLog()
	db := open(t, pooled, sqlstore.Options{Timeout: 20 * time.Second, MaxOpenConns: 8, OnEvent: ev.add})
	repo := sqlstore.NewTaskRepository(db)
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				id, after := ids[(w+i)%len(ids)], ids[(w+i+3)%len(ids)]
				if _, err := repo.Move(ctx, owner, task.Move{IDs: []task.ID{id}, To: task.Placement{After: &after}, At: time.Now()}); err != nil {
					errs <- fmt.Errorf("move %d after %d: %w", id, after, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 5 {
			t.Errorf("through pgbouncer: %v", err)
		}
	}
	var moves int64
	for _, id := range ids {
		got, err := repo.Get(ctx, owner, id)
		if err != nil {
			t.Fatal(err)
		}
		moves += int64(got.Version() - 1)
	}
	if moves != workers*each {
		t.Errorf("the tasks' versions count %d moves, want %d", moves, workers*each)
	}
	falls := 0
	for _, e := range ev.events() {
		if e.Kind == sqlstore.ExecModeFallback {
			falls++
		}
	}
	t.Logf("figures: pooler: %d moves through PgBouncer, %d errors, %d fallback(s) to exec mode", workers*each, n, falls)
}
