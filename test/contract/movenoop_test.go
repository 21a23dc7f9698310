package contract

import (
	"context"
	"testing"

	"github.com/todo-backend/todo/domain/task"
)

// TestMoveEditNoChange: a move with an edit (a PATCH that names the list
// its task is in) that changes nothing writes nothing, on every store, as
// any write that changes nothing: same version, same updated_at. One that
// changes something writes once.
func TestMoveEditNoChange(t *testing.T) {
	t.Parallel()
	for name, open := range treeStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tr := newTree(t, open(t))
			l := tr.list("L")
			tk := tr.add("same", &l, nil)
			move := func(title string) *task.Task {
				t.Helper()
				ts, err := tr.s.tasks.Move(context.Background(), tr.owner, task.Move{
					IDs: []task.ID{tk.ID()}, At: tr.now(),
					To:   task.Placement{List: &l, Parent: tid(task.TopLevel), Bottom: true, OnlyIfListChanges: true},
					Edit: func(t *task.Task) error { return t.Edit(title, nil, tr.now()) },
				})
				if err != nil {
					t.Fatalf("Move(edit %q) = %v", title, err)
				}
				return ts[0]
			}
			if got := move("same"); got.Version() != tk.Version() || !got.UpdatedAt().Equal(tk.UpdatedAt()) {
				t.Errorf("a move into its own list with an edit changing nothing: version %d, updated %v; want %d, %v", got.Version(), got.UpdatedAt(), tk.Version(), tk.UpdatedAt())
			}
			if got := tr.get(tk.ID()); got.Version() != tk.Version() {
				t.Errorf("stored at version %d after a move changing nothing, want %d", got.Version(), tk.Version())
			}
			if got := move("other"); got.Version() != tk.Version()+1 || got.Title() != "other" {
				t.Errorf("a move into its own list with a new title: version %d, title %q; want %d, other", got.Version(), got.Title(), tk.Version()+1)
			}
		})
	}
}
