package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/todo-backend/todo/internal/testenv"
)

// TestStartup starts the binary on each storage kind, uses it, stops it with
// SIGTERM and, for the stores that outlive the process, starts it again on
// the same data and stops it with SIGINT.
func TestStartup(t *testing.T) {
	skipShort(t)
	t.Parallel()
	for _, kind := range storageKinds {
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			dbURL := kind.url(t)
			env := []string{"DATABASE_URL=" + dbURL, "BETTER_AUTH_SECRET=" + testSecret}
			u := newHS256User(t)

			// memory: runs the bare binary, which must serve by default.
			args := []string{"serve"}
			if kind.name == "memory" {
				args = nil
			}
			a := startAPIArgs(t, args, env...)
			testenv.WaitHTTP(t, a.Process, a.URL+"/readyz", http.StatusOK, startTimeout)
			c := newClient(a.URL)
			created := c.create(t, u, "survives a restart")
			if got := c.list(t, u, ""); len(got) != 1 || got[0] != created {
				t.Errorf("list = %+v, want [%+v]", got, created)
			}
			stopCleanly(t, a, syscall.SIGTERM)
			checkJSONLogs(t, a.Process)

			if kind.name == "memory" {
				return
			}
			b := startAPI(t, env...)
			testenv.WaitHTTP(t, b.Process, b.URL+"/readyz", http.StatusOK, startTimeout)
			c = newClient(b.URL)
			if got := c.list(t, u, ""); len(got) != 1 || got[0] != created {
				t.Errorf("list after restart = %+v, want [%+v]", got, created)
			}
			if next := c.create(t, u, "after restart"); next.ID <= created.ID {
				t.Errorf("id after restart = %d, want > %d", next.ID, created.ID)
			}
			stopCleanly(t, b, syscall.SIGINT)
		})
	}
}

// stopCleanly sends sig and expects exit code 0 within stopTimeout.
func stopCleanly(t *testing.T, a *api, sig os.Signal) {
	t.Helper()
	code, err := a.Signal(sig)
	if err != nil {
		t.Errorf("%v: %v", sig, err)
		return
	}
	if code != 0 {
		t.Errorf("exit code after %v = %d, want 0", sig, code)
	}
}

// checkJSONLogs expects the process's stdout to be JSON lines, at least one.
func checkJSONLogs(t *testing.T, p *testenv.Process) {
	t.Helper()
	lines := 0
	for line := range strings.Lines(p.Stdout()) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		lines++
		var obj map[string]any
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			t.Errorf("stdout line is not a JSON object: %q", line)
			return
		}
	}
	if lines == 0 {
		t.Errorf("no log lines on stdout")
	}
}

// TestRefusesToStartWithoutAuth checks that the binary will not serve
// unauthenticated-by-mistake: with no auth variable it exits non-zero and
// names the variables to set.
func TestRefusesToStartWithoutAuth(t *testing.T) {
	skipShort(t)
	t.Parallel()
	port := testenv.FreePort(t)
	env := append(testenv.BaseEnv(t), "PORT="+strconv.Itoa(port), "DATABASE_URL=memory:")
	p := startProcess(t, "todo-api serve", t.TempDir(), env, testenv.APIBinary(t), "serve")
	code := p.Wait(t, startTimeout)
	if code == 0 {
		t.Errorf("exit code without auth configuration = 0, want non-zero\n%s", p.Output())
	}
	out := p.Stdout() + p.Stderr()
	for _, name := range []string{"BETTER_AUTH_URL", "BETTER_AUTH_SECRET"} {
		if !strings.Contains(out, name) {
			t.Errorf("output does not name %s:\n%s", name, p.Output())
		}
	}
}

// TestMigrateCommand runs `todo-api migrate` on the stores that keep a schema.
func TestMigrateCommand(t *testing.T) {
	skipShort(t)
	t.Parallel()
	for _, kind := range storageKinds {
		if kind.name == "memory" {
			continue
		}
		t.Run(kind.name, func(t *testing.T) {
			t.Parallel()
			env := []string{"DATABASE_URL=" + kind.url(t)}
			for _, step := range []string{"status", "up", "status", "up", "down", "status", "up"} {
				out, errOut, code := runAPI(t, env, "migrate", step)
				if code != 0 {
					t.Fatalf("todo-api migrate %s: exit %d\nstdout:\n%s\nstderr:\n%s", step, code, out, errOut)
				}
			}
			a := startAPI(t, append(env, "BETTER_AUTH_SECRET="+testSecret)...)
			testenv.WaitHTTP(t, a.Process, a.URL+"/readyz", http.StatusOK, startTimeout)
			newClient(a.URL).create(t, newHS256User(t), "after migrate")
		})
	}
}
