package sqlstore

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/internal/testenv"
)

// BenchmarkRevisionTrigger measures what the task_revisions triggers
// (migrations 20261210000002 and 20261212000010) cost a write on
// PostgreSQL: a toggle and an edit of the title through Update's fast
// path, and a create, each with the triggers on and, on the same schema,
// disabled. Serial (one writer: the trigger's own cost) and parallel (8
// writers, each on its own tasks: group commit and contention).
//
//	go test ./adapters/sqlstore -run '^$' -bench 'RevisionTrigger/.*/.*/(statement|server)' -benchtime 3000x -count 4
//
// The committed writes (REVISION_BENCH_COMMITS=1) are bound by the WAL
// flush and the machine's load, not by the triggers.
func BenchmarkRevisionTrigger(b *testing.B) {
	if testing.Short() {
		b.Skip("needs PostgreSQL (-short)")
	}
	ctx := context.Background()
	db, err := Open(ctx, testenv.FreshSchema(b, "revbench"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = db.Close() })
	if err := Migrate(ctx, db); err != nil {
		b.Fatal(err)
	}
	r := NewTaskRepository(db)
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	const writers, perWriter = 8, 20
	owners := make([]auth.UserID, writers)
	ids := make([][]task.ID, writers)
	for w := range owners {
		owners[w] = auth.UserID(fmt.Sprintf("u_bench_%d", w))
		for i := range perWriter {
			tk, err := task.New(owners[w], fmt.Sprint("task ", i), nil, now)
			if err != nil {
				b.Fatal(err)
			}
			added, err := r.Add(ctx, tk)
			if err != nil {
				b.Fatal(err)
			}
			ids[w] = append(ids[w], added.ID())
		}
	}
	setTriggers := func(on bool) {
		verb := "DISABLE"
		if on {
			verb = "ENABLE"
		}
		for _, trg := range []string{"tasks_revision", "tasks_revision_create"} {
			if _, err := db.ExecContext(ctx, "ALTER TABLE tasks "+verb+" TRIGGER "+trg); err != nil {
				b.Fatal(err)
			}
		}
	}
	var n atomic.Int64
	ops := map[string]func(w int) error{
		"toggle": func(w int) error {
			k := n.Add(1)
			_, err := r.Update(ctx, owners[w], ids[w][k%perWriter], task.AnyVersion, func(t *task.Task) error {
				t.ToggleCompleted(now.Add(time.Duration(k)))
				return nil
			})
			return err
		},
		"edit": func(w int) error {
			k := n.Add(1)
			_, err := r.Update(ctx, owners[w], ids[w][k%perWriter], task.AnyVersion, func(t *task.Task) error {
				return t.Edit(fmt.Sprint("title ", k), nil, now.Add(time.Duration(k)))
			})
			return err
		},
		"create": func(w int) error {
			tk, err := task.New(owners[w], "new", nil, now)
			if err != nil {
				return err
			}
			_, err = r.Add(ctx, tk)
			return err
		},
	}
	// The statement alone: each toggle or title edit on a row of its own
	// (copies of a task, made first), in one transaction rolled back (no
	// commit, no WAL flush), with every other trigger of tasks (the feed's,
	// the counters') disabled in both runs: the revision triggers' CPU per
	// row over a bare UPDATE.
	cols := joined(insertedColumns, func(_ int, c column) string { return c.name })
	for _, st := range []struct{ name, sql string }{
		{"toggle", "UPDATE tasks SET completed = NOT completed, version = version + 1, updated_at = updated_at + interval '1 ms' WHERE id = ?"},
		{"edit", "UPDATE tasks SET title = title || 'x', version = version + 1, updated_at = updated_at + interval '1 ms' WHERE id = ?"},
	} {
		for _, c := range []struct{ on, server bool }{{true, false}, {false, false}, {true, true}, {false, true}} {
			on, server := c.on, c.server
			b.Run(fmt.Sprintf("%s/triggers=%v/%s", st.name, map[bool]string{true: "on", false: "off"}[on], map[bool]string{true: "server", false: "statement"}[server]), func(b *testing.B) {
				var rows []int64
				err := db.NewRaw("INSERT INTO tasks ("+cols+") SELECT "+cols+" FROM tasks, generate_series(1, ?) WHERE id = ? RETURNING id",
					b.N, int64(ids[0][0])).Scan(ctx, &rows)
				if err != nil || len(rows) != b.N {
					b.Fatalf("copies: %d, %v", len(rows), err)
				}
				if _, err := db.ExecContext(ctx, "ALTER TABLE tasks DISABLE TRIGGER USER"); err != nil {
					b.Fatal(err)
				}
				defer func() {
					if _, err := db.ExecContext(ctx, "ALTER TABLE tasks ENABLE TRIGGER USER"); err != nil {
						b.Fatal(err)
					}
				}()
				setTriggers(on)
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				defer func() { _ = tx.Rollback() }()
				b.ResetTimer()
				if server {
					// One round trip: the loop runs in the server.
					loop := "DO $$DECLARE r bigint; BEGIN FOR r IN SELECT id FROM tasks WHERE id >= " + fmt.Sprint(rows[0]) +
						" AND id <= " + fmt.Sprint(rows[len(rows)-1]) + " LOOP " + strings.Replace(st.sql, "?", "r", 1) + "; END LOOP; END$$"
					if _, err := tx.ExecContext(ctx, loop); err != nil {
						b.Fatal(err)
					}
					return
				}
				for i := range b.N {
					if _, err := tx.ExecContext(ctx, st.sql, rows[i]); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
	if testing.Short() || os.Getenv("REVISION_BENCH_COMMITS") == "" {
		return // the commits' figures are the WAL flush's, and take minutes
	}
	for _, op := range []string{"toggle", "edit", "create"} {
		for _, on := range []bool{true, false} {
			name := op + "/triggers=off"
			if on {
				name = op + "/triggers=on"
			}
			b.Run(name+"/serial", func(b *testing.B) {
				setTriggers(on)
				defer setTriggers(true)
				for b.Loop() {
					if err := ops[op](0); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(name+"/parallel8", func(b *testing.B) {
				setTriggers(on)
				defer setTriggers(true)
				var next atomic.Int64
				b.SetParallelism(max(1, writers/runtime.GOMAXPROCS(0)))
				b.RunParallel(func(pb *testing.PB) {
					w := int(next.Add(1)-1) % writers
					for pb.Next() {
						if err := ops[op](w); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
