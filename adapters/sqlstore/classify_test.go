package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/user"
)

// TestClassify: what means "the database cannot be reached" becomes
// application.ErrUnavailable (and stays the driver's error underneath); what is the
// request's own fault, the client leaving, or the end of the rows does not.
func TestClassify(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"refused", refused, true},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"broken pipe", fmt.Errorf("write: %w", syscall.EPIPE), true},
		{"unexpected EOF", fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), true},
		{"wrapped EOF", fmt.Errorf("read: %w", io.EOF), true},
		{"bad conn", driver.ErrBadConn, true},
		{"conn closed", pgconn.ErrConnClosed, true},
		{"deadline", fmt.Errorf("query: %w", context.DeadlineExceeded), true},
		{"admin shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"cannot connect now", &pgconn.PgError{Code: "57P03"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"statement timeout", &pgconn.PgError{Code: "57014"}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"protocol violation (a bug)", &pgconn.PgError{Code: "08P01"}, false},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"client went away", fmt.Errorf("query: %w", context.Canceled), false},
		{"end of rows", io.EOF, false},
		{"skip", driver.ErrSkip, false},
		{"domain error", user.ErrEmailTaken, false},
		{"other", errors.New("convert field 2"), false},
	}
	for _, tt := range tests {
		got := classify(tt.err)
		if is := errors.Is(got, application.ErrUnavailable); is != tt.want {
			t.Errorf("classify(%s: %v) is ErrUnavailable = %v, want %v", tt.name, tt.err, is, tt.want)
		}
		if !tt.want && got != tt.err {
			t.Errorf("classify(%s: %v) = %v, want it unchanged", tt.name, tt.err, got)
		}
		if tt.want && !errors.Is(got, tt.err) {
			t.Errorf("classify(%s: %v) = %v, which no longer is the original", tt.name, tt.err, got)
		}
	}
	if once := classify(refused); classify(once) != once {
		t.Errorf("classify(classify(err)) = %v, want classify(err) unchanged", classify(once))
	}
}

// TestClassifySQLiteBusy: SQLITE_BUSY is the other process holding the write
// lock longer than the busy timeout: retry later.
func TestClassifySQLiteBusy(t *testing.T) {
	path := t.TempDir() + "/locked.db"
	a, err := Open(t.Context(), "sqlite:"+path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(t.Context(), "sqlite:"+path+"?_pragma=busy_timeout(10)", Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := a.ExecContext(t.Context(), "CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	tx, err := a.BeginTx(t.Context(), nil) // BEGIN IMMEDIATE: holds the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	_, err = b.ExecContext(t.Context(), "INSERT INTO t VALUES (1)")
	if !errors.Is(err, application.ErrUnavailable) {
		t.Errorf("insert while another connection holds the write lock = %v, want ErrUnavailable", err)
	}
	if _, ok := errors.AsType[*sqlite.Error](err); !ok {
		t.Errorf("insert while locked = %v, want the *sqlite.Error still in the chain", err)
	}
}
