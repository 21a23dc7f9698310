package sqlstore_test

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
	"github.com/todo-backend/todo/internal/testenv"
)

// startPgBouncer runs the machine's pgbouncer (Debian's package; .ci/run
// installs it) on a free loopback port in transaction mode, with no
// prepared-statement support, in front of the server databaseURL names,
// and returns databaseURL through it. Without pgbouncer it skips, or fails
// on CI.
func startPgBouncer(t *testing.T, databaseURL string) string {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		bin = "/usr/sbin/pgbouncer" // Debian's, off a non-root PATH
		if _, err := os.Stat(bin); err != nil {
			testenv.Unavailable(t, "pgbouncer is not installed (apt-get install pgbouncer; .ci/run does)")
		}
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatalf("pgbouncer --version: %v", err)
	}
	m := regexp.MustCompile(`PgBouncer (\d+)\.(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("pgbouncer --version printed %q", out)
	}
	major, _ := strconv.Atoi(string(m[1]))
	minor, _ := strconv.Atoi(string(m[2]))

	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	// pgbouncer refuses to run as root; it drops to -u's user, who must
	// read the files: a world-readable directory of its own.
	dir, err := os.MkdirTemp("", "pgbouncer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	pass, _ := u.User.Password()
	users := filepath.Join(dir, "users.txt")
	if err := os.WriteFile(users, fmt.Appendf(nil, "%q %q\n", u.User.Username(), pass), 0o644); err != nil {
		t.Fatal(err)
	}
	port := testenv.FreePort(t)
	cfg := fmt.Sprintf(`[databases]
* = host=%s port=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = transaction
default_pool_size = 2
max_client_conn = 100
`, u.Hostname(), u.Port(), port, users)
	if major > 1 || minor >= 21 {
		cfg += "max_prepared_statements = 0\n" // 1.21 and later can keep them; this test is about a pooler that does not
	}
	ini := filepath.Join(dir, "pgbouncer.ini")
	if err := os.WriteFile(ini, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{ini}
	if os.Geteuid() == 0 {
		name := "nobody"
		if _, err := user.Lookup("postgres"); err == nil {
			name = "postgres"
		}
		args = []string{"-u", name, ini}
	}
	p := testenv.Start(t, testenv.Spec{Label: "pgbouncer", Dir: dir, Env: testenv.BaseEnv(t), Path: bin, Args: args})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if p.Exited() || time.Now().After(deadline) {
			t.Fatalf("pgbouncer does not listen on %s: %v\n%s", addr, err, p.Output())
		}
	}
	t.Logf("PgBouncer %d.%d in transaction mode on %s", major, minor, addr)
	pooled := *u
	pooled.Host = addr
	return pooled.String()
}

// TestTransactionPooler runs the writes that failed behind PgBouncer 1.18
// in transaction mode (500 "prepared statement ... does not exist" or
// "... already exists" for concurrent creates, toggles and replaces) through
// pgbouncer, with the URL as a user would write it (no
// default_query_exec_mode): the first such error switches the hand-written
// statements to exec mode for every connection, once, the failed statement
// is run again, and every write succeeds and lands.
func TestTransactionPooler(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL and pgbouncer: skipped with -short")
	}
	t.Parallel()
	pooled := startPgBouncer(t, testenv.PostgresDatabase(t))
	ev := newEventLog()
	db := open(t, pooled, sqlstore.Options{Timeout: 20 * time.Second, MaxOpenConns: 8, OnEvent: ev.add})
	ctx := t.Context()
	if err := sqlstore.Migrate(ctx, db); err != nil {
		t.Fatalf("Migrate through pgbouncer: %v", err)
	}
	repo := sqlstore.NewTaskRepository(db)
	owner := auth.UserID("pooler-user")
	now := time.Now()

	const workers, each = 10, 10
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	fail := func(op string, err error) {
		mu.Lock()
		defer mu.Unlock()
		errs = append(errs, fmt.Errorf("%s: %w", op, err))
	}
	add := func(title string) *task.Task {
		tk, err := task.New(owner, title, nil, now)
		if err != nil {
			t.Fatal(err)
		}
		got, err := repo.Add(ctx, tk)
		if err != nil {
			t.Fatalf("Add %q: %v", title, err)
		}
		return got
	}
	toggled, replaced := add("toggled"), add("replaced")

	for w := range workers {
		wg.Go(func() {
			for i := range each {
				tk, err := task.New(owner, fmt.Sprintf("create %d-%d", w, i), nil, now)
				if err == nil {
					_, err = repo.Add(ctx, tk)
				}
				if err != nil {
					fail("create", err)
				}
				if _, err := repo.Update(ctx, owner, toggled.ID(), task.AnyVersion, func(tk *task.Task) error {
					tk.ToggleCompleted(time.Now())
					return nil
				}); err != nil {
					fail("toggle", err)
				}
				if _, err := repo.Update(ctx, owner, replaced.ID(), task.AnyVersion, func(tk *task.Task) error {
					return tk.Edit(fmt.Sprintf("replace %d-%d", w, i), nil, time.Now())
				}); err != nil {
					fail("replace", err)
				}
				if _, err := repo.List(ctx, owner, task.Query{}); err != nil {
					fail("list", err)
				}
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i == 5 {
			t.Errorf("... %d errors in all", len(errs))
			break
		}
		t.Errorf("through pgbouncer: %v", err)
	}

	// Everything landed: every create, every toggle (an even number leaves
	// it pending, each one a version), every replace.
	got, err := repo.Get(ctx, owner, toggled.ID())
	if err != nil {
		t.Fatal(err)
	}
	if want := toggled.Version() + workers*each; got.Completed() || got.Version() != want {
		t.Errorf("after %d toggles: completed %v, version %d; want false, %d", workers*each, got.Completed(), got.Version(), want)
	}
	got, err = repo.Get(ctx, owner, replaced.ID())
	if err != nil {
		t.Fatal(err)
	}
	if want := replaced.Version() + workers*each; got.Version() != want || !strings.HasPrefix(got.Title(), "replace ") {
		t.Errorf("after %d replaces: version %d, title %q; want %d, one of theirs", workers*each, got.Version(), got.Title(), want)
	}
	page, err := repo.List(ctx, owner, task.Query{})
	if err != nil {
		t.Fatal(err)
	}
	if want := workers*each + 2; len(page.Tasks) != want {
		t.Errorf("listed %d tasks, want %d", len(page.Tasks), want)
	}

	// The fallback was decided once, and said why.
	var falls []sqlstore.Event
	for _, e := range ev.events() {
		if e.Kind == sqlstore.ExecModeFallback {
			falls = append(falls, e)
		}
	}
	if len(falls) != 1 {
		t.Fatalf("%d exec mode fallbacks, want exactly 1 (with %d connections on 2 server connections, prepared statements must have collided)", len(falls), 8)
	}
	t.Logf("figures: pooler: %d creates, %d toggles, %d replaces, %d lists through PgBouncer: %d errors; fell back to exec mode once: %v",
		workers*each, workers*each, workers*each, workers*each, len(errs), falls[0].Err)
}
