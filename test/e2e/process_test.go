package e2e

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/todo-backend/todo/internal/testenv"
)

const (
	// startTimeout bounds how long a process may take to answer its first request.
	startTimeout = 15 * time.Second
	// stopTimeout bounds how long a process may take to exit after SIGTERM.
	stopTimeout = 10 * time.Second
)

// startProcess runs name with args in dir, with exactly env as environment;
// see testenv.Start.
func startProcess(t *testing.T, label, dir string, env []string, name string, args ...string) *testenv.Process {
	t.Helper()
	return testenv.Start(t, testenv.Spec{Label: label, Dir: dir, Env: env, Path: name, Args: args, StopTimeout: stopTimeout})
}

// api is a running todo-api serve process.
type api struct {
	*testenv.Process
	URL string // http://127.0.0.1:PORT, no trailing slash
}

// startAPI starts `todo-api serve` with PORT, env and nothing else, in an
// empty directory (so no .env file is read), and waits for /healthz.
func startAPI(t *testing.T, env ...string) *api {
	t.Helper()
	return startAPIArgs(t, []string{"serve"}, env...)
}

// startAPIArgs is startAPI with the command-line arguments given.
func startAPIArgs(t *testing.T, args []string, env ...string) *api {
	t.Helper()
	bin := testenv.APIBinary(t)
	port := testenv.FreePort(t)
	full := append(testenv.BaseEnv(t), "PORT="+strconv.Itoa(port))
	full = append(full, env...)
	p := startProcess(t, "todo-api", t.TempDir(), full, bin, args...)
	a := &api{Process: p, URL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	testenv.WaitHTTP(t, p, a.URL+"/healthz", http.StatusOK, startTimeout)
	return a
}

// runAPI runs a todo-api subcommand to completion with env and returns its
// stdout, stderr and exit code.
func runAPI(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	full := append(testenv.BaseEnv(t), env...)
	p := startProcess(t, "todo-api "+args[0], t.TempDir(), full, testenv.APIBinary(t), args...)
	code = p.Wait(t, startTimeout)
	return p.Stdout(), p.Stderr(), code
}
