package contract

import (
	"context"
	"testing"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/task"
)

// TestListTotals follows one owner through every kind of write and checks,
// after each, the total a later page reports (where no store can count the
// page it holds) against the tasks actually listed: all, pending and
// completed. The SQL stores keep these totals in counters that triggers
// maintain (task_counts), so every write path must move them.
func TestListTotals(t *testing.T) {
	t.Parallel()
	for name, open := range taskStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testListTotals(t, open(t))
		})
	}
}

func testListTotals(t *testing.T, repo task.Repository) {
	ctx := context.Background()
	owner, other := newOwner(), newOwner()
	at := base
	next := func() time.Time { at = at.Add(time.Second); return at }
	check := func(step string) {
		t.Helper()
		for _, st := range []task.Status{task.StatusAll, task.StatusPending, task.StatusCompleted} {
			all := mustList(t, repo, owner, task.Query{Statuses: []task.Status{st}})
			first, second, paged := pagedTotals(t, repo, owner, st)
			if !paged {
				if len(all) > 1 {
					t.Fatalf("%s: %s: no next page with %d tasks", step, st, len(all))
				}
				continue
			}
			if first != len(all) || second != len(all) {
				t.Errorf("%s: %s: totals %d (first page) and %d (second page), want %d", step, st, first, second, len(all))
			}
		}
	}
	add := func(n int, done bool, tags ...string) []*task.Task {
		t.Helper()
		ts := make([]*task.Task, n)
		for i := range ts {
			ts[i] = mustNewWith(t, owner, "task", next(), task.WithTags(tags))
			if done {
				ts[i].SetCompleted(true, at)
			}
		}
		out, err := repo.AddAll(ctx, ts)
		if err != nil {
			t.Fatalf("AddAll = %v", err)
		}
		return out
	}
	// Another owner's writes never move this owner's totals.
	mustAdd(t, repo, mustNewWith(t, other, "not mine", next()))

	var ids []task.ID
	for range 3 {
		ids = append(ids, mustAdd(t, repo, mustNewWith(t, owner, "one", next())).ID())
	}
	check("three added one by one")
	for _, tk := range add(4, false, "Home") {
		ids = append(ids, tk.ID())
	}
	for _, tk := range add(2, true) {
		ids = append(ids, tk.ID())
	}
	check("a bulk add, two completed")
	toggle := func(tk *task.Task) error { tk.ToggleCompleted(next()); return nil }
	if _, err := repo.Update(ctx, owner, ids[0], task.AnyVersion, toggle); err != nil {
		t.Fatal(err)
	}
	check("one completed")
	if _, err := repo.Update(ctx, owner, ids[1], task.AnyVersion, func(tk *task.Task) error {
		return tk.Edit("renamed", nil, next(), task.WithTags([]string{"work"}))
	}); err != nil {
		t.Fatal(err)
	}
	check("one renamed and retagged")
	if _, err := repo.UpdateAll(ctx, owner, ids[2:5], toggle); err != nil {
		t.Fatal(err)
	}
	check("three toggled at once")
	if err := repo.Trash(ctx, owner, ids[5], task.AnyVersion, next()); err != nil {
		t.Fatal(err)
	}
	check("one trashed")
	if _, err := repo.TrashAll(ctx, owner, ids[6:8], next()); err != nil {
		t.Fatal(err)
	}
	check("two trashed at once")
	if _, err := repo.RestoreFromTrash(ctx, owner, ids[6]); err != nil {
		t.Fatal(err)
	}
	check("one restored")
	if err := repo.Delete(ctx, owner, ids[3], task.AnyVersion); err != nil {
		t.Fatal(err)
	}
	check("one deleted")
	if err := repo.Delete(ctx, owner, ids[7], task.AnyVersion); err != nil { // from the trash
		t.Fatal(err)
	}
	check("one deleted from the trash")
	if _, err := repo.TrashCompleted(ctx, owner, next()); err != nil {
		t.Fatal(err)
	}
	check("completed ones trashed")
	if _, err := repo.EmptyTrash(ctx, owner); err != nil {
		t.Fatal(err)
	}
	check("trash emptied")
	add(3, false)
	check("three more")
	if n, err := repo.PurgeTrash(ctx, next().Add(time.Hour), 1000); err != nil {
		t.Fatalf("PurgeTrash = %d, %v", n, err)
	}
	check("trash purged")
	if got := mustList(t, repo, other, task.Query{}); len(got) != 1 {
		t.Errorf("the other owner lists %d tasks, want 1", len(got))
	}
}

// pagedTotals lists owner's tasks of status st in pages of one and returns
// the totals of the first page and, when there is one (paged), of the
// second: one the store may count with the page in hand, one it cannot.
func pagedTotals(t *testing.T, repo task.Repository, owner auth.UserID, st task.Status) (first, second int, paged bool) {
	t.Helper()
	ctx := context.Background()
	q := task.Query{Statuses: []task.Status{st}, Limit: 1}
	p1, err := repo.List(ctx, owner, q)
	if err != nil {
		t.Fatalf("List(%s, limit 1) = %v", st, err)
	}
	if p1.Next == nil {
		return p1.Total, 0, false
	}
	q.After = p1.Next
	p2, err := repo.List(ctx, owner, q)
	if err != nil {
		t.Fatalf("List(%s, second page) = %v", st, err)
	}
	return p1.Total, p2.Total, true
}
