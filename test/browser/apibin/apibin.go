// Package apibin runs the todo-api binary on a free port for tests that
// drive the service from outside, as a browser or the frontend's tools do:
// an in-memory store and HS256 tokens, on internal/testenv's build and
// process handling. A package using it calls testenv.Cleanup from its
// TestMain.
package apibin

import (
	"fmt"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/todo-backend/todo/internal/testenv"
)

// Secret is the HS256 secret that Start gives the service.
const Secret = "test-secret-at-least-32-bytes-long!!"

// startTimeout bounds how long Start waits for the service to answer.
const startTimeout = 30 * time.Second

// Build returns the path of a todo-api binary: $TODO_API_BIN when set (to
// reuse one build across packages), otherwise testenv's build, shared by
// the package's tests.
func Build(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("TODO_API_BIN"); p != "" {
		return p
	}
	return testenv.APIBinary(t)
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
	URL string
	p   *testenv.Process
}

// Logs returns what the process wrote to stdout and stderr so far.
func (s *Server) Logs() string { return s.p.Output() }

// Start runs `bin serve` on a free port with Env plus env (KEY=VALUE
// entries, which win over Env), in an empty folder, so no .env file is
// read. It returns once GET /healthz answers 200; the process is stopped
// when the test ends, and its output logged if the test failed.
func Start(t testing.TB, bin string, env ...string) *Server {
	t.Helper()
	port := strconv.Itoa(testenv.FreePort(t))
	p := testenv.Start(t, testenv.Spec{
		Label: "todo-api",
		Env:   append(append(Env(), "PORT="+port), env...),
		Path:  bin,
		Args:  []string{"serve"},
	})
	s := &Server{URL: "http://127.0.0.1:" + port, p: p}
	testenv.WaitHTTP(t, p, s.URL+"/healthz", http.StatusOK, startTimeout)
	return s
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
