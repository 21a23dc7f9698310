package sqlstore

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/todo-backend/todo/internal/testenv"
)

// TestCommitSignal: the pool's tracer wakes the publisher after a commit
// of a transaction that wrote and after a write that committed by itself,
// whichever path sent it (Bun, pgx directly), and never for reads, a
// read-only commit or a rollback; a ROLLBACK TO SAVEPOINT keeps the writes
// before it.
func TestCommitSignal(t *testing.T) {
	t.Parallel()
	db := migratedDB(t, testenv.FreshSchema(t, "signal"))
	ctx := context.Background()
	v, ok := signals.Load(db.DB)
	if !ok {
		t.Fatal("Open registered no commit signal")
	}
	sig := v.(*commitSignal)
	drain := func() {
		select {
		case <-sig.wake:
		default:
		}
	}
	expect := func(want bool, what string) {
		t.Helper()
		select {
		case <-sig.wake:
			if !want {
				t.Errorf("%s woke the publisher", what)
			}
		default:
			if want {
				t.Errorf("%s did not wake the publisher", what)
			}
		}
	}
	exec := func(q string) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	const insert = "INSERT INTO change_watchers (user_id, instance, expires_at) VALUES ('u', md5(random()::text), now())"
	drain()

	exec("SELECT 1")
	expect(false, "a read")
	exec(insert)
	expect(true, "a write alone")
	exec("WITH w AS (" + insert + " RETURNING 1) SELECT count(*) FROM w")
	expect(true, "a write in WITH")

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, insert); err != nil {
		t.Fatal(err)
	}
	expect(false, "a write in a transaction, before its commit")
	if _, err := tx.ExecContext(ctx, "SAVEPOINT s"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT s"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	expect(true, "the commit of a transaction that wrote (before a savepoint rolled back)")

	tx, err = db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, insert); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	expect(false, "a rollback")
	tx, err = db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "SELECT count(*) FROM change_watchers"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	expect(false, "the commit of a transaction that only read")

	if err := withPgx(ctx, db, func(ctx context.Context, c *pgx.Conn, _ pgx.QueryExecMode) error {
		_, err := c.Exec(ctx, insert)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	expect(true, "a write on pgx directly")
	if err := withPgx(ctx, db, func(ctx context.Context, c *pgx.Conn, _ pgx.QueryExecMode) error {
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		b.Queue(insert)
		b.Queue("COMMIT")
		return c.SendBatch(ctx, b).Close()
	}); err != nil {
		t.Fatal(err)
	}
	expect(true, "a pipelined transaction")

	// A pipelined batch without BEGIN is one implicit transaction that
	// commits at the batch's end (its Sync), after its writes' results.
	if err := withPgx(ctx, db, func(ctx context.Context, c *pgx.Conn, _ pgx.QueryExecMode) error {
		b := &pgx.Batch{}
		b.Queue(insert)
		b.Queue("SELECT pg_sleep(0.05)")
		br := c.SendBatch(ctx, b)
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return err
		}
		expect(false, "a pipelined write, before its batch's implicit commit")
		return br.Close()
	}); err != nil {
		t.Fatal(err)
	}
	expect(true, "a pipelined write, after its batch's implicit commit")
}
