package sqlstore_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/application"
)

// postgresURL returns TEST_DATABASE_URL when PostgreSQL answers there; it
// skips the test otherwise, or fails it on CI (CI=true).
func postgresURL(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL: skipped with -short")
	}
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		u = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	db, err := sqlstore.Open(ctx, u, sqlstore.Options{MaxOpenConns: 2})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at TEST_DATABASE_URL is required in CI: %v", err)
		}
		t.Skipf("PostgreSQL unreachable (%v); start it or set TEST_DATABASE_URL to run this test", err)
	}
	db.Close()
	return u
}

func open(t *testing.T, databaseURL string, opts sqlstore.Options) *bun.DB {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), databaseURL, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestUnreachableIsUnavailable: a refused connection is
// application.ErrUnavailable, at Open and on a query.
func TestUnreachableIsUnavailable(t *testing.T) {
	const url = "postgres://u:p@127.0.0.1:1/db?sslmode=disable&connect_timeout=2"
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := sqlstore.Open(ctx, url, sqlstore.Options{})
	if !errors.Is(err, application.ErrUnavailable) {
		t.Errorf("Open(refusing port) = %v, want ErrUnavailable", err)
	}
}

// TestStatementTimeout: a statement that outlives Options.Timeout is ended by
// the client and reported as ErrUnavailable; the pool serves the next one;
// WithoutTimeout lifts the bound (migrations).
func TestStatementTimeout(t *testing.T) {
	db := open(t, postgresURL(t), sqlstore.Options{Timeout: 200 * time.Millisecond, MaxOpenConns: 2})

	_, err := db.ExecContext(t.Context(), "SELECT pg_sleep(30)")
	if !errors.Is(err, application.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("pg_sleep(30) with a 200ms timeout = %v, want ErrUnavailable and DeadlineExceeded", err)
	}
	var n int
	if err := db.NewRaw("SELECT 1").Scan(t.Context(), &n); err != nil || n != 1 {
		t.Errorf("SELECT 1 after a timeout = %d, %v; want 1, nil", n, err)
	}
	if _, err := db.ExecContext(sqlstore.WithoutTimeout(t.Context()), "SELECT pg_sleep(0.5)"); err != nil {
		t.Errorf("pg_sleep(0.5) under WithoutTimeout = %v, want nil", err)
	}

	// A transaction as a whole: one left open past the bound cannot commit.
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatalf("BeginTx: %v", err)
	}
	time.Sleep(400 * time.Millisecond)
	if err := tx.Commit(); err == nil {
		t.Errorf("Commit of a transaction open past the timeout = nil, want an error")
	}
	if err := db.NewRaw("SELECT 1").Scan(t.Context(), &n); err != nil {
		t.Errorf("SELECT 1 after an expired transaction = %v, want nil", err)
	}
}

// TestConnectionLost: the server ends the connection under a running query
// (as a restart or failover does): ErrUnavailable, then the pool reconnects.
func TestConnectionLost(t *testing.T) {
	url := postgresURL(t)
	db := open(t, url, sqlstore.Options{Timeout: 20 * time.Second, MaxOpenConns: 2})
	admin := open(t, url, sqlstore.Options{MaxOpenConns: 1})

	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var pid int
	if err := conn.QueryRowContext(t.Context(), "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := conn.ExecContext(t.Context(), "SELECT pg_sleep(15)")
		done <- err
	}()
	// Terminate the backend once it runs the sleep.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var active bool
		err := admin.QueryRowContext(t.Context(),
			"SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = ? AND query LIKE '%pg_sleep(15)%' AND state = 'active')", pid).Scan(&active)
		if err != nil {
			t.Fatal(err)
		}
		if active {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the query never showed up in pg_stat_activity")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := admin.ExecContext(t.Context(), "SELECT pg_terminate_backend(?)", pid); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, application.ErrUnavailable) {
		t.Errorf("query whose backend was terminated = %v, want ErrUnavailable", err)
	}
	conn.Close()
	var n int
	if err := db.NewRaw("SELECT 1").Scan(t.Context(), &n); err != nil || n != 1 {
		t.Errorf("SELECT 1 after the lost connection = %d, %v; want 1, nil", n, err)
	}
}
