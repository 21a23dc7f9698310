package sqlstore_test

import (
	"context"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todo-backend/todo/adapters/sqlstore"
)

// neonURL is a connection string exactly as Neon's console prints it for a
// pooled endpoint.
const neonURL = "postgresql://neondb_owner:npg_abc@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/neondb?sslmode=require&channel_binding=require"

func TestParsePostgresURLNeon(t *testing.T) {
	cfg, err := sqlstore.ParsePostgresURL(neonURL)
	if err != nil {
		t.Fatalf("ParsePostgresURL(neon) error = %v", err)
	}
	const host = "ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech"
	for _, c := range []struct {
		field     string
		got, want any
	}{
		{"Host", cfg.Host, host},
		{"Port", cfg.Port, uint16(5432)},
		{"Database", cfg.Database, "neondb"},
		{"User", cfg.User, "neondb_owner"},
		{"Password", cfg.Password, "npg_abc"},
		{"ChannelBinding", cfg.ChannelBinding, "require"},
		{"ConnectTimeout", cfg.ConnectTimeout, sqlstore.DefaultConnectTimeout},
		{"DefaultQueryExecMode", cfg.DefaultQueryExecMode, pgx.QueryExecModeExec},
		{"len(Fallbacks)", len(cfg.Fallbacks), 0}, // sslmode=require: no plaintext fallback
	} {
		if c.got != c.want {
			t.Errorf("ParsePostgresURL(neon).%s = %v, want %v", c.field, c.got, c.want)
		}
	}
	if cfg.TLSConfig == nil {
		t.Fatal("ParsePostgresURL(neon).TLSConfig = nil, want TLS required")
	}
	// Neon routes on SNI: the server name must be the endpoint host.
	if got := cfg.TLSConfig.ServerName; got != host {
		t.Errorf("ParsePostgresURL(neon).TLSConfig.ServerName = %q, want %q", got, host)
	}
	for k := range cfg.RuntimeParams {
		if k == "channel_binding" || k == "sslmode" {
			t.Errorf("ParsePostgresURL(neon).RuntimeParams has %q, want it consumed by pgx", k)
		}
	}
}

func TestParsePostgresURLOverrides(t *testing.T) {
	const base = "postgres://u:p@db.example.com:6543/app?sslmode=disable"
	tests := []struct {
		url         string
		wantMode    pgx.QueryExecMode
		wantTimeout time.Duration
	}{
		{base, pgx.QueryExecModeExec, sqlstore.DefaultConnectTimeout},
		{base + "&default_query_exec_mode=cache_statement", pgx.QueryExecModeCacheStatement, sqlstore.DefaultConnectTimeout},
		{base + "&default_query_exec_mode=simple_protocol", pgx.QueryExecModeSimpleProtocol, sqlstore.DefaultConnectTimeout},
		{base + "&connect_timeout=12", pgx.QueryExecModeExec, 12 * time.Second},
		{base + "&connect_timeout=0", pgx.QueryExecModeExec, 0}, // explicit: wait forever
	}
	for _, tt := range tests {
		cfg, err := sqlstore.ParsePostgresURL(tt.url)
		if err != nil {
			t.Errorf("ParsePostgresURL(%q) error = %v", tt.url, err)
			continue
		}
		if cfg.DefaultQueryExecMode != tt.wantMode {
			t.Errorf("ParsePostgresURL(%q).DefaultQueryExecMode = %v, want %v", tt.url, cfg.DefaultQueryExecMode, tt.wantMode)
		}
		if cfg.ConnectTimeout != tt.wantTimeout {
			t.Errorf("ParsePostgresURL(%q).ConnectTimeout = %v, want %v", tt.url, cfg.ConnectTimeout, tt.wantTimeout)
		}
		if cfg.Host != "db.example.com" || cfg.Port != 6543 || cfg.TLSConfig != nil {
			t.Errorf("ParsePostgresURL(%q) = host %q port %d tls %v, want db.example.com 6543 no TLS", tt.url, cfg.Host, cfg.Port, cfg.TLSConfig != nil)
		}
	}
}

func TestParsePostgresURLErrorHidesPassword(t *testing.T) {
	for _, u := range []string{
		"postgres://user:s3cret@host:notaport/db",
		"postgres://user:s3cret@host/db?sslmode=bogus",
		"postgres://user:s3cret@host/db?channel_binding=maybe",
	} {
		_, err := sqlstore.ParsePostgresURL(u)
		if err == nil {
			t.Errorf("ParsePostgresURL(%q) error = nil, want one", u)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ParsePostgresURL(%q) error = %q, leaks the password", u, err)
		}
	}
}

func TestSQLiteDSN(t *testing.T) {
	defaults := url.Values{
		"_pragma": {"busy_timeout(5000)", "journal_mode(WAL)", "foreign_keys(1)"},
		"_txlock": {"immediate"},
	}
	tests := []struct {
		in       string
		wantPath string
		want     url.Values
	}{
		{"sqlite:todo.db", "todo.db", defaults},
		{"sqlite:/abs/dir/todo.db", "/abs/dir/todo.db", defaults},
		{"sqlite:./rel/todo.db", "./rel/todo.db", defaults},
		{"sqlite::memory:", ":memory:", defaults},
		{"sqlite:///todo.db", "todo.db", defaults},           // SQLAlchemy, relative
		{"sqlite:////abs/todo.db", "/abs/todo.db", defaults}, // SQLAlchemy, absolute
		{"SQLITE:todo.db", "todo.db", defaults},
		{"sqlite:todo.db?_pragma=busy_timeout(100)&_txlock=deferred", "todo.db", url.Values{
			"_pragma": {"busy_timeout(100)", "journal_mode(WAL)", "foreign_keys(1)"},
			"_txlock": {"deferred"},
		}},
	}
	for _, tt := range tests {
		got, err := sqlstore.SQLiteDSN(tt.in)
		if err != nil {
			t.Errorf("SQLiteDSN(%q) error = %v", tt.in, err)
			continue
		}
		path, query, _ := strings.Cut(got, "?")
		q, err := url.ParseQuery(query)
		if err != nil {
			t.Errorf("SQLiteDSN(%q) = %q, bad query: %v", tt.in, got, err)
			continue
		}
		if path != tt.wantPath || q.Encode() != tt.want.Encode() {
			t.Errorf("SQLiteDSN(%q) = %q, want path %q query %q", tt.in, got, tt.wantPath, tt.want.Encode())
		}
	}
}

func TestOpenRejects(t *testing.T) {
	for _, u := range []string{
		"",
		"mysql://root:hunter2@localhost/db",
		"memory:",
		"sqlite:",
		"sqlite://host/todo.db",
		"todo.db",
	} {
		db, err := sqlstore.Open(context.Background(), u, sqlstore.Options{})
		if err == nil {
			db.Close()
			t.Errorf("Open(%q) error = nil, want ErrUnsupportedURL", u)
			continue
		}
		if !errors.Is(err, sqlstore.ErrUnsupportedURL) {
			t.Errorf("Open(%q) error = %v, want ErrUnsupportedURL", u, err)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) error = %q, leaks the password", u, err)
		}
	}
}

func TestOpenSQLitePragmas(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "todo.db")
	db, err := sqlstore.Open(ctx, "sqlite:"+path, sqlstore.Options{MaxOpenConns: 10})
	if err != nil {
		t.Fatalf("Open(sqlite) error = %v", err)
	}
	defer db.Close()

	if got := db.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("Open(sqlite) MaxOpenConnections = %d, want 1", got)
	}
	for _, c := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "5000"},
	} {
		var got string
		if err := db.NewRaw("PRAGMA "+c.pragma).Scan(ctx, &got); err != nil {
			t.Errorf("PRAGMA %s error = %v", c.pragma, err)
			continue
		}
		if got != c.want {
			t.Errorf("PRAGMA %s = %q, want %q", c.pragma, got, c.want)
		}
	}
}

func TestOpenSQLiteMemory(t *testing.T) {
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "sqlite::memory:", sqlstore.Options{})
	if err != nil {
		t.Fatalf("Open(sqlite::memory:) error = %v", err)
	}
	defer db.Close()
	if err := sqlstore.Migrate(ctx, db); err != nil {
		t.Fatalf("Migrate(memory) error = %v", err)
	}
	// Every statement must see the migrated schema: one connection, one database.
	var n int
	if err := db.NewRaw("SELECT count(*) FROM tasks").Scan(ctx, &n); err != nil {
		t.Fatalf("count tasks after Migrate error = %v", err)
	}
}

func TestOpenPostgresUnreachableIsBounded(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Port 1 on localhost refuses at once; the point is an error, not a hang.
	_, err := sqlstore.Open(ctx, "postgres://u:hunter2@127.0.0.1:1/db?sslmode=disable", sqlstore.Options{})
	if err == nil {
		t.Fatal("Open(unreachable) error = nil, want one")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Open(unreachable) error = %q, leaks the password", err)
	}
}
