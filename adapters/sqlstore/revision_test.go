package sqlstore

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/internal/testenv"
)

// TestRevisionBy: the revisions triggers name the user tasks.updated_by
// holds (the user the write was called with), not the task's owner, on
// both databases: a write by another user (as a member of a shared list
// will make) is that user's in the history, and a write that leaves
// updated_by NULL is the owner's.
func TestRevisionBy(t *testing.T) {
	t.Parallel()
	for name, open := range map[string]func(t *testing.T) *bun.DB{
		"sqlite": func(t *testing.T) *bun.DB {
			db, err := Open(t.Context(), "sqlite:"+filepath.Join(t.TempDir(), "todo.db"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			return db
		},
		"postgres": func(t *testing.T) *bun.DB {
			db, err := Open(t.Context(), testenv.FreshSchema(t, "revby"), Options{})
			if err != nil {
				t.Fatal(err)
			}
			return db
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := open(t)
			t.Cleanup(func() { _ = db.Close() })
			if err := Migrate(ctx, db); err != nil {
				t.Fatal(err)
			}
			r := NewTaskRepository(db)
			owner := auth.UserID("u_owner")
			tk, err := task.New(owner, "first", nil, time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC))
			if err != nil {
				t.Fatal(err)
			}
			added, err := r.Add(ctx, tk)
			if err != nil {
				t.Fatal(err)
			}
			for _, by := range []any{"u_member", nil} {
				if _, err := db.ExecContext(ctx, "UPDATE tasks SET title = title || 'x', version = version + 1, updated_by = ? WHERE id = ?", by, int64(added.ID())); err != nil {
					t.Fatal(err)
				}
			}
			revs, err := r.Revisions(ctx, owner, added.ID(), 0)
			if err != nil || len(revs) != 3 {
				t.Fatalf("Revisions = %v, %v; want 3", revs, err)
			}
			for i, want := range []auth.UserID{owner, "u_member", owner} {
				if revs[i].By != want {
					t.Errorf("revision %d by %q, want %q", revs[i].Version, revs[i].By, want)
				}
			}
		})
	}
}
