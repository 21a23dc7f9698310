package testenv

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

// APIPackage is what `go build` compiles into the binary under test.
const APIPackage = "github.com/todo-backend/todo/cmd/api"

var (
	buildMu   sync.Mutex // guards buildDir against Cleanup racing a build
	buildDir  string     // temporary directory holding the binary; removed by Cleanup
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// APIBinary returns the path of the todo-api binary, building it on first use
// and reusing it for every later test of this process. It is built as `make
// build` does: with CGO_ENABLED=0 (SQLite is pure Go) and without the race
// detector, so the suites measure the service, not the detector. A TestMain
// must call Cleanup after m.Run to remove it.
func APIBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "todo-test-")
		if err != nil {
			buildErr = fmt.Errorf("make build dir: %w", err)
			return
		}
		buildMu.Lock()
		buildDir = dir
		buildMu.Unlock()
		out := filepath.Join(dir, "todo-api")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		// go test puts its own GOROOT/bin first on PATH, so this is the
		// toolchain that builds the test itself.
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, APIPackage)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		var log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log
		if err := cmd.Run(); err != nil {
			buildErr = fmt.Errorf("go build %s: %w\n%s", APIPackage, err, log.String())
			return
		}
		binPath = out
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Cleanup removes the binary APIBinary built, if any. TestMain calls it
// after m.Run, when no test can use the binary any more.
func Cleanup() {
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir != "" {
		os.RemoveAll(buildDir)
		buildDir = ""
	}
}
