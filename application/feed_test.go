package application_test

import (
	"errors"
	"testing"

	"github.com/todo-backend/todo/application"
)

// TestChangeCursor: a cursor reads back as made for its user only; another
// user's, another version's, a non-canonical spelling or garbage is
// ErrBadCursor.
func TestChangeCursor(t *testing.T) {
	for _, c := range []application.Cursor{{}, {Seq: 1}, {Seq: 1 << 40, Floor: 1<<40 + 7}, {Seq: application.MaxSeq}} {
		s := c.String("u_a")
		got, err := application.ParseCursor("u_a", s)
		if err != nil || got != c {
			t.Errorf("ParseCursor(%q) = %+v, %v, want %+v", s, got, err, c)
		}
		if _, err := application.ParseCursor("u_b", s); !errors.Is(err, application.ErrBadCursor) {
			t.Errorf("u_a's cursor %q read by u_b: %v, want ErrBadCursor", s, err)
		}
		for _, bad := range []string{s + "A", s[:len(s)-1], "x" + s[1:], "now", "", "AAAAAAAAAAA", "a+b/c=="} {
			if bad == s {
				continue
			}
			if _, err := application.ParseCursor("u_a", bad); !errors.Is(err, application.ErrBadCursor) {
				t.Errorf("ParseCursor(%q) = %v, want ErrBadCursor", bad, err)
			}
		}
	}
	if got := application.ChangeCursor("u_a", 9); got != (application.Cursor{Seq: 9}).String("u_a") {
		t.Errorf("ChangeCursor = %q", got)
	}
}
