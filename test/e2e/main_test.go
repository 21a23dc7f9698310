package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// apiPackage is what `go build` compiles into the binary under test.
const apiPackage = "github.com/todo-backend/todo/cmd/api"

var (
	buildDir  string // temporary directory holding the binary; removed by TestMain
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	defer func() {
		if buildDir != "" {
			os.RemoveAll(buildDir)
		}
	}()
	m.Run()
}

// apiBinary returns the path of the todo-api binary, building it on first use
// and reusing it for every later test of this run.
func apiBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "todo-e2e-")
		if err != nil {
			buildErr = fmt.Errorf("make build dir: %w", err)
			return
		}
		buildDir = dir
		out := filepath.Join(dir, "todo-api")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		// go test puts its own GOROOT/bin first on PATH, so this is the
		// toolchain that builds the test itself.
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, apiPackage)
		// As `make build` does: the binary must work without cgo (SQLite
		// is pure Go).
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		var log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log
		if err := cmd.Run(); err != nil {
			buildErr = fmt.Errorf("go build %s: %w\n%s", apiPackage, err, log.String())
			return
		}
		binPath = out
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// skipShort skips end-to-end tests under -short (`make test-short`): they
// build the binary and start servers.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
}

// onCI reports whether the tests run on CI, where missing dependencies
// (PostgreSQL, Node) fail the run instead of skipping tests.
func onCI() bool {
	v := os.Getenv("CI")
	return v == "true" || v == "1"
}

// unavailable fails the test on CI and skips it elsewhere, saying how to
// provide what is missing.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if onCI() {
		t.Fatalf("CI=true and %s", msg)
	}
	t.Skip(msg)
}
