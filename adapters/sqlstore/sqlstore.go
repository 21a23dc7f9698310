// Package sqlstore keeps tasks and users in PostgreSQL or SQLite through Bun:
// the connection, the versioned migrations, and the repositories.
package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	// The pure Go SQLite driver registers itself as "sqlite"; no cgo.
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/todo-backend/todo/application"
)

// Defaults applied by Open when the URL or Options leave a value unset.
const (
	// DefaultConnectTimeout bounds each PostgreSQL connection attempt when the
	// URL has no connect_timeout, so a wrong host fails fast instead of hanging.
	// It leaves room for a Neon compute waking from scale-to-zero.
	DefaultConnectTimeout = 5 * time.Second
	// DefaultSQLiteBusyTimeout is how long SQLite waits on another process's
	// write lock before failing with SQLITE_BUSY.
	DefaultSQLiteBusyTimeout = 5 * time.Second

	defaultConnMaxIdleTime = 5 * time.Minute
	defaultConnMaxLifetime = 30 * time.Minute
)

// Options tunes the connection pool. Zero values pick the defaults.
type Options struct {
	// MaxOpenConns caps PostgreSQL connections. Default: 4 × GOMAXPROCS (8 on
	// two cores), Bun's recommendation; a pooled Neon endpoint takes far more
	// clients, a direct one about a hundred. At least 2, because Migrate holds
	// one connection for its lock while it migrates on another. SQLite always
	// uses exactly one connection, which serialises writers inside the process.
	MaxOpenConns int
	// ConnMaxIdleTime closes PostgreSQL connections idle this long (default 5
	// min), before a scaled-to-zero Neon compute drops them under us.
	ConnMaxIdleTime time.Duration
	// ConnMaxLifetime recycles PostgreSQL connections (default 30 min).
	ConnMaxLifetime time.Duration
	// Timeout bounds every statement, and every transaction from BEGIN to
	// COMMIT, on the client side (DB_TIMEOUT when serving): a database that
	// stopped answering then costs a request this long, not the minutes TCP
	// takes to notice, and the error wraps application.ErrUnavailable. Zero means
	// no bound (the migrate command); WithoutTimeout lifts it for one call.
	// On PostgreSQL a Timeout also arms the breaker (see ErrBreakerOpen).
	Timeout time.Duration
	// ProbeTimeout bounds the breaker's probe, a ping on a fresh
	// connection (default DefaultProbeTimeout).
	ProbeTimeout time.Duration
	// OnEvent hears what the connection decides by itself: the breaker
	// opening and closing, the fallback to exec mode behind a pooler (see
	// Event). It is called synchronously and must not block. Nil: nothing.
	OnEvent func(Event)
}

// ErrUnsupportedURL means a database URL has a scheme Open does not know.
var ErrUnsupportedURL = errors.New("unsupported database URL: want postgres://..., postgresql://..., sqlite::memory: or sqlite:PATH")

// Open connects to the database a URL names and checks that it answers:
//   - postgres://... or postgresql://... (libpq URL, as Neon prints it) with pgx;
//   - sqlite:PATH, sqlite:///PATH (SQLAlchemy style) or sqlite::memory: with
//     the pure Go modernc.org/sqlite driver.
//
// It does not migrate; call Migrate. The caller closes the DB.
func Open(ctx context.Context, databaseURL string, opts Options) (*bun.DB, error) {
	var (
		db  *bun.DB
		err error
	)
	switch {
	case hasPrefixFold(databaseURL, "postgres://"), hasPrefixFold(databaseURL, "postgresql://"):
		db, err = openPostgres(databaseURL, opts)
	case hasPrefixFold(databaseURL, "sqlite:"):
		db, err = openSQLite(databaseURL, opts)
	default:
		return nil, fmt.Errorf("%w (got %q)", ErrUnsupportedURL, redactScheme(databaseURL))
	}
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("ping database: %w", err)
	}
	return db, nil
}

// hasPrefixFold reports whether s begins with prefix, ignoring case: a
// URL's scheme, a statement's first keyword.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// redactScheme keeps only what precedes the first colon, so that an error
// about an unknown scheme never echoes a password.
func redactScheme(s string) string {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		return s[:i] + ":..."
	}
	if len(s) > 16 {
		return s[:16] + "..."
	}
	return s
}

// ParsePostgresURL reads a postgres:// or postgresql:// URL into a pgx
// configuration with this service's defaults:
//   - connect_timeout: DefaultConnectTimeout unless the URL (or PGCONNECT_TIMEOUT) sets one;
//   - default_query_exec_mode: exec unless the URL sets one.
//
// Why exec for Bun's queries: Bun formats every argument into the SQL text
// itself and hands the driver a query with no parameters, so each distinct
// statement text is new to the server. pgx's default, cache_statement, would
// prepare a named statement for each such text (an extra round trip, filling
// a 512-entry per-connection cache with statements never reused). exec sends
// an unnamed Parse/Bind/Execute in one round trip, which any pooler accepts.
//
// The hot statements (list, get, create, the fast update) are hand-written
// with bound parameters and run on pgx directly in HotMode: prepared once per
// connection and reused, which halves what PostgreSQL spends on them.
func ParsePostgresURL(databaseURL string) (*pgx.ConnConfig, error) {
	cfg, _, _, err := parsePostgresURL(databaseURL)
	return cfg, err
}

// hot is how the hand-written statements run: cache_statement (named
// prepared statements, cached per connection), unless the URL names a
// default_query_exec_mode, which then applies to them too (auto is false).
// Named prepared statements work on direct connections and through
// PgBouncer 1.21 and later in transaction mode (max_prepared_statements >
// 0), which Neon's -pooler endpoints run; behind an older pooler the first
// statement that finds its prepared statement missing switches them to exec
// mode by itself (see execMode).
func parsePostgresURL(databaseURL string) (cfg *pgx.ConnConfig, hot pgx.QueryExecMode, auto bool, err error) {
	u, err := url.Parse(databaseURL)
	if err != nil {
		// url.Error quotes the URL, password included: keep only the reason.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, 0, false, fmt.Errorf("parse database URL: %w", err)
	}
	cfg, err = pgx.ParseConfig(databaseURL)
	if err != nil {
		// pgconn's ParseConfigError redacts the password itself.
		return nil, 0, false, fmt.Errorf("parse database URL: %w", err)
	}
	q := u.Query()
	if !q.Has("connect_timeout") && cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if q.Has("default_query_exec_mode") {
		return cfg, cfg.DefaultQueryExecMode, false, nil
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeExec
	return cfg, pgx.QueryExecModeCacheStatement, true, nil
}

func openPostgres(databaseURL string, opts Options) (*bun.DB, error) {
	cfg, hot, auto, err := parsePostgresURL(databaseURL)
	if err != nil {
		return nil, err
	}
	// Every connection tells the publisher of live events of its commits
	// (publish.go).
	tracer, sig := newCommitTracer()
	cfg.Tracer = tracer
	pgc := stdlib.GetConnector(*cfg)
	g := &guardConnector{Connector: pgc, timeout: opts.Timeout, hot: newExecMode(hot, auto, opts.OnEvent), sig: sig}
	if opts.Timeout > 0 {
		g.breaker = newBreaker(pingFresh(pgc), opts.ProbeTimeout, opts.OnEvent)
	}
	sqldb := sql.OpenDB(g)
	g.sqldb = sqldb
	signals.Store(sqldb, sig)

	maxOpen := opts.MaxOpenConns
	if maxOpen <= 0 {
		maxOpen = 4 * runtime.GOMAXPROCS(0)
	}
	maxOpen = max(maxOpen, 2)
	idle := opts.ConnMaxIdleTime
	if idle <= 0 {
		idle = defaultConnMaxIdleTime
	}
	life := opts.ConnMaxLifetime
	if life <= 0 {
		life = defaultConnMaxLifetime
	}
	sqldb.SetMaxOpenConns(maxOpen)
	sqldb.SetMaxIdleConns(maxOpen)
	sqldb.SetConnMaxIdleTime(idle)
	sqldb.SetConnMaxLifetime(life)
	return bun.NewDB(sqldb, pgdialect.New()), nil
}

func openSQLite(databaseURL string, opts Options) (*bun.DB, error) {
	dsn, err := SQLiteDSN(databaseURL)
	if err != nil {
		return nil, err
	}
	// This package's own modernc driver (see sqliteDriver), wrapped like
	// PostgreSQL's (see guard).
	drv, err := sqliteDriver()
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	sqldb := sql.OpenDB(&guardConnector{Connector: dsnConnector{dsn: dsn, drv: drv}, timeout: opts.Timeout})
	// One connection: writers queue in database/sql instead of failing with
	// SQLITE_BUSY, a transaction (Update) excludes every other statement of
	// this process, and sqlite::memory: stays one database. It never expires,
	// for the same reason.
	sqldb.SetMaxOpenConns(1)
	sqldb.SetMaxIdleConns(1)
	sqldb.SetConnMaxLifetime(0)
	sqldb.SetConnMaxIdleTime(0)
	return bun.NewDB(sqldb, sqlitedialect.New()), nil
}

// SQLiteDSN turns sqlite:PATH, sqlite:///PATH or sqlite::memory: into a
// modernc.org/sqlite data source name with the pragmas this service relies
// on: WAL journal (readers do not block the writer), a busy timeout (another
// process's write waits instead of failing), foreign keys on, and
// BEGIN IMMEDIATE transactions (a read-then-write transaction takes the write
// lock up front, so two processes cannot both read and then both write).
// Query parameters already in the URL are kept; a _pragma it names wins over
// the default for that pragma.
func SQLiteDSN(databaseURL string) (string, error) {
	if !hasPrefixFold(databaseURL, "sqlite:") {
		return "", fmt.Errorf("%w (got %q)", ErrUnsupportedURL, redactScheme(databaseURL))
	}
	rest := databaseURL[len("sqlite:"):]
	if strings.HasPrefix(rest, "//") {
		// SQLAlchemy: sqlite:///relative.db and sqlite:////abs/path.db.
		if !strings.HasPrefix(rest, "///") {
			return "", fmt.Errorf("%w: sqlite://HOST is not a file, use sqlite:PATH", ErrUnsupportedURL)
		}
		rest = rest[len("///"):]
	}
	path, query, _ := strings.Cut(rest, "?")
	if path == "" {
		return "", fmt.Errorf("%w: sqlite: needs a file path, e.g. sqlite:todo.db", ErrUnsupportedURL)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("parse sqlite URL query: %w", err)
	}
	have := make(map[string]bool)
	for _, p := range q["_pragma"] {
		name, _, _ := strings.Cut(p, "(")
		name, _, _ = strings.Cut(name, "=")
		have[strings.ToLower(strings.TrimSpace(name))] = true
	}
	for _, p := range []struct{ name, value string }{
		{"busy_timeout", fmt.Sprint(DefaultSQLiteBusyTimeout.Milliseconds())},
		{"journal_mode", "WAL"},
		{"foreign_keys", "1"},
	} {
		if !have[p.name] {
			q.Add("_pragma", p.name+"("+p.value+")")
		}
	}
	if !q.Has("_txlock") {
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode(), nil
}

// classify marks an error that means "the database cannot be reached or did
// not answer in time" as application.ErrUnavailable, keeping the original in the
// chain for the logs and for errors.As. Any other error, and nil, is
// returned as it is. A caller that gave up (context.Canceled) is not an
// outage and is left alone.
func classify(err error) error {
	if err == nil || !unavailable(err) {
		return err
	}
	return &unavailableError{err: err}
}

func unavailable(err error) bool {
	switch {
	case errors.Is(err, application.ErrUnavailable), errors.Is(err, context.Canceled):
		return false // already marked; or the client went away
	case errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.ErrUnexpectedEOF), err != io.EOF && errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true // refused, reset, unreachable, DNS, TLS handshake timeouts
	}
	if pe, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch {
		case strings.HasPrefix(pe.Code, "08") && pe.Code != "08P01", // connection exception, but not a protocol violation (a bug)
			strings.HasPrefix(pe.Code, "53"), // insufficient resources: too many connections, disk full, out of memory
			pe.Code == "57014",               // query_canceled: statement_timeout, or our deadline's cancel request
			pe.Code == "57P01",               // admin_shutdown
			pe.Code == "57P02",               // crash_shutdown
			pe.Code == "57P03":               // cannot_connect_now: starting up or in recovery
			return true
		}
		return false
	}
	if le, ok := errors.AsType[*sqlite.Error](err); ok {
		switch le.Code() & 0xff { // the primary code of an extended one
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return true
		}
	}
	return false
}

// unavailableError is an error that is application.ErrUnavailable and, through
// the chain, still the driver's own error.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string {
	return application.ErrUnavailable.Error() + ": " + e.err.Error()
}

func (e *unavailableError) Unwrap() []error { return []error{application.ErrUnavailable, e.err} }
