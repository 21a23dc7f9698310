package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

// The hot paths (list, get, add, the fast update) are SQL written here with
// bound parameters, not built by Bun, for two reasons a profile of `make
// bench` showed: Bun formats every argument into the SQL text, so PostgreSQL
// parses and plans each statement anew, and scanning through database/sql
// and reflection cost the service more CPU than the rest of the request. On
// PostgreSQL they run on the pooled connection's *pgx.Conn (withPgx), as
// prepared statements, scanned straight into taskRow; on SQLite, through
// Bun's raw queries, which format and scan them as every other query.

// sqlText is one statement being written: SQL with ? placeholders, as both
// dialects' fragments are written, and its arguments in order. For
// PostgreSQL the placeholders become $1, $2, ... as they are added.
type sqlText struct {
	pg   bool
	b    strings.Builder
	args []any
	// adhoc marks a statement whose best plan depends on its arguments (a
	// search pattern, a tag, a date range): it is planned for them each
	// time rather than prepared once, where PostgreSQL could settle on a
	// generic plan that suits no pattern in particular.
	adhoc bool
	// counted marks a page that selects the owner's counters after
	// taskColumns (listSQL).
	counted bool
}

func newSQL(pg bool) *sqlText { return &sqlText{pg: pg} }

// add appends frag, whose ? placeholders take args in order. A frag never
// holds a ? of its own in a literal.
func (s *sqlText) add(frag string, args ...any) *sqlText {
	n := strings.Count(frag, "?")
	if n != len(args) {
		panic(fmt.Sprintf("sqlstore: %d placeholders for %d arguments in %q", n, len(args), frag))
	}
	if !s.pg || n == 0 {
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

func (s *sqlText) String() string { return s.b.String() }

// run is how s runs on a connection whose hand-written statements run in
// mode, as pgx's leading argument, followed by s's arguments.
func (s *sqlText) run(mode pgx.QueryExecMode) []any {
	if s.adhoc && (mode == pgx.QueryExecModeCacheStatement || mode == pgx.QueryExecModeCacheDescribe) {
		mode = pgx.QueryExecModeExec
	}
	return append([]any{mode}, s.args...)
}

// taskColumns are the columns a read selects, in the order pgTaskRow's
// targets take them: what a task is made of. Not among them: the owner
// (every statement that selects them filters on t.user_id, so the caller
// sets it), title_key (for sorting) and deleted_at (a trashed task's date
// is read by ListTrash).
const taskColumns = "t.id, t.title, t.description, t.completed, t.priority, t.due_at, " +
	"t.due_all_day, t.completed_at, t.created_at, t.updated_at, t.version, t.tags"

// pgTaskRow is one row of taskColumns as pgx scans it on the hot paths:
// value types throughout, so that a row costs no allocation beyond its
// strings, and the tags read in place from pgx's buffer (valid until the
// next row; decoded at once).
type pgTaskRow struct {
	id, version          int64
	title                string
	description          pgtype.Text
	completed, dueAllDay bool
	priority             int16
	dueAt, completedAt   pgtype.Timestamptz
	createdAt, updatedAt time.Time
	tags                 pgtype.DriverBytes
	live, done           pgtype.Int8 // the counters, when the statement selects them
	targets              []any
}

func newPgTaskRow(counted bool) *pgTaskRow {
	p := &pgTaskRow{}
	p.targets = []any{&p.id, &p.title, &p.description, &p.completed, &p.priority, &p.dueAt, &p.dueAllDay,
		&p.completedAt, &p.createdAt, &p.updatedAt, &p.version, &p.tags}
	if counted {
		p.targets = append(p.targets, &p.live, &p.done)
	}
	return p
}

// task is the scanned row as owner's task; the row's memory is not kept.
func (p *pgTaskRow) task(owner auth.UserID) (*task.Task, error) {
	r := taskRow{
		ID: p.id, UserID: string(owner), Title: p.title, Completed: p.completed, Priority: p.priority,
		DueAllDay: p.dueAllDay, CreatedAt: p.createdAt, UpdatedAt: p.updatedAt, Version: p.version,
	}
	if p.description.Valid {
		r.Description = &p.description.String
	}
	if p.dueAt.Valid {
		r.DueAt = &p.dueAt.Time
	}
	if p.completedAt.Valid {
		r.CompletedAt = &p.completedAt.Time
	}
	tags, err := decodeTags(p.tags)
	if err != nil {
		return nil, fmt.Errorf("restore task %d: %w", p.id, err)
	}
	return r.restore(tags)
}

// counters are the owner's task_counts row as a page read it (listSQL);
// zero when the statement did not select it or the owner has none.
type counters struct{ live, completed int64 }

// isPG reports whether db is PostgreSQL.
func isPG(db bun.IDB) bool { return db.Dialect().Name() == dialect.PG }

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
		gc, ok := dc.(*guardConn)
		if !ok {
			return fmt.Errorf("sqlstore: connection is %T, not a guarded pgx connection", dc)
		}
		pc, ok := gc.Conn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("sqlstore: connection is %T, not pgx", gc.Conn)
		}
		return gc.runPgx(ctx, pc.Conn(), fn)
	})
}

// queryTasks runs a statement that selects taskColumns of owner's tasks
// (and the counters, when s.counted) and returns them as tasks.
func queryTasks(ctx context.Context, db *bun.DB, owner auth.UserID, s *sqlText) ([]*task.Task, counters, error) {
	var c counters
	if !s.pg {
		var rows []taskRow
		if err := db.NewRaw(s.String(), s.args...).Scan(ctx, &rows); err != nil {
			return nil, c, err
		}
		ts := make([]*task.Task, len(rows))
		for i := range rows {
			rows[i].UserID = string(owner)
			t, err := rows[i].task()
			if err != nil {
				return nil, c, err
			}
			ts[i] = t
		}
		if len(rows) > 0 && rows[0].CountedLive != nil && rows[0].CountedCompleted != nil {
			c = counters{live: *rows[0].CountedLive, completed: *rows[0].CountedCompleted}
		}
		return ts, c, nil
	}
	var ts []*task.Task
	err := withPgx(ctx, db, func(ctx context.Context, conn *pgx.Conn, mode pgx.QueryExecMode) error {
		res, err := conn.Query(ctx, s.String(), s.run(mode)...)
		if err != nil {
			return err
		}
		defer res.Close()
		p := newPgTaskRow(s.counted)
		for res.Next() {
			if err := res.Scan(p.targets...); err != nil {
				return err
			}
			t, err := p.task(owner)
			if err != nil {
				return err
			}
			if ts == nil && p.live.Valid && p.done.Valid {
				c = counters{live: p.live.Int64, completed: p.done.Int64}
			}
			ts = append(ts, t)
		}
		return res.Err()
	})
	return ts, c, err
}

// queryTask runs a statement that selects taskColumns of at most one of
// owner's tasks; task.ErrNotFound when there is none.
func queryTask(ctx context.Context, db *bun.DB, owner auth.UserID, s *sqlText) (*task.Task, error) {
	ts, _, err := queryTasks(ctx, db, owner, s)
	switch {
	case err != nil:
		return nil, err
	case len(ts) == 0:
		return nil, task.ErrNotFound
	}
	return ts[0], nil
}

// queryInts runs a statement that selects integer columns of at most one
// row into dest; sql.ErrNoRows when there is none.
func queryInts(ctx context.Context, db *bun.DB, s *sqlText, dest ...*int64) error {
	ptrs := make([]any, len(dest))
	for i, d := range dest {
		ptrs[i] = d
	}
	if !s.pg {
		return db.NewRaw(s.String(), s.args...).Scan(ctx, ptrs...)
	}
	return withPgx(ctx, db, func(ctx context.Context, c *pgx.Conn, mode pgx.QueryExecMode) error {
		err := c.QueryRow(ctx, s.String(), s.run(mode)...).Scan(ptrs...)
		if errors.Is(err, pgx.ErrNoRows) {
			return sql.ErrNoRows
		}
		return err
	})
}

// execSQL runs a statement that returns no rows and reports how many it
// changed.
func execSQL(ctx context.Context, db *bun.DB, s *sqlText) (int64, error) {
	if !s.pg {
		return affected(db.NewRaw(s.String(), s.args...).Exec(ctx))
	}
	var n int64
	err := withPgx(ctx, db, func(ctx context.Context, c *pgx.Conn, mode pgx.QueryExecMode) error {
		tag, err := c.Exec(ctx, s.String(), s.run(mode)...)
		n = tag.RowsAffected()
		return err
	})
	return n, err
}

// encodeTags is the tags column: a JSON array of strings, "[]" for none.
func encodeTags(tags []string) string {
	if len(tags) == 0 {
		return "[]"
	}
	b, err := json.Marshal(tags)
	if err != nil {
		panic(fmt.Sprintf("sqlstore: encode tags: %v", err)) // []string always encodes
	}
	return string(b)
}

// decodeTags reads the tags column.
func decodeTags[T ~string | ~[]byte](s T) ([]string, error) {
	if len(s) == 0 || string(s) == "[]" {
		return nil, nil
	}
	var tags []string
	if err := json.Unmarshal([]byte(s), &tags); err != nil {
		return nil, fmt.Errorf("decode tags %q: %w", s, err)
	}
	return tags, nil
}
