// Package seed fills a PostgreSQL database with users and tasks for the
// benchmarks, fast (COPY), and in a layout the load scripts can compute
// without asking the database: user n's id is UserID(n), and in the default
// layout its j-th task (0-based) has id TaskID(n, j, users).
//
// Rows are written round-robin across users (task 0 of every user, then task
// 1, ...), so a user's tasks lie on different heap pages, as they do when
// tasks are created over weeks, rather than side by side.
package seed

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/position"
)

// Options says how many users and tasks to write.
type Options struct {
	// Users is how many users to create (at least 1).
	Users int
	// TasksPerUser is how many tasks each user gets in the default layout.
	TasksPerUser int
	// Growth, when set, replaces the default layout: user 0 gets BigUser
	// tasks, user 1 SmallUser, and the other users share the rest of Total
	// evenly. TaskID does not apply to this layout.
	Growth *Growth
	// InLists gives each user of the default layout one list, ListID(n),
	// holding all their tasks, dragged into the reverse of their creation
	// order: task j at position.Rebalanced(TasksPerUser-1-j), as a
	// rebalance leaves them. The schema must have lists (issue 15).
	InLists bool
}

// ListName is the name of each user's list (Options.InLists).
const ListName = "Bench list"

// ListID is the id of user n's list (Options.InLists).
func ListID(n int) int64 { return int64(n) + 1 }

// Growth is the layout for the table-growth scenario.
type Growth struct {
	Total     int // tasks in the table, e.g. 1,000,000
	BigUser   int // tasks of user 0, e.g. 100,000
	SmallUser int // tasks of user 1, e.g. 100
}

// DefaultGrowth is the growth scenario: 1,000,000 tasks across
// 10,000 users, one with 100,000 tasks and one with 100.
var DefaultGrowth = Growth{Total: 1_000_000, BigUser: 100_000, SmallUser: 100}

// Result describes what Run wrote.
type Result struct {
	Users int
	Tasks int
	// Took is the wall time of the whole seeding, migrations included.
	Took time.Duration
}

// LookupTable is the table Run adds for pgbench: n (the user's number) to
// id, plus the user's task count, so that a pgbench script can pick a random
// user with \set and a sub-select.
const LookupTable = "bench_users"

// UserID is the id of user n: 32 hexadecimal characters, the length of a
// Better Auth id, derived from n so that every tool agrees on it.
func UserID(n int) string {
	sum := sha256.Sum256([]byte("bench user " + strconv.Itoa(n)))
	return hex.EncodeToString(sum[:16])
}

// Email is user n's email, as their tokens carry it.
func Email(n int) string { return fmt.Sprintf("user%d@bench.example", n) }

// Name is user n's display name, as their tokens carry it.
func Name(n int) string { return fmt.Sprintf("Bench User %d", n) }

// TaskID is the id of user n's j-th task (0-based) in the default layout of
// users users.
func TaskID(n, j, users int) int64 { return int64(j)*int64(users) + int64(n) + 1 }

// Counts returns how many tasks each user gets, or why o is not a layout.
func (o Options) Counts() ([]int, error) {
	if o.Users < 1 {
		return nil, errors.New("seed: need at least one user")
	}
	c := make([]int, o.Users)
	if o.InLists && o.Growth != nil {
		return nil, errors.New("seed: lists are for the default layout")
	}
	if o.Growth == nil {
		if o.TasksPerUser < 0 {
			return nil, errors.New("seed: negative tasks per user")
		}
		for i := range c {
			c[i] = o.TasksPerUser
		}
		return c, nil
	}
	g := *o.Growth
	if o.Users < 3 || g.BigUser+g.SmallUser > g.Total || g.BigUser < 0 || g.SmallUser < 0 {
		return nil, fmt.Errorf("seed: growth layout needs 3+ users and big+small <= total, got %d users, %+v", o.Users, g)
	}
	c[0], c[1] = g.BigUser, g.SmallUser
	rest, others := g.Total-g.BigUser-g.SmallUser, o.Users-2
	for i := 2; i < o.Users; i++ {
		c[i] = rest / others
		if i-2 < rest%others {
			c[i]++
		}
	}
	return c, nil
}

// Run migrates the database at databaseURL with the service's own
// migrations and writes the users, their tasks and the lookup table. The
// database must have no tasks yet. Secondary indexes are dropped during a
// large load and rebuilt from their own definitions afterwards.
func Run(ctx context.Context, databaseURL string, o Options) (Result, error) {
	start := time.Now()
	counts, err := o.Counts()
	if err != nil {
		return Result{}, err
	}
	total := 0
	for _, c := range counts {
		total += c
	}

	db, err := sqlstore.Open(ctx, databaseURL, sqlstore.Options{})
	if err != nil {
		return Result{}, err
	}
	err = sqlstore.Migrate(ctx, db)
	_ = db.Close()
	if err != nil {
		return Result{}, err
	}

	cfg, err := sqlstore.ParsePostgresURL(databaseURL)
	if err != nil {
		return Result{}, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return Result{}, fmt.Errorf("seed: connect: %w", err)
	}
	defer conn.Close(context.Background())

	var existing int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM tasks").Scan(&existing); err != nil {
		return Result{}, fmt.Errorf("seed: count tasks: %w", err)
	}
	if existing > 0 {
		return Result{}, fmt.Errorf("seed: the database already has %d tasks; seed a fresh one", existing)
	}

	var indexes []string
	if total > 100_000 {
		if indexes, err = dropSecondaryIndexes(ctx, conn); err != nil {
			return Result{}, err
		}
	}
	if err := copyUsers(ctx, conn, counts); err != nil {
		return Result{}, err
	}
	if o.InLists {
		if err := copyLists(ctx, conn, len(counts)); err != nil {
			return Result{}, err
		}
	}
	if err := copyTasks(ctx, conn, counts, o.InLists); err != nil {
		return Result{}, err
	}
	for _, def := range indexes {
		if _, err := conn.Exec(ctx, def); err != nil {
			return Result{}, fmt.Errorf("seed: rebuild index: %w", err)
		}
	}
	after := []string{
		"SELECT setval(pg_get_serial_sequence('tasks', 'id'), greatest((SELECT max(id) FROM tasks), 1))",
		"VACUUM (ANALYZE) users",
		"VACUUM (ANALYZE) tasks",
		"VACUUM (ANALYZE) " + LookupTable,
	}
	if o.InLists {
		after = append(after, "SELECT setval(pg_get_serial_sequence('lists', 'id'), greatest((SELECT max(id) FROM lists), 1))",
			"VACUUM (ANALYZE) lists", "VACUUM (ANALYZE) list_counts")
	}
	for _, q := range after {
		if _, err := conn.Exec(ctx, q); err != nil {
			return Result{}, fmt.Errorf("seed: %s: %w", q, err)
		}
	}
	return Result{Users: len(counts), Tasks: total, Took: time.Since(start)}, nil
}

// dropSecondaryIndexes drops the tasks indexes other than the primary key
// and returns the statements that rebuild them.
func dropSecondaryIndexes(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	rows, err := conn.Query(ctx, `
		SELECT i.indexname, i.indexdef FROM pg_indexes i
		WHERE i.schemaname = current_schema() AND i.tablename = 'tasks'
		  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`)
	if err != nil {
		return nil, fmt.Errorf("seed: list indexes: %w", err)
	}
	type index struct{ name, def string }
	found, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (index, error) {
		var i index
		return i, r.Scan(&i.name, &i.def)
	})
	if err != nil {
		return nil, fmt.Errorf("seed: list indexes: %w", err)
	}
	defs := make([]string, 0, len(found))
	for _, i := range found {
		if _, err := conn.Exec(ctx, "DROP INDEX "+pgx.Identifier{i.name}.Sanitize()); err != nil {
			return nil, fmt.Errorf("seed: drop index %s: %w", i.name, err)
		}
		defs = append(defs, i.def)
	}
	return defs, nil
}

func copyUsers(ctx context.Context, conn *pgx.Conn, counts []int) error {
	now := time.Now().UTC()
	n := 0
	_, err := conn.CopyFrom(ctx, pgx.Identifier{"users"}, []string{"id", "email", "name", "created_at", "updated_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if n == len(counts) {
				return nil, nil
			}
			row := []any{UserID(n), Email(n), Name(n), now, now}
			n++
			return row, nil
		}))
	if err != nil {
		return fmt.Errorf("seed: copy users: %w", err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE "+LookupTable+
		" (n integer PRIMARY KEY, id text NOT NULL, tasks integer NOT NULL)"); err != nil {
		return fmt.Errorf("seed: create %s: %w", LookupTable, err)
	}
	n = 0
	_, err = conn.CopyFrom(ctx, pgx.Identifier{LookupTable}, []string{"n", "id", "tasks"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if n == len(counts) {
				return nil, nil
			}
			row := []any{int32(n), UserID(n), int32(counts[n])}
			n++
			return row, nil
		}))
	if err != nil {
		return fmt.Errorf("seed: copy %s: %w", LookupTable, err)
	}
	return nil
}

// copyLists writes one list per user, ListID(n), at the bottom of their
// (empty) sidebar: never moved, no color.
func copyLists(ctx context.Context, conn *pgx.Conn, users int) error {
	now := time.Now().UTC()
	n := 0
	_, err := conn.CopyFrom(ctx, pgx.Identifier{"lists"}, []string{"id", "user_id", "name", "name_key", "created_at", "updated_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if n == users {
				return nil, nil
			}
			row := []any{ListID(n), UserID(n), ListName, list.NameKey(ListName), now, now}
			n++
			return row, nil
		}))
	if err != nil {
		return fmt.Errorf("seed: copy lists: %w", err)
	}
	return nil
}

// optionalColumns are tasks columns that later migrations add: when the
// schema has them, copyTasks fills them as the service would.
var optionalColumns = []string{"title_key", "completed_at"}

// taskColumns returns the tasks columns copyTasks writes: the first
// migration's, plus the optional ones this schema has.
func taskColumns(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	cols := []string{"id", "user_id", "title", "description", "completed", "created_at", "updated_at"}
	rows, err := conn.Query(ctx, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'tasks' AND column_name = ANY($1)
		ORDER BY array_position($1, column_name::text)`, optionalColumns)
	if err != nil {
		return nil, fmt.Errorf("seed: read tasks columns: %w", err)
	}
	more, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("seed: read tasks columns: %w", err)
	}
	return append(cols, more...), nil
}

// copyTasks writes the tasks round-robin: round j gives task j to every user
// that has more than j. In the default layout that makes task (n, j) the
// row number j*users+n+1, which is its id (TaskID).
func copyTasks(ctx context.Context, conn *pgx.Conn, counts []int, inLists bool) error {
	cols, err := taskColumns(ctx, conn)
	if err != nil {
		return err
	}
	if inLists {
		cols = append(cols, "list_id", "position")
	}
	ids := make([]string, len(counts))
	active := make([]int, 0, len(counts)) // users with more than round tasks
	most := 0
	for n, c := range counts {
		ids[n] = UserID(n)
		if c > 0 {
			active = append(active, n)
		}
		most = max(most, c)
	}
	// Oldest first: round j was created j minutes after the base, user n's
	// task n milliseconds into that minute; the newest is a day old.
	base := time.Now().UTC().Add(-time.Duration(most)*time.Minute - 24*time.Hour).Truncate(time.Second)
	desc := "Some details about this task, long enough to look real."
	var (
		id    int64
		round int
		i     int // index into active
	)
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"tasks"}, cols,
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == len(active) {
				round++
				kept := active[:0]
				for _, n := range active {
					if counts[n] > round {
						kept = append(kept, n)
					}
				}
				active, i = kept, 0
			}
			if len(active) == 0 {
				return nil, nil
			}
			n := active[i]
			i++
			id++
			created := base.Add(time.Duration(round)*time.Minute + time.Duration(n%60000)*time.Millisecond)
			var d *string
			if round%2 == 1 {
				d = &desc
			}
			title := fmt.Sprintf("Task %d of user %d", round+1, n)
			completed := round%3 == 0
			row := []any{id, ids[n], title, d, completed, created, created}
			for _, c := range cols[7:] {
				switch c {
				case "title_key":
					row = append(row, strings.ToLower(title)) // task.TitleKey
				case "completed_at":
					var at *time.Time
					if completed {
						at = &created
					}
					row = append(row, at)
				case "list_id":
					row = append(row, ListID(n))
				case "position":
					row = append(row, position.Rebalanced(int64(counts[n]-1-round)))
				}
			}
			return row, nil
		}))
	if err != nil {
		return fmt.Errorf("seed: copy tasks: %w", err)
	}
	return nil
}
