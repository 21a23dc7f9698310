package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"reflect"
	"time"
)

// guard wraps the database driver below database/sql, so that every
// repository, present or future, gets these without doing anything:
//
//   - an error that means "the database cannot be reached" (see classify)
//     wraps application.ErrUnavailable, which the HTTP layer answers with 503 and
//     Retry-After instead of 500;
//   - every statement, and every transaction from BEGIN to COMMIT, has a
//     client-side deadline (Options.Timeout), so that a database that stopped
//     answering (a cut network drops packets, nothing says "refused") costs a
//     request seconds, not the minutes TCP takes to notice;
//   - on PostgreSQL, a breaker (see breaker): once a statement timed out and
//     a probe confirmed that the database is silent, statements are refused
//     at once until a probe gets an answer;
//   - on PostgreSQL, the exec mode of the hand-written statements, which
//     falls back by itself behind a pooler that keeps no prepared
//     statements (see execMode).
//
// Everything else is passed through untouched: the driver's optional
// interfaces are forwarded when it has them and answered as database/sql
// would answer their absence when it does not, io.EOF and driver.ErrSkip stay
// identical (database/sql compares them with ==), and a classified error still
// unwraps to the driver's own (driver.ErrBadConn keeps database/sql's retry
// working; *pgconn.PgError keeps isEmailTaken working).
type guardConnector struct {
	driver.Connector
	timeout time.Duration
	// hot is how the repositories' hand-written PostgreSQL statements run on
	// pgx directly (see withPgx); nil for SQLite.
	hot *execMode
	// breaker is nil for SQLite (a local file is never silent) and without
	// a timeout (nothing ever times out).
	breaker *breaker
	// sig and sqldb, on PostgreSQL: the commit signal of the pool's
	// connections, registered for sqldb in signals until Close (see
	// publish.go).
	sig   *commitSignal
	sqldb *sql.DB
}

func (c *guardConnector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := c.admit(); err != nil {
		return nil, err
	}
	if c.breaker != nil {
		// Cut a connection attempt that waits on a silent network when the
		// breaker opens.
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		defer c.breaker.watch(cancel)()
	}
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, c.check(err)
	}
	return &guardConn{Conn: dc, g: c}, nil
}

// Close stops the breaker's probe; database/sql's DB.Close calls it.
func (c *guardConnector) Close() error {
	if c.sqldb != nil {
		signals.Delete(c.sqldb)
	}
	if c.breaker != nil {
		c.breaker.close()
	}
	if cl, ok := c.Connector.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

// admit is nil, or the error a statement gets at once while the breaker is
// open.
func (c *guardConnector) admit() error {
	if c.breaker == nil {
		return nil
	}
	if err := c.breaker.admit(); err != nil {
		return err
	}
	return nil
}

// check is what becomes of a statement's error: the breaker looks at it
// (see breaker.observe), then classify marks an outage.
func (c *guardConnector) check(err error) error {
	if err == nil {
		return nil
	}
	if c.breaker != nil {
		err = c.breaker.observe(err)
	}
	return classify(err)
}

// checkIn is check for a statement run with ctx, which also notes an
// abort (40P01, 40001) in the transaction ctx carries (abortedIn), however
// the caller then handles the error: it lost the transaction's run.
func (c *guardConnector) checkIn(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	abortedIn(ctx, c.sqldb, err)
	return c.check(err)
}

// bound gives one statement or transaction its deadline, and has it cut
// when the breaker opens.
func (c *guardConnector) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout <= 0 || ctx.Value(noTimeoutKey{}) != nil {
		return ctx, func() {}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	if c.breaker == nil {
		return ctx, cancel
	}
	stop := c.breaker.watch(cancel)
	return ctx, func() { stop(); cancel() }
}

// dsnConnector is a driver.Connector for a driver that has none of its own.
type dsnConnector struct {
	dsn string
	drv driver.Driver
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.drv }

type noTimeoutKey struct{}

// WithoutTimeout returns a context under which statements have no deadline of
// their own (only ctx's): for migrations, which may rightly take longer than
// a request's statement.
func WithoutTimeout(ctx context.Context) context.Context {
	return context.WithValue(ctx, noTimeoutKey{}, true)
}

type guardConn struct {
	driver.Conn
	g *guardConnector
}

func (c *guardConn) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return c.g.bound(ctx)
}

func (c *guardConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if err := c.g.admit(); err != nil {
		return nil, err
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	var (
		st  driver.Stmt
		err error
	)
	if p, ok := c.Conn.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(ctx, query)
	} else {
		st, err = c.Conn.Prepare(query)
	}
	if err != nil {
		return nil, c.g.check(err)
	}
	return &guardStmt{Stmt: st, conn: c}, nil
}

func (c *guardConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := c.g.admit(); err != nil {
		return nil, err
	}
	ctx, cancel := c.bound(ctx)
	var (
		tx  driver.Tx
		err error
	)
	if b, ok := c.Conn.(driver.ConnBeginTx); ok {
		tx, err = b.BeginTx(ctx, opts)
	} else if opts.Isolation != 0 || opts.ReadOnly {
		err = errors.New("sqlstore: the driver takes no transaction options")
	} else {
		//lint:ignore SA1019 the fallback database/sql itself uses for a driver without BeginTx
		tx, err = c.Conn.Begin()
	}
	if err != nil {
		cancel()
		return nil, c.g.check(err)
	}
	return &guardTx{Tx: tx, g: c.g, cancel: cancel}, nil
}

func (c *guardConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip // database/sql prepares instead
	}
	if err := c.g.admit(); err != nil {
		return nil, err
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	res, err := e.ExecContext(ctx, query, args)
	return res, c.g.checkIn(ctx, err)
}

func (c *guardConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	if err := c.g.admit(); err != nil {
		return nil, err
	}
	ctx, cancel := c.bound(ctx)
	rows, err := q.QueryContext(ctx, query, args)
	if err != nil {
		cancel()
		return nil, c.g.checkIn(ctx, err)
	}
	return &guardRows{Rows: rows, g: c.g, ctx: ctx, cancel: cancel}, nil
}

func (c *guardConn) Ping(ctx context.Context) error {
	p, ok := c.Conn.(driver.Pinger)
	if !ok {
		return nil
	}
	if err := c.g.admit(); err != nil {
		return err
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	return c.g.check(p.Ping(ctx))
}

// ResetSession runs before a pooled connection is reused; pgx pings one
// that sat idle, which must not hang on a silent network either: it gets
// the statement deadline, and is cut when the breaker opens. While the
// breaker is open there is no ping to wait for: the statement that follows
// is refused at once.
func (c *guardConn) ResetSession(ctx context.Context) error {
	r, ok := c.Conn.(driver.SessionResetter)
	if !ok || c.g.admit() != nil {
		return nil
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	err := r.ResetSession(ctx)
	if err != nil && c.g.breaker != nil {
		// pgx reports any failed ping as driver.ErrBadConn (database/sql
		// then takes another connection); the deadline tells whether the
		// ping went unanswered.
		c.g.breaker.observe(ctx.Err())
	}
	return err
}

func (c *guardConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *guardConn) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := c.Conn.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return driver.ErrSkip // database/sql's default conversion
}

type guardStmt struct {
	driver.Stmt
	conn *guardConn
}

func (s *guardStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if err := s.conn.g.admit(); err != nil {
		return nil, err
	}
	ctx, cancel := s.conn.bound(ctx)
	defer cancel()
	var (
		res driver.Result
		err error
	)
	if e, ok := s.Stmt.(driver.StmtExecContext); ok {
		res, err = e.ExecContext(ctx, args)
	} else {
		var vals []driver.Value
		if vals, err = values(args); err == nil {
			//lint:ignore SA1019 the fallback database/sql itself uses for a driver without StmtExecContext
			res, err = s.Stmt.Exec(vals)
		}
	}
	return res, s.conn.g.checkIn(ctx, err)
}

func (s *guardStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if err := s.conn.g.admit(); err != nil {
		return nil, err
	}
	ctx, cancel := s.conn.bound(ctx)
	var (
		rows driver.Rows
		err  error
	)
	if q, ok := s.Stmt.(driver.StmtQueryContext); ok {
		rows, err = q.QueryContext(ctx, args)
	} else {
		var vals []driver.Value
		if vals, err = values(args); err == nil {
			//lint:ignore SA1019 the fallback database/sql itself uses for a driver without StmtQueryContext
			rows, err = s.Stmt.Query(vals)
		}
	}
	if err != nil {
		cancel()
		return nil, s.conn.g.checkIn(ctx, err)
	}
	return &guardRows{Rows: rows, g: s.conn.g, ctx: ctx, cancel: cancel}, nil
}

func (s *guardStmt) CheckNamedValue(nv *driver.NamedValue) error {
	if n, ok := s.Stmt.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(nv)
	}
	return s.conn.CheckNamedValue(nv)
}

func values(args []driver.NamedValue) ([]driver.Value, error) {
	out := make([]driver.Value, len(args))
	for i, a := range args {
		if a.Name != "" {
			return nil, errors.New("sqlstore: the driver takes no named parameters")
		}
		out[i] = a.Value
	}
	return out, nil
}

type guardTx struct {
	driver.Tx
	g      *guardConnector
	cancel context.CancelFunc
}

func (t *guardTx) Commit() error {
	defer t.cancel()
	return t.g.check(t.Tx.Commit())
}

func (t *guardTx) Rollback() error {
	defer t.cancel()
	return t.g.check(t.Tx.Rollback())
}

// guardRows keeps the statement's deadline alive until the rows are closed:
// they are read after QueryContext returned.
type guardRows struct {
	driver.Rows
	g      *guardConnector
	ctx    context.Context // the statement's: an abort is noted in its transaction
	cancel context.CancelFunc
}

func (r *guardRows) Next(dest []driver.Value) error {
	err := r.Rows.Next(dest)
	if err == io.EOF { // the end of the rows, compared with == by database/sql
		return err
	}
	return r.g.checkIn(r.ctx, err)
}

func (r *guardRows) Close() error {
	defer r.cancel()
	return r.Rows.Close()
}

func (r *guardRows) ColumnTypeScanType(i int) reflect.Type {
	if c, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return c.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

func (r *guardRows) ColumnTypeDatabaseTypeName(i int) string {
	if c, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return c.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *guardRows) ColumnTypeLength(i int) (int64, bool) {
	if c, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return c.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *guardRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if c, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return c.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *guardRows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	if c, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return c.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

var (
	_ driver.Connector                      = (*guardConnector)(nil)
	_ io.Closer                             = (*guardConnector)(nil)
	_ driver.ConnPrepareContext             = (*guardConn)(nil)
	_ driver.ConnBeginTx                    = (*guardConn)(nil)
	_ driver.ExecerContext                  = (*guardConn)(nil)
	_ driver.QueryerContext                 = (*guardConn)(nil)
	_ driver.Pinger                         = (*guardConn)(nil)
	_ driver.SessionResetter                = (*guardConn)(nil)
	_ driver.Validator                      = (*guardConn)(nil)
	_ driver.NamedValueChecker              = (*guardConn)(nil)
	_ driver.StmtExecContext                = (*guardStmt)(nil)
	_ driver.StmtQueryContext               = (*guardStmt)(nil)
	_ driver.RowsColumnTypeScanType         = (*guardRows)(nil)
	_ driver.RowsColumnTypeDatabaseTypeName = (*guardRows)(nil)
	_ driver.RowsColumnTypeLength           = (*guardRows)(nil)
	_ driver.RowsColumnTypeNullable         = (*guardRows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*guardRows)(nil)
)
