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

// TestSavepointAbortRetriesWhole: a 40P01 or 40001 met in a savepoint
// loses the whole run of the outermost transaction, even when the code
// around the savepoint carries on (as a batch of commands does, answering
// that one command, or a route that answers a 500 for it): the outer
// transaction is rolled back and runs again, and its error, past
// TxAttempts, is the abort's (a 503), not what the caller made of it.
func TestSavepointAbortRetriesWhole(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "todo.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	deadlock := &pgconn.PgError{Code: "40P01", Message: "deadlock detected"}
	handled := errors.New("the command answered 500")
	for _, c := range []struct {
		name  string
		outer func(inner error) error // what the outer fn makes of the savepoint's error
	}{
		{"carried on", func(error) error { return nil }},
		{"answered otherwise", func(error) error { return handled }},
	} {
		var outer, inner int
		err := inTx(ctx, db, func(ctx context.Context) error {
			outer++
			err := inTx(ctx, db, func(ctx context.Context) error {
				if inner++; inner == 1 {
					return deadlock
				}
				return nil
			})
			if err != nil {
				return c.outer(err)
			}
			return nil
		})
		if err != nil || outer != 2 || inner != 2 {
			t.Errorf("%s: %v after %d outer and %d inner runs, want nil after 2 and 2", c.name, err, outer, inner)
		}
		outer = 0
		err = inTx(ctx, db, func(ctx context.Context) error {
			outer++
			_ = inTx(ctx, db, func(ctx context.Context) error { return deadlock })
			return c.outer(nil)
		})
		if !errors.Is(err, deadlock) || !errors.Is(err, application.ErrUnavailable) || outer != TxAttempts {
			t.Errorf("%s, always aborted: %v after %d runs, want the 40P01, unavailable, after %d", c.name, err, outer, TxAttempts)
		}
	}
}

// TestSavepointAfterAbortRunsNothing: once a run of the outermost
// transaction is lost to an abort (a 40P01 in an earlier savepoint, which
// the code around it got past, as a batch of commands does), a later
// savepoint of that run returns the abort without running its body: the
// run is rolled back whole anyway. Before, only a failed SAVEPOINT was
// checked, and the body ran its statements (every later command of the
// batch) for nothing.
func TestSavepointAfterAbortRunsNothing(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "todo.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	deadlock := &pgconn.PgError{Code: "40P01", Message: "deadlock detected"}
	var outer, later int
	var lost []error
	err = inTx(ctx, db, func(ctx context.Context) error {
		outer++
		first := outer == 1
		_ = inTx(ctx, db, func(ctx context.Context) error {
			if first {
				return deadlock
			}
			return nil
		})
		for range 2 { // the batch's later commands, one nested in another
			err := inTx(ctx, db, func(ctx context.Context) error {
				if first {
					later++
				}
				return inTx(ctx, db, func(ctx context.Context) error {
					if first {
						later++
					}
					return nil
				})
			})
			if first {
				lost = append(lost, err)
			}
		}
		return nil
	})
	if err != nil || outer != 2 {
		t.Errorf("%v after %d outer runs, want nil after 2", err, outer)
	}
	if later != 0 {
		t.Errorf("the lost run ran %d savepoints' bodies after the abort, want none", later)
	}
	for i, err := range lost {
		if !errors.Is(err, deadlock) {
			t.Errorf("savepoint %d of the lost run: %v, want the 40P01", i, err)
		}
	}
}

// TestStatementAbortRetriesWhole: on PostgreSQL, a statement PostgreSQL
// aborts with 40P01 (a real deadlock, in a savepoint or not) loses the
// run of the outermost transaction, whatever fn then makes of the error:
// both transactions of a deadlock land, the loser run again.
func TestStatementAbortRetriesWhole(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL (-short)")
	}
	ctx := context.Background()
	db, err := Open(ctx, testenv.FreshSchema(t, "retry"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.ExecContext(ctx, "CREATE TABLE marks (k int)"); err != nil {
		t.Fatal(err)
	}
	for _, savepoint := range []bool{true, false} {
		if _, err := db.ExecContext(ctx, "DELETE FROM marks"); err != nil {
			t.Fatal(err)
		}
		var first sync.WaitGroup
		first.Add(2)
		var once [2]sync.Once
		var runs [2]atomic.Int64
		var errs [2]error
		var wg sync.WaitGroup
		for i, keys := range [2][2]int64{{911, 912}, {912, 911}} {
			wg.Go(func() {
				errs[i] = inTx(ctx, db, func(ctx context.Context) error {
					runs[i].Add(1)
					x := conn(ctx, db)
					if _, err := x.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", keys[0]); err != nil {
						return err
					}
					once[i].Do(first.Done)
					first.Wait()
					second := func(ctx context.Context) error {
						x := conn(ctx, db)
						if _, err := x.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", keys[1]); err != nil {
							return err
						}
						_, err := x.ExecContext(ctx, "INSERT INTO marks VALUES (?)", i)
						return err
					}
					if savepoint {
						// A command of a batch: its failure is its result,
						// and the batch carries on.
						_ = inTx(ctx, db, second)
						return nil
					}
					// A route that answers the error (a 500) and ends
					// its unit with an error of its own.
					if err := second(ctx); err != nil {
						return errors.New("answered 500")
					}
					return nil
				})
			})
		}
		wg.Wait()
		var marks int
		if err := db.NewRaw("SELECT count(*) FROM marks").Scan(ctx, &marks); err != nil {
			t.Fatal(err)
		}
		if errs[0] != nil || errs[1] != nil || marks != 2 || runs[0].Load()+runs[1].Load() != 3 {
			t.Errorf("savepoint %v: errors %v, %d of 2 marks, runs %d and %d; want no error, 2 marks, 3 runs in all",
				savepoint, errs, marks, runs[0].Load(), runs[1].Load())
		}
	}
}
