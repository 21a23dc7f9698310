package testenv

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

// DefaultStopTimeout is how long a process may take to exit after a signal
// when Spec.StopTimeout is zero.
const DefaultStopTimeout = 10 * time.Second

// Buffer collects a process's output; the exec package writes it from its
// own goroutines while the test reads it. The zero value is ready to use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p; it never fails.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Spec describes a child process for Start.
type Spec struct {
	Label string   // names the process in messages
	Dir   string   // working directory; empty means a fresh t.TempDir()
	Env   []string // exactly the environment: nothing is inherited
	Path  string   // the program
	Args  []string
	// StopTimeout bounds how long the process may take to exit after a
	// signal before it is killed; zero means DefaultStopTimeout.
	StopTimeout time.Duration
	// LogTail, when positive, limits the stdout logged for a failed test
	// to its last LogTail bytes.
	LogTail int
}

// Process is a child process a test started; it is stopped at the end of
// the test that started it.
type Process struct {
	name    string
	stop    time.Duration
	cmd     *exec.Cmd
	stdout  *Buffer
	stderr  *Buffer
	done    chan struct{} // closed when Wait returned
	err     error         // Wait's result, valid after done is closed
	logTail int
}

// BaseEnv is an environment for a child: enough to find programs and a home,
// and nothing that configures the service.
func BaseEnv(t testing.TB) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + os.TempDir()}
}

// Start runs s with exactly s.Env as environment, so a developer's
// DATABASE_URL or BETTER_AUTH_* cannot leak in. At cleanup the process gets
// SIGTERM, then SIGKILL if it lingers, and a failed test logs its output.
func Start(t testing.TB, s Spec) *Process {
	t.Helper()
	cmd := exec.Command(s.Path, s.Args...)
	cmd.Dir = s.Dir
	if cmd.Dir == "" {
		cmd.Dir = t.TempDir()
	}
	cmd.Env = s.Env
	if cmd.Env == nil {
		cmd.Env = []string{} // nil would inherit the test's environment
	}
	stop := s.StopTimeout
	if stop <= 0 {
		stop = DefaultStopTimeout
	}
	p := &Process{name: s.Label, stop: stop, cmd: cmd, stdout: &Buffer{}, stderr: &Buffer{},
		done: make(chan struct{}), logTail: s.LogTail}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", s.Label, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		if _, err := p.Terminate(); err != nil {
			t.Log(err)
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", p.name, p.failureOutput())
		}
	})
	return p
}

// Name is the label the process was started with.
func (p *Process) Name() string { return p.name }

// PID is the process's id, to read its figures in /proc.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Stdout is everything the process wrote to stdout so far.
func (p *Process) Stdout() string { return p.stdout.String() }

// Stderr is everything the process wrote to stderr so far.
func (p *Process) Stderr() string { return p.stderr.String() }

// Output is everything the process wrote, stdout then stderr.
func (p *Process) Output() string {
	return fmt.Sprintf("--- stdout ---\n%s--- stderr ---\n%s", p.Stdout(), p.Stderr())
}

func (p *Process) failureOutput() string {
	out := p.Stdout()
	if p.logTail > 0 && len(out) > p.logTail {
		out = "..." + out[len(out)-p.logTail:]
	}
	return fmt.Sprintf("--- stdout ---\n%s--- stderr ---\n%s", out, p.Stderr())
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Send delivers sig to the process without waiting for it to exit.
func (p *Process) Send(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Terminate sends SIGTERM and waits up to the stop timeout for the exit. It
// returns the exit code, or an error when the process had to be killed.
func (p *Process) Terminate() (int, error) { return p.Signal(syscall.SIGTERM) }

// Signal is Terminate with another signal.
func (p *Process) Signal(sig os.Signal) (int, error) {
	if !p.Exited() {
		if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
			p.cmd.Process.Kill()
			<-p.done
			return -1, fmt.Errorf("signal %s: %w; killed", p.name, err)
		}
	}
	select {
	case <-p.done:
	case <-time.After(p.stop):
		p.cmd.Process.Kill()
		<-p.done
		return -1, fmt.Errorf("%s still running %v after %v; killed", p.name, p.stop, sig)
	}
	return exitCode(p.err), nil
}

// Wait waits up to timeout for the process to end by itself and returns its
// exit code; it kills the process and fails the test if it does not end.
func (p *Process) Wait(t testing.TB, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return exitCode(p.err)
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("%s still running after %v; killed\n%s", p.name, timeout, p.Output())
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
	ports   = map[int]bool{} // every port FreePort handed out in this process
)

// FreePort asks the kernel for a free loopback port that this test process
// has not handed out before: the port is closed again until a child binds
// it, and the kernel would happily give it to a parallel test meanwhile.
// Another program could still take it in that window; on loopback in a test
// run that is rare enough to accept.
func FreePort(t testing.TB) int {
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

// WaitHTTP polls GET url until it answers want, p exits, or timeout passes;
// it fails the test with p's output in the last two cases. Each poll waits
// up to 5 s: /readyz takes up to its 2 s budget to say 503 when the
// database does not answer, and a poll that gave up at the same 2 s would
// race it (TestDatabaseOutage failed so, its 503s arriving at 1.98-2.00 s).
func WaitHTTP(t testing.TB, p *Process, url string, want int, timeout time.Duration) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
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
			t.Fatalf("%s exited (code %d) before GET %s answered %d (last: %s)\n%s", p.name, exitCode(p.err), url, want, last, p.Output())
		case <-ctx.Done():
			t.Fatalf("GET %s did not answer %d within %v (last: %s)\n%s", url, want, timeout, last, p.Output())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
