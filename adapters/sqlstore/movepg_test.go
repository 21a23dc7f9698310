package sqlstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/internal/testenv"
)

// TestMovePipelinedEndsItsTransaction: the PostgreSQL move opens its
// transaction itself, on a pooled connection; whatever becomes of the move
// (done, refused by a rule, a conflict, a missing task) it ends the
// transaction and the connection serves the next statement (pgx's pool
// would otherwise discard it: a new connection per refused move). One
// connection in the pool, so that the next statement gets the same one:
// the same backend, idle. A move whose context is cancelled on the way may
// cost the connection.
func TestMovePipelinedEndsItsTransaction(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL (-short)")
	}
	db := migratedDB(t, testenv.FreshSchema(t, "movepg"))
	db.SetMaxOpenConns(1)
	r := NewTaskRepository(db)
	ctx := context.Background()
	owner := auth.UserID("movepg")
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	add := func(title string, opts ...task.Option) *task.Task {
		t.Helper()
		tk, err := task.New(owner, title, nil, at, opts...)
		if err != nil {
			t.Fatal(err)
		}
		if tk, err = r.Add(ctx, tk); err != nil {
			t.Fatal(err)
		}
		return tk
	}
	a, b, c := add("a"), add("b"), add("c")
	sub := add("sub", task.Under(ptr(a.ID())))
	backend := func() (uint32, byte) {
		var pid uint32
		var status byte
		err := withPgx(ctx, db, func(_ context.Context, c *pgx.Conn, _ pgx.QueryExecMode) error {
			pid, status = c.PgConn().PID(), c.PgConn().TxStatus()
			return nil
		})
		if err != nil {
			t.Fatalf("the next statement: %v", err)
		}
		return pid, status
	}
	first, _ := backend()
	idle := func(what string) {
		t.Helper()
		pid, status := backend()
		if pid != first || status != 'I' {
			t.Errorf("%s: the next statement ran on backend %d in transaction status %q, want %d, idle", what, pid, status, first)
		}
	}
	move := func(ids []task.ID, to task.Placement, expect task.Version) ([]*task.Task, error) {
		return r.Move(ctx, owner, task.Move{IDs: ids, To: to, Expect: expect, At: at})
	}
	cases := []struct {
		name string
		ids  []task.ID
		to   task.Placement
		exp  task.Version
		want func(error) bool
	}{
		{"a move", []task.ID{c.ID()}, task.Placement{After: ptr(a.ID())}, task.AnyVersion, func(err error) bool { return err == nil }},
		{"a bulk move", []task.ID{a.ID(), b.ID()}, task.Placement{}, task.AnyVersion, func(err error) bool { return err == nil }},
		{"a conflict", []task.ID{c.ID()}, task.Placement{}, 99, func(err error) bool { return errors.Is(err, task.ErrVersionMismatch) }},
		{"a cycle", []task.ID{a.ID()}, task.Placement{Parent: ptr(sub.ID())}, task.AnyVersion, isValidation},
		{"an anchor elsewhere", []task.ID{c.ID()}, task.Placement{After: ptr(sub.ID())}, task.AnyVersion, isValidation},
		{"a missing anchor", []task.ID{c.ID()}, task.Placement{After: ptr(task.ID(1 << 40))}, task.AnyVersion, func(err error) bool { return errors.Is(err, task.ErrNotFound) }},
		{"a missing task", []task.ID{1 << 40}, task.Placement{}, task.AnyVersion, func(err error) bool { return errors.Is(err, task.ErrNotFound) }},
		{"a missing list", []task.ID{c.ID()}, task.Placement{List: ptr(list.ID(1 << 40))}, task.AnyVersion, func(err error) bool { return errors.Is(err, list.ErrNotFound) }},
		{"a missing parent", []task.ID{c.ID()}, task.Placement{Parent: ptr(task.ID(1 << 40))}, task.AnyVersion, func(err error) bool { return errors.Is(err, task.ErrNotFound) }},
	}
	for _, tc := range cases {
		if _, err := move(tc.ids, tc.to, tc.exp); !tc.want(err) {
			t.Errorf("%s: Move = %v", tc.name, err)
		}
		idle(tc.name)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := r.Move(cancelled, owner, task.Move{IDs: []task.ID{c.ID()}, At: at}); err == nil {
		t.Errorf("Move(cancelled context) = nil error")
	}
	if _, status := backend(); status != 'I' {
		t.Errorf("after a cancelled move the next statement ran in transaction status %q, want idle", status)
	}
	// The moves that answered landed.
	got, err := readLive(ctx, r.run, owner, []task.ID{a.ID(), b.ID(), c.ID()}, false)
	if err != nil {
		t.Fatal(err)
	}
	if !(got[0].Position() < got[1].Position() && got[1].Position() < got[2].Position()) {
		t.Errorf("after the moves: a %q, b %q, c %q; want a, b, c in that order", got[0].Position(), got[1].Position(), got[2].Position())
	}
}

func isValidation(err error) bool {
	_, ok := errors.AsType[*task.ValidationError](err)
	return ok
}

func ptr[T any](v T) *T { return &v }
