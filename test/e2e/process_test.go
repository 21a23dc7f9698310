package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// startTimeout bounds how long a process may take to answer its first request.
	startTimeout = 15 * time.Second
	// stopTimeout bounds how long a process may take to exit after SIGTERM.
	stopTimeout = 10 * time.Second
)

// lockedBuffer collects a process's output; the exec package writes it from
// its own goroutines while the test reads it.
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

// process is a child process the test started; it is stopped at the end of
// the test that started it.
type process struct {
	name   string
	cmd    *exec.Cmd
	stdout *lockedBuffer
	stderr *lockedBuffer
	done   chan struct{} // closed when Wait returned
	err    error         // Wait's result, valid after done is closed
}

// startProcess runs name with args in dir, with exactly env as environment
// (nothing is inherited, so a developer's DATABASE_URL or BETTER_AUTH_* cannot
// leak in). The process gets SIGTERM at cleanup, then SIGKILL if it lingers.
func startProcess(t *testing.T, label, dir string, env []string, name string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	p := &process{name: label, cmd: cmd, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", label, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if _, err := p.terminate(); err != nil {
			t.Log(err)
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", label, p.output())
		}
	})
	return p
}

// output is everything the process wrote, stdout then stderr.
func (p *process) output() string {
	return fmt.Sprintf("--- stdout ---\n%s--- stderr ---\n%s", p.stdout.String(), p.stderr.String())
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// terminate sends SIGTERM and waits up to stopTimeout for the exit. It returns
// the exit code, or an error when the process had to be killed.
func (p *process) terminate() (int, error) { return p.signal(syscall.SIGTERM) }

// signal is terminate with another signal.
func (p *process) signal(sig os.Signal) (int, error) {
	if !p.exited() {
		if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
			p.cmd.Process.Kill()
			<-p.done
			return -1, fmt.Errorf("signal %s: %w; killed", p.name, err)
		}
	}
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		p.cmd.Process.Kill()
		<-p.done
		return -1, fmt.Errorf("%s still running %v after %v; killed", p.name, stopTimeout, sig)
	}
	return exitCode(p.err), nil
}

// wait waits up to timeout for the process to end by itself and returns its
// exit code; it kills the process and fails the test if it does not end.
func (p *process) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return exitCode(p.err)
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("%s still running after %v; killed\n%s", p.name, timeout, p.output())
		return -1
	}
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		return ee.ExitCode()
	}
	return -1
}

var (
	portsMu sync.Mutex
	ports   = map[int]bool{} // every port freePort handed out in this run
)

// freePort asks the kernel for a free loopback port that this test run has
// not handed out before: the port is closed again until a child binds it,
// and the kernel would happily give it to a parallel test meanwhile. Another
// program could still take it in that window; on loopback in a test run that
// is rare enough to accept.
func freePort(t *testing.T) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("find free port: %v", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if !ports[port] {
			ports[port] = true
			return port
		}
	}
	t.Fatal("find free port: the kernel keeps handing out ports already used")
	return 0
}

// waitHTTP polls url until it answers want, the process exits, or startTimeout
// passes; it fails the test with the process's output otherwise.
func waitHTTP(t *testing.T, p *process, url string, want int) {
	t.Helper()
	waitHTTPWithin(t, p, url, want, startTimeout)
}

// waitHTTPWithin is waitHTTP with another bound than startTimeout.
func waitHTTPWithin(t *testing.T, p *process, url string, want int, timeout time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	last := "no answer"
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			t.Fatalf("build request: %v", err)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return
			}
			last = "status " + strconv.Itoa(resp.StatusCode)
		} else {
			last = err.Error()
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited (code %d) before GET %s answered %d\n%s", p.name, exitCode(p.err), url, want, p.output())
		case <-ctx.Done():
			t.Fatalf("GET %s did not answer %d within %v (last: %s)\n%s", url, want, timeout, last, p.output())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// baseEnv is the environment every child gets: enough to find programs and a
// home, and nothing that configures the service.
func baseEnv(t *testing.T) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + os.TempDir()}
}

// api is a running todo-api serve process.
type api struct {
	*process
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
	bin := apiBinary(t)
	port := freePort(t)
	full := append(baseEnv(t), "PORT="+strconv.Itoa(port))
	full = append(full, env...)
	p := startProcess(t, "todo-api", t.TempDir(), full, bin, args...)
	a := &api{process: p, URL: fmt.Sprintf("http://127.0.0.1:%d", port)}
	waitHTTP(t, p, a.URL+"/healthz", http.StatusOK)
	return a
}

// runAPI runs a todo-api subcommand to completion with env and returns its
// stdout, stderr and exit code.
func runAPI(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	full := append(baseEnv(t), env...)
	p := startProcess(t, "todo-api "+args[0], t.TempDir(), full, apiBinary(t), args...)
	code = p.wait(t, startTimeout)
	return p.stdout.String(), p.stderr.String(), code
}
