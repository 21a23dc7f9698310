package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

// The hot paths (list, get, add, the fast update) are SQL written here with
// bound parameters, not built by Bun, for two reasons a profile of `make
// bench` showed: Bun formats every argument into the SQL text, so PostgreSQL
// parses and plans each statement anew, and scanning through database/sql
// and reflection cost the service more CPU than the rest of the request. On
// PostgreSQL they run on the pooled connection's *pgx.Conn (withPgx), as
// prepared statements, scanned by pgx's typed scanners into a pooled
// rowScan (row.go); on SQLite, through Bun, which formats their arguments
// as it does every other query's, scanned through database/sql into the
// same targets. Which of the two a repository uses is its runner.

// sqlText is one statement being written: SQL with ? placeholders, as both
// dialects' fragments are written, and its arguments in order. For pgx the
// placeholders become $1, $2, ... as they are added. A statement written
// once (stmt) is taken whole instead (fixed).
type sqlText struct {
	// pg: the statement is PostgreSQL's, and is spelt as PostgreSQL spells
	// a search, a row lock or an OFFSET without a LIMIT.
	pg bool
	// dollar: its placeholders are pgx's $1, $2, ..., not Bun's ?.
	dollar bool
	text   string // a fixed statement
	b      strings.Builder
	args   []any
	// adhoc marks a statement whose best plan depends on its arguments (a
	// search pattern, a tag, a date range): it is planned for them each
	// time rather than prepared once, where PostgreSQL could settle on a
	// generic plan that suits no pattern in particular.
	adhoc bool
	// extra is what the statement selects after selectList.
	extra extra
}

// add appends frag, whose ? placeholders take args in order. A frag never
// holds a ? of its own in a literal.
func (s *sqlText) add(frag string, args ...any) *sqlText {
	n := strings.Count(frag, "?")
	if n != len(args) {
		panic(fmt.Sprintf("sqlstore: %d placeholders for %d arguments in %q", n, len(args), frag))
	}
	if !s.dollar || n == 0 {
		s.b.WriteString(frag)
		s.args = append(s.args, args...)
		return s
	}
	for _, a := range args {
		i := strings.IndexByte(frag, '?')
		s.b.WriteString(frag[:i])
		s.args = append(s.args, a)
		s.b.WriteByte('$')
		s.b.WriteString(strconv.Itoa(len(s.args)))
		frag = frag[i+1:]
	}
	s.b.WriteString(frag)
	return s
}

// in appends "(?, ?, ...)" for the values.
func in[T any](s *sqlText, vals []T) *sqlText {
	s.add("(")
	for i, v := range vals {
		if i > 0 {
			s.add(", ")
		}
		s.add("?", v)
	}
	return s.add(")")
}

// lockRows appends what makes a SELECT in a transaction lock the rows it
// reads: FOR UPDATE on PostgreSQL. SQLite needs nothing: its transaction,
// begun IMMEDIATE on the only connection, holds the write lock.
func (s *sqlText) lockRows() *sqlText {
	if s.pg {
		s.add(" FOR UPDATE")
	}
	return s
}

// limitOffset appends a LIMIT (none when limit is 0) and an OFFSET (none
// when offset is 0). SQLite needs a LIMIT before an OFFSET: -1, none.
func (s *sqlText) limitOffset(limit, offset int) *sqlText {
	switch {
	case limit > 0:
		s.add(" LIMIT ?", limit)
	case offset > 0 && !s.pg:
		s.add(" LIMIT -1")
	}
	if offset > 0 {
		s.add(" OFFSET ?", offset)
	}
	return s
}

// stmt is a statement written once, with its placeholders as Bun and as pgx
// take them.
type stmt struct{ bun, pgx string }

func newStmt(q string) stmt { return stmt{bun: q, pgx: dollars(q)} }

// dollars is q with its ? placeholders numbered: $1, $2, ...
func dollars(q string) string {
	var b strings.Builder
	for n := 1; ; n++ {
		i := strings.IndexByte(q, '?')
		if i < 0 {
			break
		}
		b.WriteString(q[:i])
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
		q = q[i+1:]
	}
	b.WriteString(q)
	return b.String()
}

// fixed makes s the statement st, with its arguments; nothing is added to it.
func (s *sqlText) fixed(st stmt, args ...any) *sqlText {
	s.text = st.bun
	if s.dollar {
		s.text = st.pgx
	}
	s.args = args
	return s
}

// withExtra says what s selects after selectList.
func (s *sqlText) withExtra(e extra) *sqlText {
	s.extra = e
	return s
}

func (s *sqlText) String() string {
	if s.text != "" {
		return s.text
	}
	return s.b.String()
}

// run is how s runs on a connection whose hand-written statements run in
// mode, as pgx's leading argument, followed by s's arguments.
func (s *sqlText) run(mode pgx.QueryExecMode) []any {
	if s.adhoc && (mode == pgx.QueryExecModeCacheStatement || mode == pgx.QueryExecModeCacheDescribe) {
		mode = pgx.QueryExecModeExec
	}
	return append([]any{mode}, s.args...)
}

// runner runs the repository's statements: on PostgreSQL on pgx, prepared,
// with creates and updates group-committed (pgxRunner); on SQLite through
// Bun, as in a transaction on either database (bunRunner). The repository
// picks its runner once, when it is made: no method asks the dialect which
// way to go, and a statement written for a runner (sql) runs on it. A
// runner bound to another connection (a transaction) is one more runner.
type runner interface {
	// sql starts a statement in the runner's dialect and placeholders.
	sql() *sqlText
	// tasks runs s, which selects selectList (then s.extra's columns) of
	// owner's tasks.
	tasks(ctx context.Context, owner auth.UserID, s *sqlText) (taskRows, error)
	// ints runs s, which selects integer columns of at most one row, into
	// dest; sql.ErrNoRows when there is none.
	ints(ctx context.Context, s *sqlText, dest ...*int64) error
	// insert stores row (insertSQL) and returns the id it was given.
	insert(ctx context.Context, row task.Stored) (int64, error)
	// update writes next, at version read+1, over its task if that is
	// still live at version read (updateSQL), and reports the rows changed:
	// 0 or 1.
	update(ctx context.Context, next task.Stored, read int64) (int64, error)
	// idb is the connection for the statements Bun builds.
	idb() bun.IDB
}

// pgxRunner runs the statements on the pooled connection's *pgx.Conn
// (withPgx), as prepared statements in the mode the URL allows, scanned by
// pgx's typed scanners (rowScan). Creates, and the updates of Update's fast
// path, are group-committed (batch.go).
type pgxRunner struct {
	db  *bun.DB
	ins *batcher[task.Stored]
	upd *batcher[updateArg]
}

func newPgxRunner(db *bun.DB) *pgxRunner {
	return &pgxRunner{db: db, ins: newInserter(db), upd: newUpdater(db)}
}

func (x *pgxRunner) sql() *sqlText { return &sqlText{pg: true, dollar: true} }
func (x *pgxRunner) idb() bun.IDB  { return x.db }

func (x *pgxRunner) tasks(ctx context.Context, owner auth.UserID, s *sqlText) (taskRows, error) {
	var out taskRows
	err := withPgx(ctx, x.db, func(ctx context.Context, c *pgx.Conn, mode pgx.QueryExecMode) error {
		res, err := c.Query(ctx, s.String(), s.run(mode)...)
		if err != nil {
			return err
		}
		out, err = scanTasks(res, owner, s.extra)
		return err
	})
	return out, err
}

// scanTasks reads res, rows of owner's tasks (selectList, then ex's
// columns), and closes it.
func scanTasks(res pgx.Rows, owner auth.UserID, ex extra) (taskRows, error) {
	var out taskRows
	defer res.Close()
	r := rowScans.Get().(*rowScan)
	defer r.release()
	dest := r.targets[ex]
	for res.Next() {
		if err := res.Scan(dest...); err != nil {
			return out, err
		}
		if err := out.add(r, owner, ex); err != nil {
			return out, err
		}
	}
	return out, res.Err()
}

func (x *pgxRunner) ints(ctx context.Context, s *sqlText, dest ...*int64) error {
	return pgxInts(ctx, x.db, s, dest...)
}

func (x *pgxRunner) insert(ctx context.Context, row task.Stored) (int64, error) {
	return x.ins.do(ctx, row)
}

func (x *pgxRunner) update(ctx context.Context, next task.Stored, read int64) (int64, error) {
	return x.upd.do(ctx, updateArg{next: next, read: read})
}

// pgxInts runs a statement that selects integer columns of at most one row
// into dest; sql.ErrNoRows when there is none.
func pgxInts(ctx context.Context, db *bun.DB, s *sqlText, dest ...*int64) error {
	return withPgx(ctx, db, func(ctx context.Context, c *pgx.Conn, mode pgx.QueryExecMode) error {
		err := c.QueryRow(ctx, s.String(), s.run(mode)...).Scan(ptrs(dest)...)
		if errors.Is(err, pgx.ErrNoRows) {
			return sql.ErrNoRows
		}
		return err
	})
}

// pgxExec runs a statement that returns no rows and reports how many it
// changed.
func pgxExec(ctx context.Context, db *bun.DB, s *sqlText) (int64, error) {
	var n int64
	err := withPgx(ctx, db, func(ctx context.Context, c *pgx.Conn, mode pgx.QueryExecMode) error {
		tag, err := c.Exec(ctx, s.String(), s.run(mode)...)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}

// bunRunner runs the statements through Bun on db, which formats their
// arguments into the SQL and runs them on database/sql: SQLite's only
// connection, or a transaction on either database. pg says which database.
type bunRunner struct {
	db bun.IDB
	pg bool
}

func (x bunRunner) sql() *sqlText { return &sqlText{pg: x.pg} }
func (x bunRunner) idb() bun.IDB  { return x.db }

func (x bunRunner) tasks(ctx context.Context, owner auth.UserID, s *sqlText) (taskRows, error) {
	var out taskRows
	rows, err := x.db.QueryContext(ctx, s.String(), s.args...)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	r := rowScans.Get().(*rowScan)
	defer r.release()
	dest := r.targets[s.extra]
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return out, err
		}
		if err := out.add(r, owner, s.extra); err != nil {
			return out, err
		}
	}
	return out, rows.Err()
}

func (x bunRunner) ints(ctx context.Context, s *sqlText, dest ...*int64) error {
	return x.db.QueryRowContext(ctx, s.String(), s.args...).Scan(ptrs(dest)...)
}

func (x bunRunner) insert(ctx context.Context, row task.Stored) (int64, error) {
	var id int64
	if err := x.db.QueryRowContext(ctx, insertSQL.bun, insertArgs(&row)...).Scan(&id); err != nil {
		return 0, err
	}
	return id, nil
}

func (x bunRunner) update(ctx context.Context, next task.Stored, read int64) (int64, error) {
	return affected(x.db.ExecContext(ctx, updateSQL.bun, updateArgs(&next, read)...))
}

// add appends the row r just scanned, as owner's task, and its extra
// columns.
func (o *taskRows) add(r *rowScan, owner auth.UserID, e extra) error {
	t, err := r.task(owner)
	if err != nil {
		return err
	}
	switch e {
	case extraCounts:
		if o.tasks == nil && r.live != nil && r.completed != nil {
			o.counts = counters{live: *r.live, completed: *r.completed}
		}
	case extraDeletedAt:
		if r.deletedAt == nil {
			return fmt.Errorf("restore task %d: in the trash without a time", t.ID())
		}
		o.deletedAt = append(o.deletedAt, r.deletedAt.UTC())
	case extraTrash:
		var tr trashed
		if r.deletedAt != nil {
			at := r.deletedAt.UTC()
			tr.at = &at
		}
		if r.trashedWith != nil {
			m, err := task.ParseTrashMark(*r.trashedWith)
			if err != nil {
				return fmt.Errorf("restore task %d: %w", t.ID(), err)
			}
			tr.mark = m
		}
		o.trash = append(o.trash, tr)
	case extraChildren:
		o.children = append(o.children, r.hasChildren)
	case extraNeighbour:
		n := ""
		if r.neighbour != nil {
			n = *r.neighbour
		}
		o.neighbours = append(o.neighbours, n)
	}
	o.tasks = append(o.tasks, t)
	return nil
}

func ptrs(dest []*int64) []any {
	out := make([]any, len(dest))
	for i, d := range dest {
		out[i] = d
	}
	return out
}

// withPgx runs fn on one pooled connection's *pgx.Conn, with what every
// other statement gets from guard (see runPgx): the breaker, the statement
// deadline and the error classification. mode is the exec mode for
// hand-written statements (see parsePostgresURL and execMode); fn runs one
// statement, and may run twice when the mode falls back. A connection fn
// leaves broken is closed by pgx, and database/sql drops it when it is next
// reused.
func withPgx(ctx context.Context, db *bun.DB, fn func(ctx context.Context, c *pgx.Conn, mode pgx.QueryExecMode) error) error {
	conn, err := db.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		gc, pc, err := rawPgx(dc)
		if err != nil {
			return err
		}
		return gc.runPgx(ctx, pc, fn)
	})
}

// rawPgx is the guard and the pgx connection of a pooled connection, as
// database/sql's Conn.Raw shows it.
func rawPgx(dc any) (*guardConn, *pgx.Conn, error) {
	gc, ok := dc.(*guardConn)
	if !ok {
		return nil, nil, fmt.Errorf("sqlstore: connection is %T, not a guarded pgx connection", dc)
	}
	pc, ok := gc.Conn.(*stdlib.Conn)
	if !ok {
		return nil, nil, fmt.Errorf("sqlstore: connection is %T, not pgx", gc.Conn)
	}
	return gc, pc.Conn(), nil
}
