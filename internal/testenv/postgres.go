package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultDatabaseURL is the server PostgresDatabase uses when
// TEST_DATABASE_URL is not set.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// PostgresDatabase creates a fresh database e2e_<random> on the server that
// TEST_DATABASE_URL names and returns a URL for it; the database is dropped
// (WITH (FORCE)) when the test ends. Without a reachable server it skips, or
// fails on CI.
func PostgresDatabase(t testing.TB) string {
	t.Helper()
	name := randomName("e2e")
	u := createDropped(t, 20*time.Second, "database "+name,
		"CREATE DATABASE "+pgx.Identifier{name}.Sanitize(),
		// FORCE ends connections the binary may have left behind.
		"DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	u.Path = "/" + name
	return u.String()
}

// DatabaseURL is the server the tests may use: TEST_DATABASE_URL, or
// DefaultDatabaseURL when it is not set; also parsed.
func DatabaseURL(t testing.TB) (string, *url.URL) {
	t.Helper()
	admin := os.Getenv("TEST_DATABASE_URL")
	if admin == "" {
		admin = DefaultDatabaseURL
	}
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("TEST_DATABASE_URL must be a postgres:// URL, not %q", admin)
	}
	return admin, u
}

// connect opens an admin connection, or skips (fails on CI) when the server
// cannot be reached.
func connect(ctx context.Context, t testing.TB, admin string, u *url.URL) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		Unavailable(t, "PostgreSQL is unreachable at TEST_DATABASE_URL (%s): %v; start PostgreSQL or set TEST_DATABASE_URL", u.Redacted(), err)
	}
	return conn
}

// FreshSchema creates an empty schema prefix_<random> on the server that
// TEST_DATABASE_URL names, dropped (CASCADE) when the test ends, and returns
// a URL whose connections use it (search_path). Cheaper than a database per
// test, for tests that do not run the binary. Without a reachable server it
// skips, or fails on CI.
func FreshSchema(t testing.TB, prefix string) string {
	t.Helper()
	schema := randomName(prefix)
	u := createDropped(t, 30*time.Second, "schema "+schema,
		"CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize(),
		"DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// randomName is prefix_ and 12 random hex digits.
func randomName(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

// createDropped runs create on an admin connection to TEST_DATABASE_URL's
// server (skipping, or failing on CI, when it cannot be reached), and drop
// on a new one, within dropTimeout, when the test ends; what names the
// object in messages. It returns the server's URL.
func createDropped(t testing.TB, dropTimeout time.Duration, what, create, drop string) *url.URL {
	t.Helper()
	admin, u := DatabaseURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn := connect(ctx, t, admin, u)
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, create); err != nil {
		t.Fatalf("create %s: %v", what, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), dropTimeout)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop %s: %v", what, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, drop); err != nil {
			t.Errorf("drop %s: %v", what, err)
		}
	})
	return u
}
