package e2e

import (
	"testing"

	"github.com/todo-backend/todo/internal/testenv"
)

func TestMain(m *testing.M) {
	defer testenv.Cleanup()
	m.Run()
}

// skipShort skips end-to-end tests under -short (`make test-short`): they
// build the binary and start servers.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: skipped with -short")
	}
}
