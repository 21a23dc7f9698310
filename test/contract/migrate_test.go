package contract

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

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
		if _, err := sqlstore.NewTaskRepository(db).List(ctx, "u_gone", task.Query{}); err == nil {
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
	if got := mustList(t, repo, owner, task.Query{}); len(got) != 1 {
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

// TestMigrateUpgrade applies the task details migration to a database that
// has tasks from before it: they keep everything, get the defaults (medium,
// no due date, no tags), completed_at from their last change when they are
// completed, and a title key folded exactly as the service folds it (so
// that sorting and search find them on every store).
func TestMigrateUpgrade(t *testing.T) {
	t.Parallel()
	for name, newURL := range map[string]func(*testing.T) string{
		"sqlite":   sqliteURL,
		"postgres": freshPostgresSchema,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := openDB(t, newURL(t))
			if err := sqlstore.Migrate(ctx, db); err != nil {
				t.Fatal(err)
			}
			downToInit(t, db, name)

			owner := newOwner()
			created := base
			done := base.Add(time.Hour)
			for _, r := range []struct {
				title     string
				completed bool
				updated   time.Time
			}{
				{"Ünïcødé École", true, done},
				{"apple", false, created},
				{"ÄPFEL", false, created},
			} {
				if _, err := db.NewRaw("INSERT INTO tasks (user_id, title, completed, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
					string(owner), r.title, r.completed, created, r.updated).Exec(ctx); err != nil {
					t.Fatalf("insert a task of the old schema: %v", err)
				}
			}
			if err := sqlstore.Migrate(ctx, db); err != nil {
				t.Fatalf("Migrate() on the old schema = %v", err)
			}
			ms, err := sqlstore.MigrationStatus(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				if !m.Applied {
					t.Errorf("after the upgrade %s is not applied", m)
				}
			}

			repo := sqlstore.NewTaskRepository(db)
			page, err := repo.List(ctx, owner, task.Query{Sort: task.SortTitle})
			if err != nil {
				t.Fatal(err)
			}
			var titles []string
			for _, tk := range page.Tasks {
				titles = append(titles, tk.Title())
				if tk.Priority() != task.PriorityMedium || !tk.Due().IsZero() || len(tk.Tags()) != 0 {
					t.Errorf("upgraded %q: priority %s due %q tags %q, want medium, none, none", tk.Title(), tk.Priority(), tk.Due(), tk.Tags())
				}
				if at := tk.CompletedAt(); tk.Completed() != (at != nil) || at != nil && !at.Equal(done) {
					t.Errorf("upgraded %q: completed %v, completed_at %v, want its updated_at %v when completed", tk.Title(), tk.Completed(), at, done)
				}
			}
			if want := []string{"apple", "ÄPFEL", "Ünïcødé École"}; !slices.Equal(titles, want) {
				t.Errorf("upgraded tasks by title = %q, want %q (title keys folded as task.TitleKey does)", titles, want)
			}
			for _, search := range []string{"äpf", "ÉCOLE"} {
				page, err := repo.List(ctx, owner, task.Query{Search: search})
				if err != nil || len(page.Tasks) != 1 {
					t.Errorf("upgraded: List(search %q) = %d tasks, %v, want 1", search, len(page.Tasks), err)
				}
			}
			checkSchemaWorks(t, db)
		})
	}
}

// downToInit undoes the migrations after the first by hand (Rollback
// would undo the whole group), as if the database had been migrated before
// they existed.
func downToInit(t *testing.T, db *bun.DB, dialect string) {
	t.Helper()
	ctx := context.Background()
	ms, err := sqlstore.MigrationStatus(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(ms) - 1; i > 0; i-- {
		path := filepath.Join("..", "..", "adapters", "sqlstore", "migrations", dialect, ms[i].String()+".tx.down.sql")
		sqlText, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("read %s: %v", path, err)
		}
		for _, stmt := range strings.Split(string(sqlText), "--bun:split") {
			if strings.TrimSpace(stmt) == "" {
				continue
			}
			if _, err := db.ExecContext(ctx, stmt); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		}
		if _, err := db.NewRaw("DELETE FROM bun_migrations WHERE name = ?", ms[i].Name).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
