package tsclient

import (
	"testing"

	"github.com/todo-backend/todo/internal/testenv"
)

// TestMain removes the binary testenv built for the package's tests.
func TestMain(m *testing.M) {
	defer testenv.Cleanup()
	m.Run()
}
