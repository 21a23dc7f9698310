package reliability

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/todo-backend/todo/internal/testenv"
)

// The HS256 secret every binary of these drills runs with.
const testSecret = "reliability-secret-0123456789abcdef0123456789"

const (
	startTimeout = 20 * time.Second
	stopTimeout  = 20 * time.Second
)

func TestMain(m *testing.M) {
	defer testenv.Cleanup()
	m.Run()
}

// heavy skips a drill under -short (make test-short): they build and start
// the binary.
func heavy(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("process-level drill: skipped with -short")
	}
}

// api is a running todo-api serve.
type api struct {
	*testenv.Process
	URL string
}

// start runs `todo-api serve` on a free port with exactly env (nothing is
// inherited) in an empty directory. It does not wait: see waitReady.
func start(t *testing.T, name string, env ...string) *api {
	t.Helper()
	port := testenv.FreePort(t)
	p := testenv.Start(t, testenv.Spec{
		Label: name,
		Env: append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "PORT=" + strconv.Itoa(port),
			"BETTER_AUTH_SECRET=" + testSecret}, env...),
		Path:        testenv.APIBinary(t),
		Args:        []string{"serve"},
		StopTimeout: stopTimeout,
		LogTail:     4000,
	})
	return &api{Process: p, URL: fmt.Sprintf("http://127.0.0.1:%d", port)}
}

// startReady starts the binary and waits until /readyz answers 200.
func startReady(t *testing.T, name string, env ...string) *api {
	t.Helper()
	a := start(t, name, env...)
	a.waitStatus(t, "/readyz", http.StatusOK, startTimeout)
	return a
}

// startTwoReady starts two instances of the binary with env at once (so
// that both migrate together, as a rolling deploy would) and waits until
// both are ready; it stops the test when either is not.
func startTwoReady(t *testing.T, env ...string) (a, b *api) {
	t.Helper()
	a, b = start(t, "todo-api", env...), start(t, "todo-api", env...)
	var starting sync.WaitGroup
	for _, x := range []*api{a, b} {
		starting.Go(func() { x.waitStatus(t, "/readyz", http.StatusOK, startTimeout) })
	}
	starting.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return a, b
}

// waitStatus polls GET path until it answers want; it fails the test when
// the process exits or timeout passes first.
func (a *api) waitStatus(t *testing.T, path string, want int, timeout time.Duration) {
	t.Helper()
	testenv.WaitHTTP(t, a.Process, a.URL+path, want, timeout)
}

// logLine is one JSON log line of the service.
type logLine struct {
	TS        string `json:"ts"`
	Msg       string `json:"msg"`
	RequestID string `json:"request_id"`
	Status    int    `json:"status"`
	Route     string `json:"route"`
	Level     string `json:"level"`
}

// logs parses the JSON lines the process wrote to stdout.
func (a *api) logs(t *testing.T) []logLine {
	t.Helper()
	return parseLogs(t, a.Name(), a.Stdout())
}

// parseLogs parses the JSON log lines in stdout, which name wrote.
func parseLogs(t *testing.T, name, stdout string) []logLine {
	t.Helper()
	var out []logLine
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var l logLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Errorf("%s stdout line is not JSON: %.200s", name, sc.Text())
			continue
		}
		out = append(out, l)
	}
	return out
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
