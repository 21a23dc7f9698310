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
	"time"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/domain/task"
)

const defaultTestDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// testDatabaseURL is the PostgreSQL server the tests may use. Each test
// works in its own schema there and drops it afterwards.
func testDatabaseURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return defaultTestDatabaseURL
}

var (
	pgOnce sync.Once
	pgErr  error
)

// requirePostgres skips the test when PostgreSQL cannot be reached, or fails
// it when CI=true, where a silently skipped store would hide regressions.
func requirePostgres(t *testing.T) {
	t.Helper()
	pgOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		db, err := sqlstore.Open(ctx, testDatabaseURL(), sqlstore.Options{MaxOpenConns: 2})
		if err != nil {
			pgErr = err
			return
		}
		pgErr = db.Close()
	})
	if pgErr == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("PostgreSQL at TEST_DATABASE_URL is required in CI: %v", pgErr)
	}
	t.Skipf("PostgreSQL unreachable (%v); start it or set TEST_DATABASE_URL to run these tests", pgErr)
}

// freshPostgresSchema creates an empty schema, dropped when the test ends,
// and returns a database URL whose connections use it.
func freshPostgresSchema(t *testing.T) string {
	t.Helper()
	requirePostgres(t)
	ctx := context.Background()
	admin, err := sqlstore.Open(ctx, testDatabaseURL(), sqlstore.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatalf("open admin connection: %v", err)
	}
	schema := "contract_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA ?", bun.Ident(schema)); err != nil {
		admin.Close()
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA ? CASCADE", bun.Ident(schema)); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})

	u, err := url.Parse(testDatabaseURL())
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL is not a URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
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
	"memory":   func(*testing.T) task.Repository { return memory.NewTaskRepository() },
	"sqlite":   func(t *testing.T) task.Repository { return sqlstore.NewTaskRepository(openSQLiteDB(t)) },
	"postgres": func(t *testing.T) task.Repository { return sqlstore.NewTaskRepository(openPostgresDB(t)) },
}
