package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/application"
)

// Transactions carried in a context. A Transactor's InTx begins a bun.Tx
// and hands fn a context holding it; every repository asks its context for
// the connection of its statements (conn, TaskRepository.on), so that with
// a transaction's context they run on it. In a transaction the
// hand-written statements run through Bun on the bun.Tx (bunRunner), as
// they do on SQLite: the group commit of creates and updates (batch.go)
// is for statements that commit alone, and is left out.
//
// A statement group that must be all or none by itself (AddAll, UpdateAll,
// TrashAll, Update's locking path) runs in a transaction of its own, or,
// inside a caller's, in a savepoint (inTx); so does a nested InTx. Bun's
// Tx.RunInTx makes a savepoint too, but hands its fn the context the outer
// transaction began with, not the caller's, which would lose the caller's
// deadline: the savepoints here are made with Tx.BeginTx, on the caller's
// context.

// txKey is the context key of the transaction a context carries.
type txKey struct{}

// ambient is a transaction carried in a context, and the database it is on:
// a repository on another database ignores it. run is the run of the
// outermost transaction, shared by its savepoints.
type ambient struct {
	db  *bun.DB
	tx  bun.Tx
	run *txRun
}

// txRun is one run of an outermost transaction (inTx). A statement of it
// that PostgreSQL aborted with 40P01 or 40001 loses the whole run, even in
// a savepoint that was rolled back and that the code around it got past:
// a batch of commands answers that command and carries on, a route
// answers a 500 and ends its unit of work with an error of its own. A
// deadlock leaves the transaction usable after ROLLBACK TO SAVEPOINT, but
// the write it broke is not done, and doing it again in the same
// transaction meets the same locks in the same order; so the run is
// rolled back whole and runs again (TxAttempts), or, past the bound,
// answers the abort (a 503), never what the code made of it. The guard
// (guard.go) notes every failed statement's abort (abortedIn), whatever
// becomes of its error; an abort returned from a savepoint is noted too
// (one a test makes up, with no statement).
type txRun struct {
	mu   sync.Mutex
	lost error // the first abort, nil while the run may commit
}

// abort notes err, PostgreSQL's abort of a statement of the run.
func (r *txRun) abort(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lost == nil {
		r.lost = err
	}
}

// err is the abort that lost the run, nil when none did.
func (r *txRun) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lost
}

// abortedIn notes err, the error of a statement run with ctx on sqldb,
// when it is an abort (retryable) in a transaction ctx carries on sqldb.
func abortedIn(ctx context.Context, sqldb *sql.DB, err error) {
	if err == nil || sqldb == nil || !retryable(err) {
		return
	}
	if a, ok := ctx.Value(txKey{}).(*ambient); ok && a.db.DB == sqldb {
		a.run.abort(err)
	}
}

// txOf is the transaction on db that ctx carries, if any.
func txOf(ctx context.Context, db *bun.DB) (bun.Tx, bool) {
	a, ok := ambientOf(ctx, db)
	return a.tx, ok
}

// ambientOf is the transaction on db that ctx carries, if any.
func ambientOf(ctx context.Context, db *bun.DB) (*ambient, bool) {
	a, ok := ctx.Value(txKey{}).(*ambient)
	if !ok || a.db != db {
		return &ambient{}, false
	}
	return a, true
}

// conn is the connection that ctx's statements on db run on: ctx's
// transaction when it carries one on db, otherwise db (any pooled
// connection, each statement committing by itself).
func conn(ctx context.Context, db *bun.DB) bun.IDB {
	if tx, ok := txOf(ctx, db); ok {
		return tx
	}
	return db
}

// Transactor is an application.Transactor on a database: InTx runs fn in a
// transaction that the repositories on the same *bun.DB find in fn's
// context.
type Transactor struct {
	db *bun.DB
}

var _ application.Transactor = (*Transactor)(nil)

// NewTransactor returns a Transactor on db, the one the repositories use.
func NewTransactor(db *bun.DB) *Transactor { return &Transactor{db: db} }

// InTx runs fn in a transaction (see application.Transactor): a new one,
// or a savepoint in the one ctx carries.
func (t *Transactor) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return inTx(ctx, t.db, fn)
}

// inTx runs fn in a transaction on db that fn's context carries: a new one,
// committed when fn returns nil; or, when ctx carries one on db already, a
// savepoint in it, released when fn returns nil. Either is rolled back when
// fn fails or panics. A savepoint of a run already lost to an abort
// (txRun) is not made, and fn not run: the error is the abort.
func inTx(ctx context.Context, db *bun.DB, fn func(ctx context.Context) error) error {
	if outer, ok := ambientOf(ctx, db); ok {
		// A run lost to an abort is rolled back whole and runs again (or
		// answers the abort): a savepoint of it would run its body, every
		// statement of it, for nothing.
		if lost := outer.run.err(); lost != nil {
			return lost
		}
		sp, err := outer.tx.BeginTx(ctx, nil) // SAVEPOINT
		if err != nil {
			if lost := outer.run.err(); lost != nil {
				return lost
			}
			return fmt.Errorf("savepoint: %w", err)
		}
		return runTx(ctx, db, sp, outer.run, fn)
	}
	attempts := TxAttempts
	if n, ok := ctx.Value(attemptsKey{}).(int); ok {
		attempts = n
	}
	wait := 5 * time.Millisecond
	for attempt := 1; ; attempt++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin transaction: %w", err)
		}
		body := fn
		if attempt == 1 && attempts > 1 && forcedRetry(ctx) {
			body = failOnce(fn)
		}
		err = runTx(ctx, db, tx, &txRun{}, body)
		switch {
		case err == nil || !retryable(err):
			return err
		case attempt >= attempts:
			// Nothing was written: the client may send it again, which
			// a 503 with Retry-After says (application.ErrUnavailable),
			// not a 500.
			return &unavailableError{err: err}
		}
		// Rolled back whole: nothing of it was committed, and every lock
		// it held is free. Again, after a pause of a few milliseconds
		// (jittered, so that the two of a deadlock do not meet again).
		if !sleep(ctx, wait+rand.N(wait)) {
			return err
		}
		wait *= 2
	}
}

// TxAttempts bounds the runs of one transaction (inTx, not a savepoint)
// that PostgreSQL aborted because it could not serialise it: a deadlock it
// broke (40P01) or a serialization failure (40001). Such a transaction
// wrote nothing, and runs again from the start, fn included: fn must keep
// nothing of a failed run but what it overwrites (the application's unit
// of work forgets its after-commit steps, transactor.go). Past the bound,
// the error wraps application.ErrUnavailable (a 503 with Retry-After: it
// wrote nothing, and may be sent again), never a 500. The writes' lock order
// (tree.go, members.go) makes these rare; this is the safety net.
const TxAttempts = 3

// attemptsKey carries WithTxAttempts' bound.
type attemptsKey struct{}

// WithTxAttempts bounds the runs of ctx's transactions to n (TxAttempts
// otherwise); 1 turns the retry off, for a test that must see the
// deadlock a lock order prevents rather than its retry.
func WithTxAttempts(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, attemptsKey{}, max(n, 1))
}

// Forced retry, for tests only. A test proves that a transaction's fn keeps
// nothing of a failed run by making every outermost transaction fail once,
// right before its COMMIT, with the 40001 PostgreSQL would send: fn ran and
// wrote, its writes are rolled back, and inTx runs it again. Two switches:
// WithForcedRetry on a context (the transactions begun with it), and, in a
// test binary only (testing.Testing), TODO_TEST_FORCE_RETRY=1 in the
// environment, for every transaction of the process (a whole package's
// tests: `TODO_TEST_FORCE_RETRY=1 go test ./test/contract`). A transaction
// whose retry is off (WithTxAttempts 1) is left alone. Otherwise it costs a
// bool and a context lookup per transaction.

// forceRetryKey carries WithForcedRetry's switch.
type forceRetryKey struct{}

// forceRetryAll is TODO_TEST_FORCE_RETRY in a test binary; set once, at init.
var forceRetryAll = testing.Testing() && os.Getenv("TODO_TEST_FORCE_RETRY") == "1"

// WithForcedRetry is for tests only: every outermost transaction begun with
// the returned context (inTx, not a savepoint) fails once with a synthetic
// 40001 right before its COMMIT, after its fn ran, and runs again.
func WithForcedRetry(ctx context.Context) context.Context {
	return context.WithValue(ctx, forceRetryKey{}, true)
}

// forcedRetry reports whether ctx's transactions fail once before COMMIT.
func forcedRetry(ctx context.Context) bool {
	if forceRetryAll {
		return true
	}
	on, _ := ctx.Value(forceRetryKey{}).(bool)
	return on
}

// failOnce is fn, then the 40001 of a forced retry when fn succeeded.
func failOnce(fn func(ctx context.Context) error) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := fn(ctx); err != nil {
			return err
		}
		return &pgconn.PgError{Code: "40001", Severity: "ERROR",
			Message: "could not serialize access (forced by sqlstore.WithForcedRetry, a test)"}
	}
}

// retryable reports whether err is PostgreSQL's abort of a transaction it
// could not serialise: a deadlock (40P01) or a serialization failure
// (40001).
func retryable(err error) bool {
	pe, ok := errors.AsType[*pgconn.PgError](err)
	return ok && (pe.Code == "40P01" || pe.Code == "40001")
}

// runTx runs fn with tx in its context, then commits tx (or releases it,
// a savepoint) or rolls it back. When run, the outermost transaction's,
// was lost to an abort (txRun), tx is rolled back and the error is the
// abort, whatever fn returned: an outermost transaction then runs again.
func runTx(ctx context.Context, db *bun.DB, tx bun.Tx, run *txRun, fn func(ctx context.Context) error) (err error) {
	finished := false
	defer func() {
		if !finished { // fn panicked: undo its writes, and let the panic go on
			_ = tx.Rollback()
		}
	}()
	err = fn(context.WithValue(ctx, txKey{}, &ambient{db: db, tx: tx, run: run}))
	finished = true
	if retryable(err) {
		run.abort(err)
	}
	if lost := run.err(); lost != nil {
		_ = tx.Rollback()
		return lost
	}
	if err != nil {
		// A failed rollback leaves nothing committed either (the
		// connection is dropped, or the outer transaction fails), and fn's
		// error says more.
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// alone runs fn, one statement on db that may fail (and a caller may then
// carry on, as UserRepository.Save does after a unique violation), so that
// its failure leaves a transaction that ctx carries usable: in a savepoint
// there (PostgreSQL refuses every statement after a failed one until the
// transaction ends or goes back to a savepoint). Outside a transaction it
// is the statement alone.
func alone(ctx context.Context, db *bun.DB, fn func(ctx context.Context, db bun.IDB) error) error {
	if _, ok := txOf(ctx, db); !ok {
		return fn(ctx, db)
	}
	return inTx(ctx, db, func(ctx context.Context) error { return fn(ctx, conn(ctx, db)) })
}
