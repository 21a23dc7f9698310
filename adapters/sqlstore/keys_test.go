package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/domain/position"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/internal/testenv"
)

// keyDBs are a migrated database of each dialect.
var keyDBs = map[string]func(t *testing.T) *bun.DB{
	"sqlite": func(t *testing.T) *bun.DB {
		return migratedDB(t, "sqlite:"+filepath.Join(t.TempDir(), "todo.db"))
	},
	"postgres": func(t *testing.T) *bun.DB {
		if testing.Short() {
			t.Skip("needs PostgreSQL (-short)")
		}
		return migratedDB(t, testenv.FreshSchema(t, "keys"))
	},
}

// The key a row never moved sorts by is computed in SQL (the sort_key
// column the migrations generate, for tasks and for lists): it must be
// position.Implicit of the row's id, digit for digit, or a new task would
// not land at the bottom and keys made next to it would not sort as the
// position package promises.
func TestImplicitKeySQL(t *testing.T) {
	for name, open := range keyDBs {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := context.Background()
			now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
			for _, id := range []int64{1, 9, 10, 99, 100, 12345, 1 << 40, 1<<63 - 1} {
				for _, insert := range []string{
					"INSERT INTO tasks (id, user_id, title, title_key, created_at, updated_at) VALUES (?, 'keys', 't', 't', ?, ?)",
					"INSERT INTO lists (id, user_id, name, name_key, created_at, updated_at) VALUES (?, 'keys', 'l' || ?0, 'l' || ?0, ?, ?)",
				} {
					if _, err := db.NewRaw(insert, id, now, now).Exec(ctx); err != nil {
						t.Fatalf("%s: %v", insert, err)
					}
				}
				for _, table := range []string{"tasks", "lists"} {
					var key string
					if err := db.NewRaw("SELECT sort_key FROM ? WHERE id = ?", bun.Ident(table), id).Scan(ctx, &key); err != nil {
						t.Fatal(err)
					}
					if want := position.Implicit(id); key != want {
						t.Errorf("%s %d: sort_key = %q, want position.Implicit = %q", table, id, key, want)
					}
				}
			}
		})
	}
}

// The rebalance writes position.Rebalanced of each task's rank, digit for
// digit, in the scope's order, the trash included, on both databases: 12
// tasks (ranks of one and two digits) under one parent, keys made in an
// order other than their ids', one in the trash; a task of another scope
// keeps its key.
func TestRebalanceSQL(t *testing.T) {
	for name, open := range keyDBs {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			ctx := context.Background()
			repo := NewTaskRepository(db)
			const owner = "rebalance"
			now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
			add := func(title string, parent *task.ID) task.ID {
				tk, err := task.New(owner, title, nil, now, task.Under(parent))
				if err != nil {
					t.Fatal(err)
				}
				got, err := repo.Add(ctx, tk)
				if err != nil {
					t.Fatal(err)
				}
				return got.ID()
			}
			parent := add("parent", nil)
			other := add("other scope", nil)
			var ids []task.ID
			for i := range 12 {
				ids = append(ids, add(fmt.Sprint(i), &parent))
			}
			// Keys that sort in reverse id order, then one task trashed.
			for i, id := range ids {
				if _, err := db.NewRaw("UPDATE tasks SET position = ? WHERE id = ?", fmt.Sprintf("k%02dV", len(ids)-i), int64(id)).Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.NewRaw("UPDATE tasks SET deleted_at = ? WHERE id = ?", now, int64(ids[4])).Exec(ctx); err != nil {
				t.Fatal(err)
			}
			if err := repo.inTx(ctx, func(ctx context.Context, x runner) error {
				return rebalance(ctx, x, owner, task.Scope{Parent: parent})
			}); err != nil {
				t.Fatal(err)
			}
			for i, id := range ids {
				var key string
				if err := db.NewRaw("SELECT sort_key FROM tasks WHERE id = ?", int64(id)).Scan(ctx, &key); err != nil {
					t.Fatal(err)
				}
				if want := position.Rebalanced(int64(len(ids) - 1 - i)); key != want {
					t.Errorf("task %d (rank %d): key %q, want position.Rebalanced = %q", id, len(ids)-1-i, key, want)
				}
			}
			var key string
			if err := db.NewRaw("SELECT sort_key FROM tasks WHERE id = ?", int64(other)).Scan(ctx, &key); err != nil || key != position.Implicit(int64(other)) {
				t.Errorf("a task of another scope has key %q, %v", key, err)
			}
		})
	}
}
