package user_test

import (
	"testing"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/user"
)

func TestFromIdentity(t *testing.T) {
	tests := []struct {
		in   auth.Identity
		want user.User
	}{
		{
			in:   auth.Identity{UserID: "u_1", Email: "alice@example.com", Name: "Alice"},
			want: user.User{ID: "u_1", Email: "alice@example.com", Name: "Alice"},
		},
		{
			in:   auth.Identity{UserID: "u_1", Email: "Alice@Example.COM", Name: "Alice"},
			want: user.User{ID: "u_1", Email: "alice@example.com", Name: "Alice"},
		},
		{
			in:   auth.Identity{UserID: "u_1", Email: " \tALICE@example.com\n", Name: "  Alice Smith "},
			want: user.User{ID: "u_1", Email: "alice@example.com", Name: "Alice Smith"},
		},
		{
			in:   auth.Identity{UserID: "u_2"},
			want: user.User{ID: "u_2"},
		},
		{
			in:   auth.Identity{UserID: "u_3", Email: "   "},
			want: user.User{ID: "u_3"},
		},
		{
			// The id is the identity provider's and is kept exactly.
			in:   auth.Identity{UserID: "U_Mixed", Email: "ÉMILE@example.com"},
			want: user.User{ID: "U_Mixed", Email: "émile@example.com"},
		},
	}
	for _, tt := range tests {
		if got := user.FromIdentity(tt.in); got != tt.want {
			t.Errorf("FromIdentity(%+v) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}
