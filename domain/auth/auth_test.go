package auth_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/todo-backend/todo/domain/auth"
)

func TestUnauthenticated(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{name: "as returned", err: auth.Unauthenticated("token expired")},
		{name: "wrapped", err: fmt.Errorf("verify: %w", auth.Unauthenticated("token expired"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				target error
				want   bool
			}{
				{auth.ErrUnauthenticated, true},
				{auth.ErrForbidden, false},
				{auth.ErrUnavailable, false},
			} {
				if got := errors.Is(tt.err, c.target); got != c.want {
					t.Errorf("errors.Is(%v, %v) = %v, want %v", tt.err, c.target, got, c.want)
				}
			}
			var re *auth.ReasonError
			if !errors.As(tt.err, &re) {
				t.Fatalf("errors.As(%v, *auth.ReasonError) = false, want true", tt.err)
			}
			if re.Reason != "token expired" {
				t.Errorf("Unauthenticated(%q).Reason = %q, want %q", "token expired", re.Reason, "token expired")
			}
			if msg := tt.err.Error(); !strings.Contains(msg, "token expired") || !strings.Contains(msg, auth.ErrUnauthenticated.Error()) {
				t.Errorf("Unauthenticated(%q).Error() = %q, want the reason and %q", "token expired", msg, auth.ErrUnauthenticated)
			}
		})
	}
}

func TestSentinelsAreDistinct(t *testing.T) {
	errs := []error{auth.ErrUnauthenticated, auth.ErrForbidden, auth.ErrUnavailable}
	for i, a := range errs {
		for j, b := range errs {
			if got, want := errors.Is(a, b), i == j; got != want {
				t.Errorf("errors.Is(%v, %v) = %v, want %v", a, b, got, want)
			}
		}
	}
}
