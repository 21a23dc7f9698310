package sqlstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// BenchmarkSQLiteFeedMembers prices the change feed's fan-out on SQLite
// (issue 19): a toggle and a create of a task in a list with no member and
// with two, whose changes are numbered in three sequences.
func BenchmarkSQLiteFeedMembers(b *testing.B) {
	ctx := context.Background()
	for _, members := range []int{0, 2} {
		db, err := sqlstore.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "todo.db")+"?_pragma=synchronous(NORMAL)", sqlstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = db.Close() })
		if err := sqlstore.Migrate(ctx, db); err != nil {
			b.Fatal(err)
		}
		owner := auth.UserID("u_owner")
		l, err := list.New(owner, "Groceries", nil, time.Now())
		if err != nil {
			b.Fatal(err)
		}
		sum, err := sqlstore.NewListRepository(db).Add(ctx, l)
		if err != nil {
			b.Fatal(err)
		}
		id := sum.List.ID()
		for m := range members {
			if _, err := db.ExecContext(ctx, "INSERT INTO list_members (list_id, user_id, role, invited_by, created_at) VALUES (?, ?, 'editor', ?, ?)",
				int64(id), fmt.Sprint("u_member", m), string(owner), time.Now().UTC()); err != nil {
				b.Fatal(err)
			}
		}
		tasks := sqlstore.NewTaskRepository(db)
		var ids []task.ID
		for n := range 20 {
			tk, err := task.New(owner, fmt.Sprint("t", n), nil, time.Now(), task.InList(&id))
			if err != nil {
				b.Fatal(err)
			}
			got, err := tasks.Add(ctx, tk)
			if err != nil {
				b.Fatal(err)
			}
			ids = append(ids, got.ID())
		}
		b.Run(fmt.Sprintf("toggle/members=%d", members), func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, err := tasks.Update(ctx, owner, ids[i%len(ids)], task.AnyVersion, func(t *task.Task) error {
					t.ToggleCompleted(time.Now())
					return nil
				}); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(fmt.Sprintf("create/members=%d", members), func(b *testing.B) {
			for b.Loop() {
				tk, err := task.New(owner, "new", nil, time.Now(), task.InList(&id))
				if err != nil {
					b.Fatal(err)
				}
				if _, err := tasks.Add(ctx, tk); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
