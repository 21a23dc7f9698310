package contract

import (
	"context"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/domain/user"
)

func TestMigrations(t *testing.T) {
	t.Parallel()
	for name, newURL := range map[string]func(*testing.T) string{
		"sqlite":   sqliteURL,
		"postgres": freshPostgresSchema,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runMigrationCycle(t, openDB(t, newURL(t)))
		})
	}
}

// runMigrationCycle goes up, down and up again on an empty database, checking
// the status and that the schema works (or is gone) after each step.
func runMigrationCycle(t *testing.T, db *bun.DB) {
	ctx := context.Background()
	checkStatus(t, db, "before Migrate", false, 0)

	for round := 1; round <= 2; round++ {
		if err := sqlstore.Migrate(ctx, db); err != nil {
			t.Fatalf("Migrate() round %d error = %v", round, err)
		}
		if err := sqlstore.Migrate(ctx, db); err != nil {
			t.Fatalf("Migrate() again, round %d error = %v", round, err)
		}
		// Rollback removes the group's records, so each round applies group 1.
		checkStatus(t, db, "after Migrate", true, 1)
		checkSchemaWorks(t, db)

		if err := sqlstore.Rollback(ctx, db); err != nil {
			t.Fatalf("Rollback() round %d error = %v", round, err)
		}
		checkStatus(t, db, "after Rollback", false, 0)
		if _, err := sqlstore.NewTaskRepository(db).List(ctx, "u_gone", task.Filter{}); err == nil {
			t.Errorf("List() after Rollback error = nil, want missing table")
		}
	}
	if err := sqlstore.Migrate(ctx, db); err != nil {
		t.Fatalf("Migrate() after Rollback error = %v", err)
	}
	checkSchemaWorks(t, db)
}

func checkStatus(t *testing.T, db *bun.DB, when string, applied bool, group int64) {
	t.Helper()
	ms, err := sqlstore.MigrationStatus(context.Background(), db)
	if err != nil {
		t.Fatalf("MigrationStatus() %s error = %v", when, err)
	}
	if len(ms) == 0 {
		t.Fatalf("MigrationStatus() %s = no migrations, want the embedded ones", when)
	}
	for _, m := range ms {
		if m.Applied != applied || m.GroupID != group {
			t.Errorf("MigrationStatus() %s: %s applied=%v group=%d, want applied=%v group=%d", when, m, m.Applied, m.GroupID, applied, group)
		}
		if m.Applied == m.MigratedAt.IsZero() {
			t.Errorf("MigrationStatus() %s: %s applied=%v but MigratedAt=%v", when, m, m.Applied, m.MigratedAt)
		}
	}
}

func checkSchemaWorks(t *testing.T, db *bun.DB) {
	t.Helper()
	ctx := context.Background()
	repo := sqlstore.NewTaskRepository(db)
	owner := newOwner()
	tk := mustAdd(t, repo, mustNew(t, owner, "after migration", nil, base))
	if tk.ID() <= 0 {
		t.Errorf("Add() after Migrate id = %d, want positive", tk.ID())
	}
	if got := mustList(t, repo, owner, task.Filter{}); len(got) != 1 {
		t.Errorf("List() after Migrate = %d tasks, want 1", len(got))
	}
	if err := sqlstore.NewUserRepository(db).Save(ctx, user.User{ID: owner, Email: uniqEmail()}); err != nil {
		t.Errorf("Save(user) after Migrate error = %v", err)
	}
}

// TestMigrateConcurrentPostgres starts two "processes" (separate pools) that
// migrate one empty schema at once: both must succeed, and the migrations
// are applied once.
func TestMigrateConcurrentPostgres(t *testing.T) {
	t.Parallel()
	u := freshPostgresSchema(t)
	dbs := []*bun.DB{openDB(t, u), openDB(t, u), openDB(t, u)}

	var wg sync.WaitGroup
	errs := make(chan error, len(dbs))
	for _, db := range dbs {
		wg.Go(func() { errs <- sqlstore.Migrate(context.Background(), db) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Migrate() error = %v", err)
		}
	}
	checkStatus(t, dbs[0], "after concurrent Migrate", true, 1)
	checkSchemaWorks(t, dbs[1])
}
