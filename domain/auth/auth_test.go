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

func TestIdentityValidate(t *testing.T) {
	ok := auth.Identity{UserID: "u_1234567890abcdef1234567890abcd", Email: "ada@example.com", Name: "Ada Lovelace"}
	with := func(edit func(*auth.Identity)) auth.Identity {
		id := ok
		edit(&id)
		return id
	}
	tests := []struct {
		name string
		id   auth.Identity
		want string // reason, "" for valid
	}{
		{"Better Auth shaped", ok, ""},
		{"no email, no name", auth.Identity{UserID: "u1"}, ""},
		{"UUID id", with(func(id *auth.Identity) { id.UserID = "0b7e6a4c-7f43-4c4b-9d0e-1c1f3f0f9c2a" }), ""},
		{"id at the bound", with(func(id *auth.Identity) { id.UserID = auth.UserID(strings.Repeat("a", auth.MaxUserIDBytes)) }), ""},
		{"non-ASCII email and name", with(func(id *auth.Identity) { id.Email, id.Name = "émile@exemple.fr", "Émile Zoë 李小龍 🙂" }), ""},
		{"email at the bound", with(func(id *auth.Identity) {
			id.Email = strings.Repeat("a", 64) + "@" + strings.Repeat("b", auth.MaxEmailBytes-65)
		}), ""},
		{"name at the bound", with(func(id *auth.Identity) { id.Name = strings.Repeat("é", auth.MaxNameRunes) }), ""},
		{"U+FFFD in a name", with(func(id *auth.Identity) { id.Name = "A\uFFFDa" }), ""},

		{"no id", with(func(id *auth.Identity) { id.UserID = "" }), "missing subject"},
		{"NUL in id", with(func(id *auth.Identity) { id.UserID = "u\x001" }), "invalid subject"},
		{"newline in id", with(func(id *auth.Identity) { id.UserID = "u1\n" }), "invalid subject"},
		{"C1 control in id", with(func(id *auth.Identity) { id.UserID = "u\u00851" }), "invalid subject"},
		{"DEL in id", with(func(id *auth.Identity) { id.UserID = "u\x7f1" }), "invalid subject"},
		{"U+FFFD in id", with(func(id *auth.Identity) { id.UserID = "u\uFFFD" }), "invalid subject"},
		{"invalid UTF-8 in id", with(func(id *auth.Identity) { id.UserID = "u\xff1" }), "invalid subject"},
		{"id over the bound", with(func(id *auth.Identity) { id.UserID = auth.UserID(strings.Repeat("a", auth.MaxUserIDBytes+1)) }), "invalid subject"},
		{"id of 2,800 characters", with(func(id *auth.Identity) { id.UserID = auth.UserID(strings.Repeat("a", 2800)) }), "invalid subject"},
		{"NUL in email", with(func(id *auth.Identity) { id.Email = "ada\x00@example.com" }), "invalid email"},
		{"tab in email", with(func(id *auth.Identity) { id.Email = "ada\t@example.com" }), "invalid email"},
		{"U+FFFD in email", with(func(id *auth.Identity) { id.Email = "ada\uFFFD@example.com" }), "invalid email"},
		{"invalid UTF-8 in email", with(func(id *auth.Identity) { id.Email = "ada\xc3@example.com" }), "invalid email"},
		{"email over the bound", with(func(id *auth.Identity) {
			id.Email = strings.Repeat("a", 64) + "@" + strings.Repeat("b", auth.MaxEmailBytes-64)
		}), "invalid email"},
		{"NUL in name", with(func(id *auth.Identity) { id.Name = "Ada\x00" }), "invalid name"},
		{"newline in name", with(func(id *auth.Identity) { id.Name = "Ada\nLovelace" }), "invalid name"},
		{"invalid UTF-8 in name", with(func(id *auth.Identity) { id.Name = "Ad\xe9" }), "invalid name"},
		{"name over the bound", with(func(id *auth.Identity) { id.Name = strings.Repeat("é", auth.MaxNameRunes+1) }), "invalid name"},
	}
	for _, tt := range tests {
		err := tt.id.Validate()
		var re *auth.ReasonError
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: Validate() = %v, want nil", tt.name, err)
		case tt.want == "":
		case !errors.Is(err, auth.ErrUnauthenticated) || !errors.As(err, &re):
			t.Errorf("%s: Validate() = %v, want ErrUnauthenticated with reason %q", tt.name, err, tt.want)
		case re.Reason != tt.want:
			t.Errorf("%s: Validate() reason = %q, want %q", tt.name, re.Reason, tt.want)
		}
	}
}
