package contract

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// TestSharedReads holds every store to what a caller reads of shared lists
// (issue 19): each role that reads sees a shared list's tasks in the
// queries of every list (any filter, order and page, with their total,
// ?assignee=me, tags, subtasks), in the stats, and reads one of them and
// its history, each with its owner; a removed member and a stranger see
// nothing of it and get not found; the owner's answers are the same with
// members as without.
func TestSharedReads(t *testing.T) {
	t.Parallel()
	for name, open := range shareStoreKinds {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			for _, who := range append(list.Roles(), "removed", "stranger") {
				t.Run(string(who), func(t *testing.T) {
					t.Parallel()
					testSharedReads(t, s, who)
				})
			}
		})
	}
}

func testSharedReads(t *testing.T, s shareStores, who list.Role) {
	ctx := context.Background()
	c := newSharedCase(t, s, who)
	reads := who.Allows(list.ActRead)
	member := reads && who != list.RoleOwner
	mustTask := func(tk *task.Task, err error) *task.Task {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	// The shared list: milk (c.task, tagged, with a subtask). The owner's
	// own: one in the inbox, one in a list of theirs nobody shares.
	shared := mustTask(c.svc.PatchTask(ctx, c.owner, c.task.ID(), task.AnyVersion,
		application.Patch{Options: []task.Option{task.WithTags([]string{"Shop"}), task.WithDue("2026-03-01")}}))
	sub := mustTask(c.svc.CreateTaskAt(ctx, c.owner, application.Home{Parent: tidOf(shared.ID())}, "oat milk", nil))
	inbox := mustTask(c.svc.CreateTask(ctx, c.owner, "the owner's inbox", nil))
	private := c.sh.tr.list("private " + uniq())
	hidden := mustTask(c.svc.CreateTaskAt(ctx, c.owner, application.Home{List: lid(private)}, "the owner's private list", nil))
	if member {
		// Assigned to the member: ?assignee=me finds it.
		caller := c.caller.Owner()
		shared = mustTask(c.svc.PatchTask(ctx, c.owner, shared.ID(), task.AnyVersion, application.Patch{SetAssignee: true, Assignee: &caller}))
	}
	ownersAll := []task.ID{shared.ID(), sub.ID(), inbox.ID(), hidden.ID()}
	var want []task.ID // every list, for the caller
	if who == list.RoleOwner {
		want = ownersAll
	} else {
		mine := mustTask(c.svc.CreateTask(ctx, c.caller, "the caller's own", nil))
		want = []task.ID{mine.ID()}
		if reads {
			want = append(want, shared.ID(), sub.ID())
		}
	}
	slices.Sort(want)

	// pages reads every page of q and holds each page's total to the
	// number of tasks, and each task to its owner.
	pages := func(a application.Actor, q task.Query) []task.ID {
		t.Helper()
		var got []task.ID
		total := -1
		for range 20 {
			page, err := c.svc.ListTasks(ctx, a, q)
			if err != nil {
				t.Fatalf("ListTasks(%+v) = %v", q, err)
			}
			if total >= 0 && page.Total != total {
				t.Errorf("ListTasks(%+v): total %d, then %d", q, total, page.Total)
			}
			total = page.Total
			for _, tk := range page.Tasks {
				got = append(got, tk.ID())
				if tk.Owner() != c.sh.owner.ID && tk.Owner() != c.caller.Owner() {
					t.Errorf("ListTasks(%+v): task %d owned by %s", q, tk.ID(), tk.Owner())
				}
				if tk.ID() == shared.ID() && tk.Owner() != c.sh.owner.ID {
					t.Errorf("ListTasks(%+v): the shared task's owner = %s, want the list's", q, tk.Owner())
				}
			}
			if page.Next == nil {
				break
			}
			q.After = page.Next
		}
		if total != len(got) {
			t.Errorf("ListTasks(%+v): total %d for %d tasks", q, total, len(got))
		}
		slices.Sort(got)
		return got
	}
	caller := c.caller.Owner()
	pending := []task.Status{task.StatusPending}
	for _, q := range []task.Query{
		{},
		{Limit: 1},                     // COUNT, or the owner's counters
		{Limit: 1, Statuses: pending},  // the counters' path for an owner
		{Limit: 2, Sort: task.SortDue}, // the due_date keyset's two statements
		{Limit: 1, Sort: task.SortTitle, Order: task.OrderDesc},
		{Limit: 1, Sort: task.SortPriority},
		{Sort: task.SortPosition},
	} {
		if got := pages(c.caller, q); !slices.Equal(got, want) {
			t.Errorf("ListTasks(%s, every list, %+v) = %v, want %v", who, q, got, want)
		}
	}
	if page, err := c.svc.ListTasks(ctx, c.caller, task.Query{Limit: 1, Offset: 1}); err != nil || page.Total != len(want) {
		t.Errorf("ListTasks(%s, offset 1) = total %d, %v; want %d", who, page.Total, err, len(want))
	}
	filtered := func(q task.Query, ok bool, ids ...task.ID) {
		t.Helper()
		var w []task.ID
		if ok {
			w = append(w, ids...)
		}
		slices.Sort(w)
		if got := pages(c.caller, q); !slices.Equal(got, w) {
			t.Errorf("ListTasks(%s, %+v) = %v, want %v", who, q, got, w)
		}
	}
	filtered(task.Query{Tags: []string{"shop"}}, reads, shared.ID())
	filtered(task.Query{Parent: tidOf(shared.ID())}, reads, sub.ID())
	filtered(task.Query{Search: "oat"}, reads, sub.ID())
	filtered(task.Query{Assignee: &caller}, member, shared.ID())
	filtered(task.Query{List: lid(c.sh.list), Tags: []string{"SHOP"}}, reads, shared.ID())
	filtered(task.Query{List: lid(private)}, who == list.RoleOwner, hidden.ID())

	st, err := c.svc.TaskStats(ctx, c.caller, nil)
	if err != nil || st.Total != len(want) {
		t.Errorf("TaskStats(%s) = %+v, %v; want %d tasks", who, st, err, len(want))
	}

	for _, id := range []task.ID{shared.ID(), sub.ID()} {
		got, err := c.svc.GetTask(ctx, c.caller, id)
		switch {
		case reads && (err != nil || got.Owner() != c.sh.owner.ID):
			t.Errorf("GetTask(%s, %d) = %v, %v; want the task, owned by the list's owner", who, id, got, err)
		case !reads && !errors.Is(err, task.ErrNotFound):
			t.Errorf("GetTask(%s, %d) = %v, %v; want not found", who, id, got, err)
		}
		revs, err := c.svc.TaskHistory(ctx, c.caller, id)
		switch {
		case reads && (err != nil || len(revs) == 0):
			t.Errorf("TaskHistory(%s, %d) = %v, %v; want its history", who, id, revs, err)
		case !reads && !errors.Is(err, task.ErrNotFound):
			t.Errorf("TaskHistory(%s, %d) = %v, %v; want not found", who, id, revs, err)
		}
	}
	if who != list.RoleOwner {
		// The owner's tasks outside the shared list stay the owner's.
		for _, id := range []task.ID{inbox.ID(), hidden.ID()} {
			if got, err := c.svc.GetTask(ctx, c.caller, id); !errors.Is(err, task.ErrNotFound) {
				t.Errorf("GetTask(%s, the owner's unshared %d) = %v, %v; want not found", who, id, got, err)
			}
			if _, err := c.svc.TaskHistory(ctx, c.caller, id); !errors.Is(err, task.ErrNotFound) {
				t.Errorf("TaskHistory(%s, the owner's unshared %d) = %v; want not found", who, id, err)
			}
		}
	}

	// The owner's answers do not depend on who else reads the list.
	slices.Sort(ownersAll)
	for _, q := range []task.Query{{}, {Limit: 1}, {Limit: 1, Statuses: pending}} {
		if got := pages(c.owner, q); !slices.Equal(got, ownersAll) {
			t.Errorf("ListTasks(owner, %+v) = %v, want %v", q, got, ownersAll)
		}
	}
	if st, err := c.svc.TaskStats(ctx, c.owner, nil); err != nil || st.Total != len(ownersAll) {
		t.Errorf("TaskStats(owner) = %+v, %v; want %d tasks", st, err, len(ownersAll))
	}

	// A list in the trash is its owner's alone: its tasks (in the trash
	// with it) and their history are nobody else's to read.
	if err := c.svc.DeleteList(ctx, c.owner, c.sh.list, list.AnyVersion); err != nil {
		t.Fatal(err)
	}
	for _, id := range []task.ID{shared.ID(), sub.ID()} {
		_, err := c.svc.TaskHistory(ctx, c.caller, id)
		if who == list.RoleOwner && err != nil || who != list.RoleOwner && !errors.Is(err, task.ErrNotFound) {
			t.Errorf("TaskHistory(%s, %d in the trashed list) = %v", who, id, err)
		}
		if _, err := c.svc.GetTask(ctx, c.caller, id); !errors.Is(err, task.ErrNotFound) {
			t.Errorf("GetTask(%s, %d in the trashed list) = %v, want not found", who, id, err)
		}
	}
	if got := pages(c.caller, task.Query{Limit: 1}); slices.Contains(got, shared.ID()) || slices.Contains(got, sub.ID()) {
		t.Errorf("ListTasks(%s) after the list's trashing = %v", who, got)
	}
}
