package contract

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/todo-backend/todo/domain/task"
)

// TestTaskRevisions: every store records, per write that changes a task's
// content (an update, a batch update, a move), which fields it changed,
// from what to what, at the version it made; newest first, after a
// version; nothing for a write that changes nothing; another owner's task
// is not found (issue 17).
func TestTaskRevisions(t *testing.T) {
	t.Parallel()
	for name, open := range treeStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			tr := newTree(t, open(t))
			l := tr.list("L")
			tk := tr.add("first", nil, nil)
			other := tr.add("other", nil, nil)
			if _, err := tr.s.tasks.Update(ctx, tr.owner, tk.ID(), tk.Version(), func(t *task.Task) error {
				return t.Edit("second", nil, tr.now())
			}); err != nil {
				t.Fatal(err)
			}
			// Changes nothing: no revision, no version.
			if _, err := tr.s.tasks.Update(ctx, tr.owner, tk.ID(), 0, func(t *task.Task) error {
				return t.Edit("second", nil, tr.now())
			}); err != nil {
				t.Fatal(err)
			}
			if _, err := tr.s.tasks.UpdateAll(ctx, tr.owner, []task.ID{tk.ID(), other.ID()}, func(t *task.Task) error {
				t.SetCompleted(true, tr.now())
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			tr.move([]task.ID{tk.ID()}, task.Placement{List: &l, Parent: tid(task.TopLevel), Bottom: true})

			revs, err := tr.s.tasks.Revisions(ctx, tr.owner, tk.ID(), 0)
			if err != nil {
				t.Fatalf("Revisions = %v", err)
			}
			var versions []task.Version
			for _, r := range revs {
				versions = append(versions, r.Version)
				if r.At.IsZero() {
					t.Errorf("revision %d has no time", r.Version)
				}
			}
			if want := []task.Version{4, 3, 2, 1}; !slices.Equal(versions, want) {
				t.Fatalf("versions %v, want %v", versions, want)
			}
			for _, r := range revs {
				if r.By != tr.owner {
					t.Errorf("revision %d by %q, want the caller %q", r.Version, r.By, tr.owner)
				}
				if r.Creation() != (r.Version == 1) {
					t.Errorf("revision %d: Creation() = %v", r.Version, r.Creation())
				}
			}
			fields := func(r task.Revision) []string { return slices.Sorted(maps.Keys(r.Changed)) }
			// The creation: the values it was created with, each from null.
			if got := fields(revs[3]); !slices.Equal(got, []string{"completed", "priority", "title"}) {
				t.Errorf("version 1 (the creation) changed %v, want [completed priority title]", got)
			}
			for f, want := range map[string]string{"title": `"first"`, "completed": `false`, "priority": `"medium"`} {
				if c := revs[3].Changed[f]; string(c.From) != `null` || string(c.To) != want {
					t.Errorf("creation's %s from %s to %s, want null to %s", f, c.From, c.To, want)
				}
			}
			if got := fields(revs[2]); !slices.Equal(got, []string{"title"}) {
				t.Errorf("version 2 changed %v, want [title]", got)
			}
			if c := revs[2].Changed["title"]; string(c.From) != `"first"` || string(c.To) != `"second"` {
				t.Errorf("title from %s to %s, want first to second", c.From, c.To)
			}
			if got := fields(revs[1]); !slices.Equal(got, []string{"completed"}) {
				t.Errorf("version 3 changed %v, want [completed]", got)
			}
			if c := revs[1].Changed["completed"]; string(c.From) != `false` || string(c.To) != `true` {
				t.Errorf("completed from %s to %s, want false to true", c.From, c.To)
			}
			if got := fields(revs[0]); !slices.Contains(got, "list_id") || slices.Contains(got, "title") {
				t.Errorf("version 4 (a move) changed %v, want list_id among them", got)
			}
			if c := revs[0].Changed["list_id"]; string(c.From) != `null` {
				t.Errorf("list_id from %s, want null", c.From)
			}
			since, err := tr.s.tasks.Revisions(ctx, tr.owner, tk.ID(), 2)
			if err != nil || len(since) != 2 {
				t.Errorf("Revisions since 2 = %d revisions, %v; want 2", len(since), err)
			}
			if got, err := tr.s.tasks.Revisions(ctx, tr.owner, other.ID(), 0); err != nil || len(got) != 2 {
				t.Errorf("the batch's other task: %d revisions, %v; want 2 (its creation and the batch)", len(got), err)
			}
			if _, err := tr.s.tasks.Revisions(ctx, newOwner(), tk.ID(), 0); !errors.Is(err, task.ErrNotFound) {
				t.Errorf("another owner's Revisions = %v, want ErrNotFound", err)
			}
			fresh := tr.add("fresh", nil, nil)
			if got, err := tr.s.tasks.Revisions(ctx, tr.owner, fresh.ID(), 0); err != nil || len(got) != 1 || !got[0].Creation() {
				t.Errorf("a new task: %v, %v; want its creation alone", got, err)
			}
			// A task created in a list, with tags: the creation names them.
			tagged := tr.add("tagged", &l, nil, task.WithTags([]string{"b", "a"}))
			got, err := tr.s.tasks.Revisions(ctx, tr.owner, tagged.ID(), 0)
			if err != nil || len(got) != 1 {
				t.Fatalf("a new tagged task: %v, %v; want its creation alone", got, err)
			}
			if f := fields(got[0]); !slices.Equal(f, []string{"completed", "list_id", "priority", "tags", "title"}) {
				t.Errorf("tagged creation changed %v", f)
			}
			if c := got[0].Changed["tags"]; string(c.From) != `null` {
				t.Errorf("tagged creation's tags from %s, want null", c.From)
			}
		})
	}
}
