// Package apibin builds the todo-api binary and runs it on a free port, for
// tests that drive the service from outside, as a browser or the frontend's
// tools do.
package apibin

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Secret is the HS256 secret that Start gives the service.
const Secret = "test-secret-at-least-32-bytes-long!!"

// startTimeout bounds how long Start waits for the service to answer.
const startTimeout = 30 * time.Second

// Build returns the path of a todo-api binary: $TODO_API_BIN when set (to
// reuse one build across packages), otherwise a fresh build of ./cmd/api in a
// temporary folder of t.
func Build(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("TODO_API_BIN"); p != "" {
		return p
	}
	out := filepath.Join(t.TempDir(), "todo-api")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", out, "github.com/todo-backend/todo/cmd/api")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/api: %v\n%s", err, b)
	}
	return out
}

// Env is the environment that Start gives the service, less PORT: PATH and
// HOME from the test's environment, an in-memory store and HS256 auth with
// Secret. Nothing else leaks in from the developer's shell.
func Env() []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"DATABASE_URL=memory:",
		"BETTER_AUTH_SECRET=" + Secret,
	}
}

// Server is a todo-api process that Start runs until the test ends.
type Server struct {
	// URL is the base URL, http://127.0.0.1:PORT.
	URL  string
	logs *syncBuffer
}

// Logs returns what the process wrote to stdout and stderr so far.
func (s *Server) Logs() string { return s.logs.String() }

// Start runs `bin serve` on a free port with Env plus env (KEY=VALUE entries, which
// win over Env). The process runs in an empty folder, so no .env file is
// read. Start returns once GET /healthz
// answers 200, and stops the process (SIGINT, then SIGKILL) when the test
// ends, logging its output if the test failed.
func Start(t testing.TB, bin string, env ...string) *Server {
	t.Helper()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "serve")
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Dir = t.TempDir()
	cmd.Env = append(append(Env(), "PORT="+strconv.Itoa(port)), env...)
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), logs: &syncBuffer{}}
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", bin, err)
	}
	p := &process{exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		cancel()
		<-p.exited
		if t.Failed() {
			t.Logf("todo-api output:\n%s", s.Logs())
		}
	})

	if err := waitHealthy(s.URL, p); err != nil {
		t.Fatalf("todo-api on port %d: %v\n%s", port, err, s.Logs())
	}
	return s
}

// process is the state of a started command: exited closes when Wait
// returns, and err is then Wait's result.
type process struct {
	exited chan struct{}
	err    error
}

// waitHealthy polls GET /healthz until it answers 200. It gives up when the
// process exits or after startTimeout.
func waitHealthy(baseURL string, p *process) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		res, err := client.Get(baseURL + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("GET /healthz: status %d", res.StatusCode)
		}
		lastErr = err
		select {
		case <-p.exited:
			return fmt.Errorf("process exited before it was healthy: %v", p.err)
		case <-deadline.C:
			return fmt.Errorf("not healthy after %v: %w", startTimeout, lastErr)
		case <-tick.C:
		}
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Token returns a bearer token for userID as the FastAPI peers' frontends
// made them: HS256 signed with secret, with sub, id, email and name, valid for
// an hour.
func Token(secret, userID string) (string, error) {
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub":   userID,
		"id":    userID,
		"email": userID + "@example.com",
		"name":  userID,
		"iat":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
	})
	s, err := tok.SignedString([]byte(secret))
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s, nil
}

// syncBuffer is a bytes.Buffer that the process's output and the test can use
// at the same time.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
