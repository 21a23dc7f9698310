package contract

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
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

// openSQLiteDB opens a new SQLite database with the schema up to date: a
// copy of one the package migrated once (sqliteTemplate), then Migrate on
// it as on any database (nothing left to do). Under -race migrating a new
// SQLite file takes ~1.2 s of CPU (SQLite is a C library translated to Go),
// and the package opens over a hundred. TestMigrations and the other
// migration tests migrate their own files from scratch.
func openSQLiteDB(t *testing.T) *bun.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "todo.db")
	if err := copyFile(sqliteTemplate(t), path); err != nil {
		t.Fatalf("copy the migrated SQLite file: %v", err)
	}
	return migrated(t, "sqlite:"+path+"?_pragma=synchronous(NORMAL)")
}

var sqliteOnce struct {
	sync.Once
	path string
	err  error
}

// sqliteTemplate returns the path of a SQLite file migrated by
// sqlstore.Migrate, once for the package, closed and checkpointed (the
// file holds it all, no -wal beside it). It lives in a directory of its
// own under the system's temporary directory, removed by TestMain.
func sqliteTemplate(t *testing.T) string {
	t.Helper()
	sqliteOnce.Do(func() {
		sqliteOnce.err = func() error {
			dir, err := os.MkdirTemp("", "contract-sqlite-")
			if err != nil {
				return err
			}
			templateDir = dir
			path := filepath.Join(dir, "template.db")
			ctx := context.Background()
			db, err := sqlstore.Open(ctx, "sqlite:"+path+"?_pragma=synchronous(NORMAL)", sqlstore.Options{})
			if err != nil {
				return err
			}
			if err := sqlstore.Migrate(ctx, db); err != nil {
				db.Close()
				return err
			}
			if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
				db.Close()
				return err
			}
			if err := db.Close(); err != nil {
				return err
			}
			if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
				return fmt.Errorf("%s-wal holds %d bytes after the close", path, fi.Size())
			}
			sqliteOnce.path = path
			return nil
		}()
	})
	if sqliteOnce.err != nil {
		t.Fatalf("migrate the SQLite template: %v", sqliteOnce.err)
	}
	return sqliteOnce.path
}

// templateDir holds the SQLite template (sqliteTemplate), if made.
var templateDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if templateDir != "" {
		os.RemoveAll(templateDir)
	}
	os.Exit(code)
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o600)
}
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
