package application_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/application"
	"github.com/todo-backend/todo/domain/check"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// newListService is a service with lists, on the memory store.
func newListService(t *testing.T) (*application.Service, application.Actor, *clock) {
	t.Helper()
	s, _, a, c := newListServiceStore(t)
	return s, a, c
}

// newListServiceStore is newListService and its store.
func newListServiceStore(t *testing.T) (*application.Service, *memory.Store, application.Actor, *clock) {
	t.Helper()
	c := &clock{t: start}
	store := memory.NewStore()
	s := application.New(store.Tasks(), store.Users(), c.now, application.WithLists(store.Lists()))
	return s, store, authorize(t, s, alice), c
}

func TestListUseCases(t *testing.T) {
	ctx := context.Background()
	s, a, c := newListService(t)
	work, err := s.CreateList(ctx, a, " Work ", ptr("#AABBCC"))
	if err != nil || work.List.Name() != "Work" || *work.List.Color() != "#aabbcc" || !work.List.CreatedAt().Equal(clean(start)) {
		t.Fatalf("CreateList = %+v, %v", work, err)
	}
	if _, err := s.CreateList(ctx, a, "WORK", nil); !errors.Is(err, list.ErrNameTaken) {
		t.Errorf("CreateList(WORK) = %v, want ErrNameTaken", err)
	}
	if _, err := s.CreateList(ctx, a, "", ptr("red")); !hasProblems(err, 2) {
		t.Errorf("CreateList(no name, bad color) = %v, want two problems", err)
	}
	home, _ := s.CreateList(ctx, a, "Home", nil)
	id := work.List.ID()

	c.advance(time.Minute)
	edited, err := s.EditList(ctx, a, id, 1, application.ListPatch{SetColor: true})
	if err != nil || edited.List.Color() != nil || edited.List.Name() != "Work" || edited.List.Version() != 2 {
		t.Errorf("EditList(clear color) = %+v, %v", edited, err)
	}
	if got, err := s.EditList(ctx, a, id, 2, application.ListPatch{}); err != nil || got.List.Version() != 2 {
		t.Errorf("EditList(empty) = %v, %v; want the list as it is", got.List, err)
	}
	if _, err := s.EditList(ctx, a, id, 1, application.ListPatch{}); !errors.Is(err, list.ErrVersionMismatch) {
		t.Errorf("EditList(empty, stale) = %v, want a conflict", err)
	}
	if _, err := s.EditList(ctx, a, id, list.AnyVersion, application.ListPatch{Name: ptr("home")}); !errors.Is(err, list.ErrNameTaken) {
		t.Errorf("EditList(rename to home) = %v, want ErrNameTaken", err)
	}
	if _, err := s.MoveList(ctx, a, home.List.ID(), list.AnyVersion, list.Anchor{}); err != nil {
		t.Fatal(err)
	}
	all, err := s.ListLists(ctx, a)
	if err != nil || len(all) != 2 || all[0].List.ID() != home.List.ID() {
		t.Errorf("ListLists = %v, %v; want Home first", all, err)
	}

	tk, err := s.CreateTaskAt(ctx, a, application.Home{List: &id}, "in work", nil)
	if err != nil || tk.Scope().List != id {
		t.Fatalf("CreateTaskAt(work) = %v, %v", tk, err)
	}
	if got, _ := s.GetList(ctx, a, id); got.Open != 1 {
		t.Errorf("GetList counts %d open tasks, want 1", got.Open)
	}
	if err := s.DeleteList(ctx, a, id, list.AnyVersion); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetTask(ctx, a, tk.ID()); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("the task of a deleted list is still there: %v", err)
	}
	trashed, err := s.ListTrashedLists(ctx, a)
	if err != nil || len(trashed) != 1 || !trashed[0].DeletedAt.Equal(clean(c.t)) {
		t.Errorf("ListTrashedLists = %v, %v", trashed, err)
	}
	if got, err := s.RestoreList(ctx, a, id); err != nil || got.Open != 1 {
		t.Errorf("RestoreList = %+v, %v", got, err)
	}
	if err := s.DeleteListForGood(ctx, a, id, list.AnyVersion); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RestoreTask(ctx, a, tk.ID()); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("the task of a list deleted for good: %v", err)
	}
	// Bob sees none of Alice's lists.
	b := authorize(t, s, bob)
	if _, err := s.GetList(ctx, b, home.List.ID()); !errors.Is(err, list.ErrNotFound) {
		t.Errorf("GetList(Alice's, as Bob) = %v", err)
	}
	if _, err := s.CreateTaskAt(ctx, b, application.Home{List: ptr(home.List.ID())}, "sneaky", nil); !errors.Is(err, list.ErrNotFound) {
		t.Errorf("CreateTaskAt(in Alice's list, as Bob) = %v", err)
	}
}

func TestNoLists(t *testing.T) {
	s, _ := newService(t)
	a := authorize(t, s, alice)
	if _, err := s.ListLists(context.Background(), a); !errors.Is(err, application.ErrNoLists) {
		t.Errorf("ListLists without WithLists = %v, want ErrNoLists", err)
	}
}

func TestCreateTaskAt(t *testing.T) {
	ctx := context.Background()
	s, a, _ := newListService(t)
	l, _ := s.CreateList(ctx, a, "L", nil)
	m, _ := s.CreateList(ctx, a, "M", nil)
	lid, mid := l.List.ID(), m.List.ID()
	p, err := s.CreateTaskAt(ctx, a, application.Home{List: &lid}, "parent", nil, task.WithPriority("high"))
	if err != nil || p.Priority() != task.PriorityHigh {
		t.Fatal(err)
	}
	// A parent alone: the parent's list.
	c, err := s.CreateTaskAt(ctx, a, application.Home{Parent: ptr(p.ID())}, "child", nil)
	if err != nil || c.Scope() != (task.Scope{List: lid, Parent: p.ID()}) {
		t.Errorf("CreateTaskAt(under p) = %v, %v", c, err)
	}
	// Its list, given: fine; another: 422; the inbox, given: 422.
	if _, err := s.CreateTaskAt(ctx, a, application.Home{List: &lid, Parent: ptr(p.ID())}, "child 2", nil); err != nil {
		t.Errorf("CreateTaskAt(in L under p) = %v", err)
	}
	for _, in := range []list.ID{mid, list.Inbox} {
		_, err := s.CreateTaskAt(ctx, a, application.Home{List: &in, Parent: ptr(p.ID())}, "elsewhere", nil)
		if ve, ok := errors.AsType[*task.ValidationError](err); !ok || ve.Problems[0].Field != "list_id" {
			t.Errorf("CreateTaskAt(in %d under p) = %v, want a list_id problem", in, err)
		}
	}
	// The inbox and the top level, named: as CreateTask.
	tk, err := s.CreateTaskAt(ctx, a, application.Home{List: ptr(list.Inbox), Parent: ptr(task.TopLevel)}, "inbox", nil)
	if err != nil || tk.ListID() != nil || tk.ParentID() != nil {
		t.Errorf("CreateTaskAt(inbox, top level) = %v, %v", tk, err)
	}
	if _, err := s.CreateTaskAt(ctx, a, application.Home{Parent: ptr(task.ID(1 << 50))}, "orphan", nil); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("CreateTaskAt(under no task) = %v", err)
	}
	if _, err := s.CreateTaskAt(ctx, a, application.Home{List: ptr(list.ID(-1))}, "x", nil); err == nil {
		t.Errorf("CreateTaskAt(list -1) = nil error")
	}
}

func TestMoveAndPatchList(t *testing.T) {
	ctx := context.Background()
	s, a, c := newListService(t)
	l, _ := s.CreateList(ctx, a, "L", nil)
	lid := l.List.ID()
	x := create(t, s, a, "x", nil)
	y := create(t, s, a, "y", nil)
	z := create(t, s, a, "z", nil)
	sub, err := s.CreateTaskAt(ctx, a, application.Home{Parent: ptr(z.ID())}, "sub", nil)
	if err != nil {
		t.Fatal(err)
	}
	moved, err := s.MoveTask(ctx, a, y.ID(), y.Version(), task.Placement{})
	if err != nil || moved.Version() != 2 {
		t.Fatalf("MoveTask(y to the top) = %v, %v", moved, err)
	}
	if _, err := s.MoveTask(ctx, a, y.ID(), 1, task.Placement{}); !errors.Is(err, task.ErrVersionMismatch) {
		t.Errorf("MoveTask(stale) = %v", err)
	}
	top := task.TopLevel
	page, _ := s.ListTasks(ctx, a, task.Query{List: ptr(list.Inbox), Parent: &top, Sort: task.SortPosition})
	if got := ids(page.Tasks); !slices.Equal(got, []task.ID{y.ID(), x.ID(), z.ID()}) {
		t.Errorf("inbox by position = %v", got)
	}
	if _, err := s.MoveTasks(ctx, a, nil, task.Placement{}); err == nil {
		t.Errorf("MoveTasks(no ids) = nil")
	}
	if _, err := s.MoveTasks(ctx, a, []task.ID{x.ID(), y.ID()}, task.Placement{List: &lid}); err != nil {
		t.Fatal(err)
	}
	// PATCH of list_id with a title: one write, the subtree follows, the
	// bottom of the list's top level.
	c.advance(time.Minute)
	got, err := s.PatchTask(ctx, a, z.ID(), z.Version(), application.Patch{List: &lid, Title: ptr("z, renamed")})
	if err != nil || got.Title() != "z, renamed" || got.Scope() != (task.Scope{List: lid}) || got.Version() != z.Version()+1 {
		t.Fatalf("PatchTask(list, title) = %v, %v", got, err)
	}
	page, _ = s.ListTasks(ctx, a, task.Query{List: &lid, Parent: &top, Sort: task.SortPosition})
	if got := ids(page.Tasks); !slices.Equal(got, []task.ID{x.ID(), y.ID(), z.ID()}) {
		t.Errorf("list L after the patch = %v, want z last", got)
	}
	if s, _ := s.GetTask(ctx, a, sub.ID()); s.Scope().List != lid {
		t.Errorf("z's subtask stayed in %v", s.Scope())
	}
	// The same list again: nothing moves.
	again, err := s.PatchTask(ctx, a, z.ID(), task.AnyVersion, application.Patch{List: &lid})
	if err != nil || again.Version() != got.Version() {
		t.Errorf("PatchTask(same list) = v%d, %v; want no write", again.Version(), err)
	}
	if _, err := s.PatchTask(ctx, a, z.ID(), 1, application.Patch{List: ptr(list.Inbox)}); !errors.Is(err, task.ErrVersionMismatch) {
		t.Errorf("PatchTask(list, stale) = %v", err)
	}
	stats, err := s.TaskStatsIn(ctx, a, lid, nil)
	if err != nil || stats.Total != 4 {
		t.Errorf("TaskStatsIn(L) = %+v, %v; want 4 tasks", stats, err)
	}
	if stats, _ := s.TaskStatsIn(ctx, a, list.Inbox, nil); stats.Total != 0 {
		t.Errorf("TaskStatsIn(inbox) = %+v, want none", stats)
	}
}

func TestTrashOfListsIsEmptiedAndPurged(t *testing.T) {
	ctx := context.Background()
	s, store, a, c := newListServiceStore(t)
	l, _ := s.CreateList(ctx, a, "L", nil)
	lid := l.List.ID()
	if _, err := s.CreateTaskAt(ctx, a, application.Home{List: &lid}, "t", nil); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteList(ctx, a, lid, list.AnyVersion); err != nil {
		t.Fatal(err)
	}
	if n, err := s.EmptyTrash(ctx, a); err != nil || n != 1 {
		t.Errorf("EmptyTrash = %d, %v; want the list's one task", n, err)
	}
	if got, _ := s.ListTrashedLists(ctx, a); len(got) != 0 {
		t.Errorf("trashed lists after EmptyTrash: %v", got)
	}
	old, _ := s.CreateList(ctx, a, "Old", nil)
	if err := s.DeleteList(ctx, a, old.List.ID(), list.AnyVersion); err != nil {
		t.Fatal(err)
	}
	c.advance(48 * time.Hour)
	purger := application.NewPurger(store.Tasks(), store.Lists(), store.Keys(), 24*time.Hour, c.now)
	want := []application.Purged{{Name: "tasks"}, {Name: "lists", Removed: 1}, {Name: "idempotency_keys"}}
	if got, err := purger.Purge(ctx); err != nil || !slices.Equal(got, want) {
		t.Errorf("Purge() = %v, %v; want the old list: %v", got, err, want)
	}
	if _, err := s.RestoreList(ctx, a, old.List.ID()); !errors.Is(err, list.ErrNotFound) {
		t.Errorf("RestoreList(purged) = %v", err)
	}
}

func hasProblems(err error, n int) bool {
	ve, ok := errors.AsType[*check.ValidationError](err)
	return ok && len(ve.Problems) == n
}

func ids(ts []*task.Task) []task.ID {
	out := make([]task.ID, len(ts))
	for i, t := range ts {
		out[i] = t.ID()
	}
	return out
}

// TestCreateTasksAt: a bulk create's items each go where their Home says,
// a subtask to its parent's list; a Home that breaks a rule is that item's
// problem, by index.
func TestCreateTasksAt(t *testing.T) {
	ctx := context.Background()
	s, a, _ := newListService(t)
	l, _ := s.CreateList(ctx, a, "L", nil)
	lid := l.List.ID()
	p, err := s.CreateTaskAt(ctx, a, application.Home{List: &lid}, "parent", nil)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := s.CreateTasks(ctx, a, []application.NewTask{
		{Title: "in L", Home: application.Home{List: &lid}},
		{Title: "under p", Home: application.Home{Parent: ptr(p.ID())}},
		{Title: "inbox"},
	})
	if err != nil || len(ts) != 3 {
		t.Fatalf("CreateTasks = %v, %v", ts, err)
	}
	if ts[0].Scope() != (task.Scope{List: lid}) || ts[1].Scope() != (task.Scope{List: lid, Parent: p.ID()}) || ts[2].Scope() != (task.Scope{}) {
		t.Errorf("CreateTasks scopes %v, %v, %v; want L, under p in L, the inbox", ts[0].Scope(), ts[1].Scope(), ts[2].Scope())
	}
	// The parent's list is checked by the store, which names the field
	// but not the item.
	_, err = s.CreateTasks(ctx, a, []application.NewTask{
		{Title: "fine"},
		{Title: "elsewhere", Home: application.Home{List: ptr(list.Inbox), Parent: ptr(p.ID())}},
	})
	if ve, ok := errors.AsType[*check.ValidationError](err); !ok || ve.Problems[0].Field != "list_id" {
		t.Errorf("CreateTasks(a subtask outside its parent's list) = %v, want a list_id problem", err)
	}
	_, err = s.CreateTasks(ctx, a, []application.NewTask{{Title: "x"}, {Title: "y", Home: application.Home{List: ptr(list.ID(-1))}}})
	if be, ok := errors.AsType[*task.BatchError](err); !ok || len(be.Items) != 1 || be.Items[0].Index != 1 {
		t.Errorf("CreateTasks(item 1 in list -1) = %v, want item 1's problem", err)
	}
}
