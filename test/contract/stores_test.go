package contract

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/internal/testenv"
)

// freshPostgresSchema creates an empty schema, dropped when the test ends,
// and returns a database URL whose connections use it. Without PostgreSQL it
// skips, or fails when CI=true, where a silently skipped store would hide
// regressions.
func freshPostgresSchema(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(testenv.FreshSchema(t, "contract"))
	if err != nil {
		t.Fatalf("schema URL: %v", err)
	}
	q := u.Query()
	// Commits need not wait for the disk: nothing here must survive a crash,
	// and a thousand single-row inserts stay fast.
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return u.String()
}

// openDB opens databaseURL and closes it when the test ends.
func openDB(t *testing.T, databaseURL string) *bun.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), databaseURL, sqlstore.Options{})
	if err != nil {
		t.Fatalf("sqlstore.Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close db: %v", err)
		}
	})
	return db
}

// sqliteURL names a new SQLite file in the test's temporary directory.
// synchronous=NORMAL (in WAL mode: no sync at each commit) keeps a thousand
// single-row inserts fast; nothing here must survive a power cut.
func sqliteURL(t *testing.T) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "todo.db") + "?_pragma=synchronous(NORMAL)"
}

// migrated opens databaseURL and brings its schema up to date.
func migrated(t *testing.T, databaseURL string) *bun.DB {
	t.Helper()
	db := openDB(t, databaseURL)
	if err := sqlstore.Migrate(context.Background(), db); err != nil {
		t.Fatalf("sqlstore.Migrate: %v", err)
	}
	return db
}

func openSQLiteDB(t *testing.T) *bun.DB   { return migrated(t, sqliteURL(t)) }
func openPostgresDB(t *testing.T) *bun.DB { return migrated(t, freshPostgresSchema(t)) }

// openPostgresExecDB is PostgreSQL as behind a pooler that keeps no
// prepared statements: default_query_exec_mode=exec in the URL sends the
// repository's hand-written statements unnamed too.
func openPostgresExecDB(t *testing.T) *bun.DB {
	return migrated(t, freshPostgresSchema(t)+"&default_query_exec_mode=exec")
}

// uniq returns a random lower-case token, so that parallel cases never share
// an owner or an email.
func uniq() string {
	return strings.ToLower(rand.Text()[:16])
}

func uniqEmail() string {
	return fmt.Sprintf("%s@example.com", uniq())
}

// taskStores opens a fresh task.Repository of each kind; every task suite
// runs unchanged on all of them.
var taskStores = map[string]func(*testing.T) task.Repository{
	"memory": func(*testing.T) task.Repository {
		s := memory.NewStore()
		s.SetFeedCheck(true) // every commit also compared with the whole store
		return s.Tasks()
	},
	"sqlite":   func(t *testing.T) task.Repository { return sqlstore.NewTaskRepository(openSQLiteDB(t)) },
	"postgres": func(t *testing.T) task.Repository { return sqlstore.NewTaskRepository(openPostgresDB(t)) },
	"postgres-exec": func(t *testing.T) task.Repository {
		return sqlstore.NewTaskRepository(openPostgresExecDB(t))
	},
}
