package reliability

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The HS256 secret every binary of these drills runs with.
const testSecret = "reliability-secret-0123456789abcdef0123456789"

const (
	startTimeout = 20 * time.Second
	stopTimeout  = 20 * time.Second
)

var (
	buildDir  string
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// apiBinary builds cmd/api once per run (without the race detector, as
// `make build` does: the drills measure the service, not the detector).
func apiBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "todo-reliability-")
		if err != nil {
			buildErr = err
			return
		}
		buildDir = dir
		out := filepath.Join(dir, "todo-api")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "github.com/todo-backend/todo/cmd/api")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		var log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log
		if err := cmd.Run(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, log.String())
			return
		}
		binPath = out
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// heavy skips a drill under -short (make test-short): they build and start
// the binary.
func heavy(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("process-level drill: skipped with -short")
	}
}

func onCI() bool { v := os.Getenv("CI"); return v == "true" || v == "1" }

// unavailable fails the test on CI and skips it elsewhere.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if onCI() {
		t.Fatalf("CI=true and %s", msg)
	}
	t.Skip(msg)
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// api is a running todo-api serve.
type api struct {
	name   string
	cmd    *exec.Cmd
	stdout *lockedBuffer
	stderr *lockedBuffer
	done   chan struct{}
	err    error
	URL    string
}

// start runs `todo-api serve` on a free port with exactly env (nothing is
// inherited) in an empty directory. It does not wait: see waitReady.
func start(t *testing.T, name string, env ...string) *api {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(apiBinary(t), "serve")
	cmd.Dir = t.TempDir()
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "PORT=" + strconv.Itoa(port),
		"BETTER_AUTH_SECRET=" + testSecret}, env...)
	a := &api{name: name, cmd: cmd, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan struct{}),
		URL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	cmd.Stdout, cmd.Stderr = a.stdout, a.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		a.err = cmd.Wait()
		close(a.done)
	}()
	t.Cleanup(func() {
		if !a.exited() {
			a.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-a.done:
			case <-time.After(stopTimeout):
				a.cmd.Process.Kill()
				<-a.done
			}
		}
		if t.Failed() {
			t.Logf("%s stdout (last 4000 bytes):\n%s\n%s stderr:\n%s", name, tail(a.stdout.String(), 4000), name, a.stderr.String())
		}
	})
	return a
}

// startReady starts the binary and waits until /readyz answers 200.
func startReady(t *testing.T, name string, env ...string) *api {
	t.Helper()
	a := start(t, name, env...)
	a.waitStatus(t, "/readyz", http.StatusOK, startTimeout)
	return a
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

func (a *api) exited() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

// wait waits for the process to end by itself and returns its exit code.
func (a *api) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-a.done:
	case <-time.After(timeout):
		a.cmd.Process.Kill()
		<-a.done
		t.Fatalf("%s still running after %v; killed", a.name, timeout)
	}
	if ee, ok := errors.AsType[*exec.ExitError](a.err); ok {
		return ee.ExitCode()
	}
	if a.err != nil {
		return -1
	}
	return 0
}

// waitStatus polls GET path until it answers want; it fails the test when
// the process exits or timeout passes first.
func (a *api) waitStatus(t *testing.T, path string, want int, timeout time.Duration) {
	t.Helper()
	hc := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	last := "no answer"
	for {
		resp, err := hc.Get(a.URL + path)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
			last = "status " + strconv.Itoa(resp.StatusCode)
		} else {
			last = err.Error()
		}
		if a.exited() {
			t.Fatalf("%s exited before GET %s answered %d (last: %s)", a.name, path, want, last)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s%s did not answer %d within %v (last: %s)", a.name, path, want, timeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// logLine is one JSON log line of the service.
type logLine struct {
	Msg       string `json:"msg"`
	RequestID string `json:"request_id"`
	Status    int    `json:"status"`
	Route     string `json:"route"`
	Level     string `json:"level"`
}

// logs parses the JSON lines the process wrote to stdout.
func (a *api) logs(t *testing.T) []logLine {
	t.Helper()
	var out []logLine
	sc := bufio.NewScanner(strings.NewReader(a.stdout.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l logLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Errorf("%s stdout line is not JSON: %.200s", a.name, sc.Text())
			continue
		}
		out = append(out, l)
	}
	return out
}

var (
	portsMu sync.Mutex
	ports   = map[int]bool{}
)

// freePort returns a loopback port the kernel had free and this run has not
// handed out before.
func freePort(t *testing.T) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if !ports[port] {
			ports[port] = true
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// postgresDatabase creates a database rel_<random> on TEST_DATABASE_URL's
// server, dropped at the end, and returns its URL. Without PostgreSQL it
// skips, or fails on CI.
func postgresDatabase(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("TEST_DATABASE_URL")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("TEST_DATABASE_URL must be a postgres:// URL")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		unavailable(t, "PostgreSQL is unreachable at TEST_DATABASE_URL (%s): %v; start PostgreSQL or set TEST_DATABASE_URL", u.Redacted(), err)
	}
	defer conn.Close(context.Background())
	b := make([]byte, 6)
	rand.Read(b)
	name := "rel_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// storedTasks reads a user's live tasks straight from the database: id to
// title and completion. A task in the trash (deleted_at set, where the
// schema has it) is not live.
func storedTasks(t *testing.T, conn *pgx.Conn, userID string) map[int64]storedTask {
	t.Helper()
	q := "SELECT id, title, completed FROM tasks WHERE user_id = $1"
	var trash bool
	if err := conn.QueryRow(t.Context(), "SELECT EXISTS (SELECT 1 FROM information_schema.columns "+
		"WHERE table_schema = current_schema() AND table_name = 'tasks' AND column_name = 'deleted_at')").Scan(&trash); err != nil {
		t.Fatalf("read the tasks table's columns: %v", err)
	}
	if trash {
		q += " AND deleted_at IS NULL"
	}
	rows, err := conn.Query(t.Context(), q, userID)
	if err != nil {
		t.Fatalf("read tasks of %s: %v", userID, err)
	}
	defer rows.Close()
	out := map[int64]storedTask{}
	for rows.Next() {
		var id int64
		var s storedTask
		if err := rows.Scan(&id, &s.Title, &s.Completed); err != nil {
			t.Fatal(err)
		}
		out[id] = s
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

type storedTask struct {
	Title     string
	Completed bool
}

func connect(t *testing.T, dbURL string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect to the test database: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
