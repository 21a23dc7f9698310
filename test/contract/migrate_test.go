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
	for name, newURL := range dialectURLs {
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
	for name, newURL := range dialectURLs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := migratedTo(t, newURL(t), name, "")

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

// dialectURLs makes a fresh empty database of each SQL dialect.
var dialectURLs = map[string]func(*testing.T) string{
	"sqlite":   sqliteURL,
	"postgres": freshPostgresSchema,
}

// migratedTo opens databaseURL as a database of an older version: every
// migration up to the one named keep (the first when keep is empty), as if
// it had been migrated before the later ones existed.
func migratedTo(t *testing.T, databaseURL, dialect, keep string) *bun.DB {
	t.Helper()
	db := openDB(t, databaseURL)
	if err := sqlstore.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	downTo(t, db, dialect, keep)
	return db
}

// downTo undoes, by hand and newest first, every migration after the one
// named keep (all but the first when keep is empty).
func downTo(t *testing.T, db *bun.DB, dialect, keep string) {
	t.Helper()
	ctx := context.Background()
	ms, err := sqlstore.MigrationStatus(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(ms) - 1; i > 0 && ms[i].Name > keep; i-- {
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

// TestMigrateReadPaths upgrades a database of the version before the tags
// column and the counters (20260301000001), holding tasks with tags, in the
// trash and completed, then plays the previous version writing on through a
// rolling update, which knows neither copy: it writes tasks and task_tags
// rows only. The triggers must keep both copies right: the tags a task
// shows, the tags the next edit starts from, and the totals.
func TestMigrateReadPaths(t *testing.T) {
	t.Parallel()
	for name, newURL := range dialectURLs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := migratedTo(t, newURL(t), name, "20260301000001")

			owner := newOwner()
			// The previous version's writes: a task row, then its tags.
			oldAdd := func(title string, completed bool, deleted *time.Time, tags ...string) task.ID {
				t.Helper()
				var id int64
				if err := db.NewRaw("INSERT INTO tasks (user_id, title, title_key, completed, created_at, updated_at, deleted_at) "+
					"VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id", string(owner), title, strings.ToLower(title), completed,
					base, base, deleted).Scan(ctx, &id); err != nil {
					t.Fatalf("insert a task as the previous version does: %v", err)
				}
				for i, tag := range tags {
					if _, err := db.NewRaw("INSERT INTO task_tags (task_id, tag_key, user_id, position, tag) VALUES (?, ?, ?, ?, ?)",
						id, strings.ToLower(tag), string(owner), i, tag).Exec(ctx); err != nil {
						t.Fatalf("insert a tag as the previous version does: %v", err)
					}
				}
				return task.ID(id)
			}
			trashed := base.Add(time.Minute)
			tagged := oldAdd("tagged", false, nil, "b", "A", `é"q`)
			oldAdd("done", true, nil)
			oldAdd("in the trash", true, &trashed, "z")

			if err := sqlstore.Migrate(ctx, db); err != nil {
				t.Fatalf("Migrate() from 20260301000001 = %v", err)
			}
			repo := sqlstore.NewTaskRepository(db)
			wantTags := func(when string, id task.ID, want ...string) {
				t.Helper()
				got, err := repo.Get(ctx, owner, id)
				if err != nil {
					t.Fatalf("%s: Get(%d) = %v", when, id, err)
				}
				if !slices.Equal(got.Tags(), want) && !(len(want) == 0 && len(got.Tags()) == 0) {
					t.Errorf("%s: task %d tags %q, want %q", when, id, got.Tags(), want)
				}
			}
			wantTotals := func(when string, all, completed int) {
				t.Helper()
				for _, c := range []struct {
					st   task.Status
					want int
				}{{task.StatusAll, all}, {task.StatusCompleted, completed}, {task.StatusPending, all - completed}} {
					// A page of one with a cursor: the total comes from the counters.
					total, second, paged := pagedTotals(t, repo, owner, c.st)
					if paged {
						total = second
					}
					if total != c.want {
						t.Errorf("%s: %s total %d, want %d", when, c.st, total, c.want)
					}
				}
			}
			wantTags("after the upgrade", tagged, "b", "A", `é"q`)
			wantTotals("after the upgrade", 2, 1)

			// The previous version, still serving, adds a tagged task and
			// retags another (it deletes and inserts task_tags rows).
			skew := oldAdd("written by the previous version", false, nil, "Home")
			wantTags("a task the previous version wrote", skew, "Home")
			if _, err := db.NewRaw("DELETE FROM task_tags WHERE task_id = ? AND tag_key = ?", int64(tagged), "a").Exec(ctx); err != nil {
				t.Fatal(err)
			}
			wantTags("a tag the previous version removed", tagged, "b", `é"q`)
			wantTotals("a task the previous version added", 3, 1)
			// This version then edits the tags the previous one wrote.
			if _, err := repo.Update(ctx, owner, skew, task.AnyVersion, func(tk *task.Task) error {
				return tk.Edit(tk.Title(), tk.Description(), base.Add(time.Hour), task.WithTags(append(tk.Tags(), "Work")))
			}); err != nil {
				t.Fatal(err)
			}
			wantTags("retagged by this version", skew, "Home", "Work")
			if got := mustList(t, repo, owner, task.Query{Tags: []string{"home"}}); len(got) != 1 || got[0].ID() != skew {
				t.Errorf("tags filter home = %v, want only task %d", ids(got), skew)
			}
			checkSchemaWorks(t, db)
		})
	}
}
