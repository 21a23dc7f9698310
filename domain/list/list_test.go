package list_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/todo-backend/todo/domain/check"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/position"
)

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 123456000, time.UTC)

func ptr[T any](v T) *T { return &v }

func fields(t *testing.T, err error) []string {
	t.Helper()
	var ve *check.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *check.ValidationError", err, err)
	}
	var out []string
	for _, p := range ve.Problems {
		out = append(out, p.Field)
	}
	return out
}

func TestNewAndEdit(t *testing.T) {
	l, err := list.New("u_1", "  Groceries ", ptr("#A0b1C2"), t0.Add(time.Nanosecond))
	if err != nil {
		t.Fatal(err)
	}
	if l.Name() != "Groceries" || *l.Color() != "#a0b1c2" || l.Version() != 1 || !l.CreatedAt().Equal(t0) || l.Position() != "" {
		t.Errorf("New = %q %q v%d %v %q", l.Name(), *l.Color(), l.Version(), l.CreatedAt(), l.Position())
	}
	if l.WithID(7).Position() != position.Implicit(7) {
		t.Errorf("a stored list never moved has the implicit key")
	}
	if l.NameKey() != "groceries" || list.NameKey(" GROCERIES") != "groceries" {
		t.Errorf("NameKey folds case and trims")
	}
	for name, tc := range map[string]struct {
		name  string
		color *string
		want  []string
	}{
		"empty":         {"   ", nil, []string{"name"}},
		"too long":      {strings.Repeat("é", list.MaxNameLen+1), nil, []string{"name"}},
		"NUL":           {"a\x00b", nil, []string{"name"}},
		"bad UTF-8":     {"a\xffb", nil, []string{"name"}},
		"short color":   {"ok", ptr("#fff"), []string{"color"}},
		"named color":   {"ok", ptr("red"), []string{"color"}},
		"not hex":       {"ok", ptr("#gggggg"), []string{"color"}},
		"both":          {"", ptr("#12345"), []string{"name", "color"}},
		"at the limits": {strings.Repeat("é", list.MaxNameLen), ptr("#FFFFFF"), nil},
	} {
		_, err := list.New("u_1", tc.name, tc.color, t0)
		if tc.want == nil {
			if err != nil {
				t.Errorf("New(%s) = %v", name, err)
			}
			continue
		}
		if got := fields(t, err); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("New(%s) problems on %v, want %v", name, got, tc.want)
		}
		// Edit keeps the same rules and changes nothing when it refuses.
		if err := l.Edit(tc.name, tc.color, t0.Add(time.Hour)); err == nil || l.Name() != "Groceries" {
			t.Errorf("Edit(%s) = %v, name now %q", name, err, l.Name())
		}
	}
	if err := l.Edit("Food", nil, t0); err != nil || l.Name() != "Food" || l.Color() != nil || !l.UpdatedAt().After(t0) {
		t.Errorf("Edit(Food, no color) = %v: %q %v %v", err, l.Name(), l.Color(), l.UpdatedAt())
	}
	before := l.UpdatedAt()
	l.MoveTo("V", t0)
	if l.Position() != "V" || !l.UpdatedAt().After(before) {
		t.Errorf("MoveTo(V): %q %v", l.Position(), l.UpdatedAt())
	}
	if _, err := list.New(" ", "x", nil, t0); err == nil {
		t.Errorf("New(no owner) = nil error")
	}
}

func TestStoredRoundTrip(t *testing.T) {
	for _, key := range []string{"", "V"} {
		l, err := list.Stored{ID: 3, Owner: "u_1", Name: "Work", Color: ptr("#00ff00"), Position: key, Version: 4,
			CreatedAt: t0, UpdatedAt: t0}.Restore()
		if err != nil {
			t.Fatal(err)
		}
		back, err := l.Stored().Restore()
		if err != nil || !reflect.DeepEqual(back, l) {
			t.Errorf("Stored().Restore() = %+v, %v; want %+v", back, err, l)
		}
	}
	implicit, err := list.Stored{ID: 3, Owner: "u_1", Name: "W", Position: position.Implicit(3), CreatedAt: t0, UpdatedAt: t0}.Restore()
	if err != nil || implicit.Stored().Position != "" {
		t.Errorf("a list at its implicit key is stored as never moved: %v", err)
	}
	for name, s := range map[string]list.Stored{
		"no id":       {Owner: "u", Name: "n"},
		"bad key":     {ID: 1, Owner: "u", Name: "n", Position: "V0"},
		"bad version": {ID: 1, Owner: "u", Name: "n", Version: -1},
		"bad color":   {ID: 1, Owner: "u", Name: "n", Color: ptr("blue")},
	} {
		if _, err := s.Restore(); err == nil {
			t.Errorf("Restore(%s) = nil error", name)
		}
	}
}

func TestConflictAndAnchor(t *testing.T) {
	l, _ := list.Stored{ID: 1, Owner: "u", Name: "n", Version: 3, CreatedAt: t0, UpdatedAt: t0}.Restore()
	s := list.Summary{List: l}
	if list.Conflict(s, list.AnyVersion) != nil || list.Conflict(s, 3) != nil {
		t.Errorf("Conflict at the same version or any")
	}
	if err := list.Conflict(s, 2); !errors.Is(err, list.ErrVersionMismatch) {
		t.Errorf("Conflict(2) = %v, want ErrVersionMismatch", err)
	}
	for name, a := range map[string]list.Anchor{
		"both":     {After: ptr(list.ID(1)), Before: ptr(list.ID(2))},
		"zero":     {After: ptr(list.ID(0))},
		"negative": {Before: ptr(list.ID(-3))},
	} {
		if a.Check() == nil {
			t.Errorf("Anchor(%s).Check() = nil", name)
		}
	}
	if (list.Anchor{}).Check() != nil || (list.Anchor{After: ptr(list.ID(1))}).Check() != nil {
		t.Errorf("Check refused a good anchor")
	}
}
