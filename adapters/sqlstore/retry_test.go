package sqlstore

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/internal/testenv"
)

// deadlockPair runs two transactions on db that take two advisory locks in
// opposite orders, each after the other took its first: PostgreSQL breaks
// the cycle by aborting one (40P01). It returns each one's error and how
// many times each fn ran.
func deadlockPair(t *testing.T, ctx context.Context, db *bun.DB) (errs [2]error, runs [2]int64) {
	t.Helper()
	var first sync.WaitGroup
	first.Add(2)
	var once [2]sync.Once
	var n [2]atomic.Int64
	var wg sync.WaitGroup
	for i, keys := range [2][2]int64{{901, 902}, {902, 901}} {
		wg.Go(func() {
			errs[i] = inTx(ctx, db, func(ctx context.Context) error {
				n[i].Add(1)
				x := conn(ctx, db)
				if _, err := x.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", keys[0]); err != nil {
					return err
				}
				once[i].Do(first.Done) // the first run meets the other's first run
				first.Wait()
				_, err := x.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", keys[1])
				return err
			})
		})
	}
	wg.Wait()
	return errs, [2]int64{n[0].Load(), n[1].Load()}
}

// TestInTxRetriesDeadlock: a transaction PostgreSQL aborts to break a
// deadlock (40P01) runs again (TxAttempts), and both land; with the retry
// off (WithTxAttempts 1) one fails with the 40P01, as every such abort did
// before.
func TestInTxRetriesDeadlock(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL (-short)")
	}
	ctx := context.Background()
	db, err := Open(ctx, testenv.FreshSchema(t, "retry"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })

	errs, runs := deadlockPair(t, WithTxAttempts(ctx, 1), db)
	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
			if !retryable(err) {
				t.Errorf("without retry: %v, want 40P01", err)
			}
		}
	}
	if failed != 1 || runs != [2]int64{1, 1} {
		t.Errorf("without retry: errors %v, runs %v; want one 40P01, one run each", errs, runs)
	}

	errs, runs = deadlockPair(t, ctx, db)
	if errs[0] != nil || errs[1] != nil {
		t.Errorf("with retry: %v", errs)
	}
	if runs[0]+runs[1] != 3 {
		t.Errorf("runs %v, want 3 in all (one of them again)", runs)
	}
}

// TestInTxRetryBounded: a transaction aborted every time runs TxAttempts
// times, then its error comes back as application.ErrUnavailable (a 503,
// not a 500); other errors are not retried, and a savepoint's abort is
// the outer transaction's, run again whole.
func TestInTxRetryBounded(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "todo.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	deadlock := &pgconn.PgError{Code: "40P01", Message: "deadlock detected"}
	var runs int
	err = inTx(ctx, db, func(ctx context.Context) error { runs++; return deadlock })
	if !errors.Is(err, deadlock) || !errors.Is(err, application.ErrUnavailable) || runs != TxAttempts {
		t.Errorf("always aborted: %v after %d runs, want the 40P01, unavailable (a 503), after %d", err, runs, TxAttempts)
	}
	runs = 0
	err = inTx(ctx, db, func(ctx context.Context) error { runs++; return &pgconn.PgError{Code: "23505"} })
	if err == nil || runs != 1 {
		t.Errorf("a unique violation: %v after %d runs, want it after 1", err, runs)
	}
	runs = 0
	serial := &pgconn.PgError{Code: "40001"}
	err = inTx(ctx, db, func(ctx context.Context) error {
		return inTx(ctx, db, func(ctx context.Context) error {
			runs++
			if runs == 1 {
				return serial
			}
			return nil
		})
	})
	// The savepoint's abort is the outer transaction's: the outer one
	// runs again, the savepoint with it.
	if err != nil || runs != 2 {
		t.Errorf("a savepoint's 40001: %v after %d runs, want nil after 2", err, runs)
	}
}
