package task_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/todo-backend/todo/domain/task"
)

func TestVersion(t *testing.T) {
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	tk, err := task.New("u_1", "t", nil, at)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Version() != 1 {
		t.Errorf("New().Version() = %d, want 1", tk.Version())
	}
	if got := tk.WithVersion(7); got.Version() != 7 || tk.Version() != 1 {
		t.Errorf("WithVersion(7) = %d (original %d), want 7 on a copy", got.Version(), tk.Version())
	}
	for _, tt := range []struct {
		stored task.Version
		want   task.Version
		ok     bool
	}{{0, 1, true}, {1, 1, true}, {42, 42, true}, {-1, 0, false}} {
		got, err := task.Stored{ID: 1, Owner: "u_1", Title: "t", CreatedAt: at, UpdatedAt: at, Version: tt.stored}.Restore()
		if tt.ok != (err == nil) || err == nil && got.Version() != tt.want {
			t.Errorf("Stored{Version: %d}.Restore() = %v, %v, want version %d (ok %v)", tt.stored, got, err, tt.want, tt.ok)
		}
	}
}

func TestConflict(t *testing.T) {
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	tk, err := task.Stored{ID: 3, Owner: "u_1", Title: "t", CreatedAt: at, UpdatedAt: at, Version: 5}.Restore()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		expect   task.Version
		conflict bool
	}{{task.AnyVersion, false}, {5, false}, {4, true}, {6, true}, {-1, true}} {
		err := task.Conflict(tk, tt.expect)
		if (err != nil) != tt.conflict {
			t.Errorf("Conflict(version 5, expect %d) = %v, want conflict %v", tt.expect, err, tt.conflict)
			continue
		}
		if err == nil {
			continue
		}
		var ce *task.ConflictError
		if !errors.As(err, &ce) || !errors.Is(err, task.ErrVersionMismatch) || ce.Current != tk || ce.Expected != tt.expect {
			t.Errorf("Conflict(version 5, expect %d) = %#v, want a ConflictError carrying the task", tt.expect, err)
		}
	}
}

func TestUniqueIDs(t *testing.T) {
	tests := []struct {
		in, want []task.ID
	}{
		{nil, []task.ID{}},
		{[]task.ID{3, 1, 2}, []task.ID{3, 1, 2}},
		{[]task.ID{3, 1, 3, 2, 1, 3}, []task.ID{3, 1, 2}},
	}
	for _, tt := range tests {
		if got := task.UniqueIDs(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("UniqueIDs(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
