package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"reflect"
	"time"

	"github.com/jackc/pgx/v5"
)

// guard wraps the database driver below database/sql, so that every
// repository, present or future, gets two things without doing anything:
//
//   - an error that means "the database cannot be reached" (see classify)
//     wraps store.ErrUnavailable, which the HTTP layer answers with 503 and
//     Retry-After instead of 500;
//   - every statement, and every transaction from BEGIN to COMMIT, has a
//     client-side deadline (Options.Timeout), so that a database that stopped
//     answering (a cut network drops packets, nothing says "refused") costs a
//     request seconds, not the minutes TCP takes to give up.
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
	mode    pgx.QueryExecMode
}

// guard wraps c. mode is how the repositories' hand-written PostgreSQL
// statements run on pgx directly (see withPgx); zero for SQLite.
func guard(c driver.Connector, timeout time.Duration, mode pgx.QueryExecMode) driver.Connector {
	return &guardConnector{Connector: c, timeout: timeout, mode: mode}
}

func (c *guardConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return &guardConn{Conn: dc, timeout: c.timeout, mode: c.mode}, nil
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
	timeout time.Duration
	mode    pgx.QueryExecMode
}

// bound gives one statement or transaction its deadline.
func (c *guardConn) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout <= 0 || ctx.Value(noTimeoutKey{}) != nil {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, c.timeout)
}

func (c *guardConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
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
		return nil, classify(err)
	}
	return &guardStmt{Stmt: st, conn: c}, nil
}

func (c *guardConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
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
		tx, err = c.Conn.Begin() //nolint:staticcheck // the fallback database/sql itself uses
	}
	if err != nil {
		cancel()
		return nil, classify(err)
	}
	return &guardTx{Tx: tx, cancel: cancel}, nil
}

func (c *guardConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, ok := c.Conn.(driver.ExecerContext)
	if !ok {
		return nil, driver.ErrSkip // database/sql prepares instead
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	res, err := e.ExecContext(ctx, query, args)
	return res, classify(err)
}

func (c *guardConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	q, ok := c.Conn.(driver.QueryerContext)
	if !ok {
		return nil, driver.ErrSkip
	}
	ctx, cancel := c.bound(ctx)
	rows, err := q.QueryContext(ctx, query, args)
	if err != nil {
		cancel()
		return nil, classify(err)
	}
	return &guardRows{Rows: rows, cancel: cancel}, nil
}

func (c *guardConn) Ping(ctx context.Context) error {
	p, ok := c.Conn.(driver.Pinger)
	if !ok {
		return nil
	}
	ctx, cancel := c.bound(ctx)
	defer cancel()
	return classify(p.Ping(ctx))
}

// ResetSession runs before a pooled connection is reused; pgx pings one
// that sat idle, which must not hang on a silent network either. A caller
// with a deadline of its own (every request has one) bounds the ping
// already: no timer of ours then, on a path every statement takes.
func (c *guardConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		if _, has := ctx.Deadline(); !has {
			var cancel context.CancelFunc
			ctx, cancel = c.bound(ctx)
			defer cancel()
		}
		return r.ResetSession(ctx)
	}
	return nil
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
			res, err = s.Stmt.Exec(vals) //nolint:staticcheck // the fallback database/sql itself uses
		}
	}
	return res, classify(err)
}

func (s *guardStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
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
			rows, err = s.Stmt.Query(vals) //nolint:staticcheck // the fallback database/sql itself uses
		}
	}
	if err != nil {
		cancel()
		return nil, classify(err)
	}
	return &guardRows{Rows: rows, cancel: cancel}, nil
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
	cancel context.CancelFunc
}

func (t *guardTx) Commit() error {
	defer t.cancel()
	return classify(t.Tx.Commit())
}

func (t *guardTx) Rollback() error {
	defer t.cancel()
	return classify(t.Tx.Rollback())
}

// guardRows keeps the statement's deadline alive until the rows are closed:
// they are read after QueryContext returned.
type guardRows struct {
	driver.Rows
	cancel context.CancelFunc
}

func (r *guardRows) Next(dest []driver.Value) error {
	err := r.Rows.Next(dest)
	if err == io.EOF { // the end of the rows, compared with == by database/sql
		return err
	}
	return classify(err)
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
