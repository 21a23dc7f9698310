package testenv

import (
	"fmt"
	"os"
	"testing"
)

// OnCI reports whether the tests run on CI (CI=true or CI=1), where missing
// dependencies (PostgreSQL, Node, tools) fail the run instead of skipping
// tests.
func OnCI() bool {
	v := os.Getenv("CI")
	return v == "true" || v == "1"
}

// Unavailable fails the test on CI and skips it elsewhere; the message should
// say how to provide what is missing.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if OnCI() {
		t.Fatalf("CI=true and %s", msg)
	}
	t.Skip(msg)
}
