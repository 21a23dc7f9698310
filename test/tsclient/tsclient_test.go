package tsclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/todo-backend/todo/internal/testenv"
	"github.com/todo-backend/todo/test/browser/apibin"
)

// TestTypeScriptClient generates generated/schema.d.ts from the binary's
// document and type-checks client.ts against it.
func TestTypeScriptClient(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Node tools; skipped with -short")
	}
	npm := findNPM(t)
	installTools(t, npm)

	doc := openAPIDocument(t, apibin.Build(t))
	if err := os.MkdirAll("generated", 0o755); err != nil {
		t.Fatal(err)
	}
	docPath := filepath.Join("generated", "openapi.json")
	if err := os.WriteFile(docPath, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, filepath.Join("node_modules", ".bin", "openapi-typescript"), docPath, "-o", filepath.Join("generated", "schema.d.ts"))
	run(t, filepath.Join("node_modules", ".bin", "tsc"), "--noEmit", "-p", ".")
}

// findNPM returns the path of npm, or skips the test (fails it on CI) when
// Node.js is not installed.
func findNPM(t *testing.T) string {
	t.Helper()
	npm, err := exec.LookPath("npm")
	if err == nil {
		if _, err = exec.LookPath("node"); err == nil {
			return npm
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("Node.js is not installed (%v); CI must install nodejs and npm", err)
	}
	t.Skipf("Node.js is not installed (%v); install nodejs and npm to run this test", err)
	return ""
}

// installTools runs npm ci when node_modules is missing or older than
// package-lock.json, so a version bump in the lock file takes effect.
func installTools(t *testing.T, npm string) {
	t.Helper()
	lock, err := os.Stat("package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	installed, err := os.Stat(filepath.Join("node_modules", ".package-lock.json"))
	if err == nil && !installed.ModTime().Before(lock.ModTime()) {
		return
	}
	run(t, npm, "ci", "--no-audit", "--no-fund")
}

// openAPIDocument gets the document from the binary: `todo-api openapi`
// prints it, and when the binary has no such subcommand the test runs the
// service and GETs /openapi.json.
func openAPIDocument(t *testing.T, bin string) []byte {
	t.Helper()
	doc, err := printedDocument(t, bin)
	if err == nil {
		t.Logf("document from %s openapi", filepath.Base(bin))
		return doc
	}
	t.Logf("%s openapi: %v; getting /openapi.json from the running service instead", filepath.Base(bin), err)
	srv := apibin.Start(t, bin)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/openapi.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /openapi.json: %v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET /openapi.json: read: %v", err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /openapi.json: status %d: %s", res.StatusCode, body)
	}
	if err := checkDocument(body); err != nil {
		t.Fatalf("GET /openapi.json: %v", err)
	}
	return body
}

// printedDocument runs `bin openapi`. A binary without the subcommand may
// start serving instead, so it runs on a free port and is stopped after a
// few seconds; the caller then falls back to the served document.
func printedDocument(t *testing.T, bin string) ([]byte, error) {
	port := testenv.FreePort(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "openapi")
	cmd.Dir = t.TempDir()
	cmd.Env = append(apibin.Env(), "PORT="+strconv.Itoa(port))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
	}
	if err := checkDocument(out); err != nil {
		return nil, err
	}
	return out, nil
}

// checkDocument tells an OpenAPI 3.1 document from anything else a binary
// may print (logs, usage).
func checkDocument(b []byte) error {
	var doc struct {
		OpenAPI string          `json:"openapi"`
		Paths   json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("not a JSON document: %w", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") || len(doc.Paths) == 0 {
		return fmt.Errorf("openapi = %q with %d bytes of paths, want an OpenAPI 3.1 document", doc.OpenAPI, len(doc.Paths))
	}
	return nil
}

// run runs a command in the package folder and fails the test with its
// output when it fails.
func run(t *testing.T, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	t.Logf("%s %s:\n%s", filepath.Base(name), strings.Join(args, " "), out)
}
