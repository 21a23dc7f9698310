package sqlstore

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// execMode is how the hand-written statements run (see withPgx), shared by
// every connection of one DB so that a fallback switches them all at once.
//
// By default they run as named prepared statements (cache_statement):
// prepared once per connection, then reused. A transaction pooler without
// prepared-statement support (PgBouncer before 1.21, or later ones with
// max_prepared_statements = 0, in transaction mode) hands each transaction
// any server connection, so a statement prepared on one is missing on the
// next ("prepared statement ... does not exist", 26000) or already there
// from another client ("... already exists", 42P05). Nothing at start tells
// such a pooler apart from PostgreSQL, so the first of those errors does:
// from then on every connection runs them in exec mode (unnamed statements,
// one round trip, as Bun's queries always run), and the event says so once.
type execMode struct {
	mode atomic.Int32 // a pgx.QueryExecMode
	// auto: the URL named no default_query_exec_mode, so the mode is ours
	// to change. A mode the URL names is kept (and Bun's queries use it
	// too, so falling back for ours alone would not help).
	auto   bool
	notify func(Event)
}

func newExecMode(mode pgx.QueryExecMode, auto bool, notify func(Event)) *execMode {
	if notify == nil {
		notify = func(Event) {}
	}
	m := &execMode{auto: auto, notify: notify}
	m.mode.Store(int32(mode))
	return m
}

func (m *execMode) load() pgx.QueryExecMode { return pgx.QueryExecMode(m.mode.Load()) }

// fallBack reports whether a statement run in mode used that failed with err
// failed because the server keeps no prepared statements; if so the mode is
// exec from now on (the first caller to see it tells notify).
func (m *execMode) fallBack(used pgx.QueryExecMode, err error) bool {
	if !m.auto || used != pgx.QueryExecModeCacheStatement || !preparedStatementMissing(err) {
		return false
	}
	if m.mode.CompareAndSwap(int32(pgx.QueryExecModeCacheStatement), int32(pgx.QueryExecModeExec)) {
		m.notify(Event{Kind: ExecModeFallback, Err: err})
	}
	return true
}

// preparedStatementMissing: invalid_sql_statement_name (26000, "prepared
// statement ... does not exist") or duplicate_prepared_statement (42P05,
// "... already exists"). Both are raised at Parse or Bind, before the
// statement runs.
func preparedStatementMissing(err error) bool {
	pe, ok := errors.AsType[*pgconn.PgError](err)
	return ok && (pe.Code == "26000" || pe.Code == "42P05")
}

// runPgx runs fn, one hand-written statement on pc (this connection's pgx
// connection), the way guard runs every other statement: refused at once
// while the breaker is open, under the statement deadline, its error
// classified. Behind a pooler that keeps no prepared statements it falls
// back to exec mode and runs fn once more, when that is safe: the
// statement failed at Parse or Bind, so it did not run, and the connection
// is in no transaction (one the failed statement would have aborted).
func (c *guardConn) runPgx(ctx context.Context, pc *pgx.Conn, fn func(ctx context.Context, c *pgx.Conn, mode pgx.QueryExecMode) error) error {
	if err := c.g.admit(); err != nil {
		return err
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	mode := c.g.hot.load()
	err := fn(ctx, pc, mode)
	if err != nil && c.g.hot.fallBack(mode, err) && pc.PgConn().TxStatus() == 'I' && ctx.Err() == nil {
		err = fn(ctx, pc, c.g.hot.load())
	}
	return c.g.check(err)
}
