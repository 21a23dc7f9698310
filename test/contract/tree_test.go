package contract

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/todo-backend/todo/adapters/memory"
	"github.com/todo-backend/todo/adapters/sqlstore"
	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/check"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/position"
	"github.com/todo-backend/todo/domain/task"
)

// stores are a task and a list repository over one store.
type stores struct {
	tasks task.Repository
	lists list.Repository
}

// treeStores opens fresh stores of each kind for the suites of lists,
// subtasks and manual order.
var treeStores = map[string]func(*testing.T) stores{
	"memory": func(*testing.T) stores {
		t := memory.NewTaskRepository()
		return stores{tasks: t, lists: memory.NewListRepository(t)}
	},
	"sqlite": func(t *testing.T) stores {
		db := openSQLiteDB(t)
		return stores{tasks: sqlstore.NewTaskRepository(db), lists: sqlstore.NewListRepository(db)}
	},
	"postgres": func(t *testing.T) stores {
		db := openPostgresDB(t)
		return stores{tasks: sqlstore.NewTaskRepository(db), lists: sqlstore.NewListRepository(db)}
	},
}

// TestTrees holds every store to the rules of lists, subtasks and manual
// order (issue 15): the memory store decides them with the domain's
// functions over all of a user's data, the SQL stores over the rows they
// lock and read; the cases check the outcome, and the random ones the
// memory store's outcome too.
func TestTrees(t *testing.T) {
	t.Parallel()
	for name, open := range treeStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t)
			for _, tc := range []struct {
				name string
				run  func(*testing.T, stores)
			}{
				{"lists: create, get, list, edit", testListsCRUD},
				{"lists: names unique ignoring case", testListNames},
				{"lists: versions", testListVersions},
				{"lists: order and moves", testListMoves},
				{"lists: counts", testListCounts},
				{"lists: trash and restore with their tasks", testListTrash},
				{"lists: deleted for good with their tasks", testListDelete},
				{"lists: creates racing the list's trash", testCreatesRacingListTrash},
				{"tasks: created in a list or under a parent", testAddPlaced},
				{"tasks: at most 4 levels, no cycles", testDepthAndCycles},
				{"tasks: completing completes open subtasks", testCompleteCascade},
				{"tasks: trash and restore subtrees", testTrashCascade},
				{"tasks: restoring brings back the home", testRestoreHome},
				{"tasks: deleted for good with subtrees", testDeleteSubtree},
				{"moves: top, after, before", testMoves},
				{"moves: many together", testBulkMoves},
				{"moves: to another list with the subtree", testMoveToList},
				{"moves: refused placements", testMoveRefusals},
				{"moves: list filters and pages by position", testPositionPages},
				{"moves: random moves keep keys unique", testRandomMoves},
				{"moves: a scope is rebalanced past the bound", testRebalance},
				{"moves: concurrent moves of one list", testConcurrentMoves},
			} {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.run(t, s)
				})
			}
		})
	}
}

// tree is one owner's view of stores in a case, with a clock that moves a
// second per write.
type tree struct {
	t     *testing.T
	s     stores
	owner auth.UserID
	at    time.Time
}

func newTree(t *testing.T, s stores) *tree {
	return &tree{t: t, s: s, owner: newOwner(), at: base}
}

func (tr *tree) now() time.Time {
	tr.at = tr.at.Add(time.Second)
	return tr.at
}

func lid(id list.ID) *list.ID { return &id }
func tid(id task.ID) *task.ID { return &id }

func (tr *tree) list(name string) list.ID {
	tr.t.Helper()
	l, err := list.New(tr.owner, name, nil, tr.now())
	if err != nil {
		tr.t.Fatal(err)
	}
	got, err := tr.s.lists.Add(context.Background(), l)
	if err != nil {
		tr.t.Fatalf("lists.Add(%q) = %v", name, err)
	}
	return got.List.ID()
}

// add creates a task in l (nil: inbox) under parent (nil: top level).
func (tr *tree) add(title string, l *list.ID, parent *task.ID, opts ...task.Option) *task.Task {
	tr.t.Helper()
	got, err := tr.tryAdd(title, l, parent, opts...)
	if err != nil {
		tr.t.Fatalf("Add(%q in %v under %v) = %v", title, l, parent, err)
	}
	return got
}

func (tr *tree) tryAdd(title string, l *list.ID, parent *task.ID, opts ...task.Option) (*task.Task, error) {
	tk, err := task.New(tr.owner, title, nil, tr.now(), append(opts, task.InList(l), task.Under(parent))...)
	if err != nil {
		tr.t.Fatal(err)
	}
	return tr.s.tasks.Add(context.Background(), tk)
}

func (tr *tree) get(id task.ID) *task.Task {
	tr.t.Helper()
	return mustGet(tr.t, tr.s.tasks, tr.owner, id)
}

func (tr *tree) gone(id task.ID) bool {
	_, err := tr.s.tasks.Get(context.Background(), tr.owner, id)
	return errors.Is(err, task.ErrNotFound)
}

func (tr *tree) move(ids []task.ID, p task.Placement) []*task.Task {
	tr.t.Helper()
	got, err := tr.tryMove(ids, p)
	if err != nil {
		tr.t.Fatalf("Move(%v, %+v) = %v", ids, p, err)
	}
	return got
}

func (tr *tree) tryMove(ids []task.ID, p task.Placement) ([]*task.Task, error) {
	return tr.s.tasks.Move(context.Background(), tr.owner, task.Move{IDs: ids, To: p, At: tr.now()})
}

// scope lists the live tasks of a scope in manual order.
func (tr *tree) scope(sc task.Scope) []*task.Task {
	tr.t.Helper()
	return mustList(tr.t, tr.s.tasks, tr.owner, task.Query{List: &sc.List, Parent: &sc.Parent, Sort: task.SortPosition})
}

func (tr *tree) scopeIDs(sc task.Scope) []task.ID { return ids(tr.scope(sc)) }

func (tr *tree) summary(id list.ID) list.Summary {
	tr.t.Helper()
	got, err := tr.s.lists.Get(context.Background(), tr.owner, id)
	if err != nil {
		tr.t.Fatalf("lists.Get(%d) = %v", id, err)
	}
	return got
}

func (tr *tree) trashed() []task.ID {
	tr.t.Helper()
	page, err := tr.s.tasks.ListTrash(context.Background(), tr.owner, 0, 0)
	if err != nil {
		tr.t.Fatal(err)
	}
	var out []task.ID
	for _, it := range page.Items {
		out = append(out, it.Task.ID())
	}
	slices.Sort(out)
	return out
}

// wantProblem fails unless err is a ValidationError with a problem on field
// whose message says want.
func wantProblem(t *testing.T, what string, err error, field, want string) {
	t.Helper()
	ve, ok := errors.AsType[*check.ValidationError](err)
	if !ok || !slices.ContainsFunc(ve.Problems, func(p check.Problem) bool {
		return p.Field == field && strings.Contains(p.Msg, want)
	}) {
		t.Errorf("%s = %v, want a problem on %s saying %q", what, err, field, want)
	}
}

func sortedIDs(ids ...task.ID) []task.ID {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func testListsCRUD(t *testing.T, s stores) {
	ctx := context.Background()
	tr := newTree(t, s)
	l, err := list.New(tr.owner, "  Groceries ", ptr("#FF8800"), tr.now())
	if err != nil {
		t.Fatal(err)
	}
	added, err := s.lists.Add(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	a := added.List
	if a.ID() <= 0 || a.Name() != "Groceries" || *a.Color() != "#ff8800" || a.Version() != 1 ||
		a.Position() != position.Implicit(int64(a.ID())) || added.Open != 0 || added.Completed != 0 {
		t.Errorf("Add = %+v %q %v v%d %q", added, a.Name(), a.Color(), a.Version(), a.Position())
	}
	got := tr.summary(a.ID()).List
	if got.Name() != "Groceries" || !got.CreatedAt().Equal(l.CreatedAt()) || !got.UpdatedAt().Equal(l.UpdatedAt()) ||
		got.CreatedAt().Location() != time.UTC || got.Owner() != tr.owner {
		t.Errorf("Get = %q %v %v %q", got.Name(), got.CreatedAt(), got.UpdatedAt(), got.Owner())
	}
	b, c := tr.list("Work"), tr.list("Home")
	all, err := s.lists.List(ctx, tr.owner)
	if err != nil || len(all) != 3 || all[0].List.ID() != a.ID() || all[1].List.ID() != b || all[2].List.ID() != c {
		t.Fatalf("List = %v, %v; want the three lists in creation order", all, err)
	}
	edited, err := s.lists.Update(ctx, tr.owner, tr.owner, b, list.AnyVersion, func(l *list.List) error {
		return l.Edit("Office", ptr("#00aa00"), tr.now())
	})
	if err != nil || edited.List.Name() != "Office" || *edited.List.Color() != "#00aa00" || edited.List.Version() != 2 {
		t.Fatalf("Update = %+v, %v", edited, err)
	}
	if g := tr.summary(b).List; g.Name() != "Office" || g.Version() != 2 || !g.UpdatedAt().Equal(edited.List.UpdatedAt()) {
		t.Errorf("Get(edited) = %q v%d", g.Name(), g.Version())
	}
	// A failing edit changes nothing.
	if _, err := s.lists.Update(ctx, tr.owner, tr.owner, b, list.AnyVersion, func(l *list.List) error {
		return l.Edit("", nil, tr.now())
	}); err == nil || tr.summary(b).List.Version() != 2 {
		t.Errorf("Update(empty name) = %v, version %d", err, tr.summary(b).List.Version())
	}
	// Another owner sees none of it.
	other := newOwner()
	for _, op := range []func() error{
		func() error { _, err := s.lists.Get(ctx, other, b); return err },
		func() error {
			_, err := s.lists.Update(ctx, other, other, b, list.AnyVersion, func(*list.List) error { return nil })
			return err
		},
		func() error { return s.lists.Trash(ctx, other, b, list.AnyVersion, tr.now()) },
		func() error { _, err := s.lists.Restore(ctx, other, b); return err },
		func() error { return s.lists.Delete(ctx, other, b, list.AnyVersion) },
		func() error {
			_, err := s.lists.Move(ctx, other, b, list.AnyVersion, list.Anchor{}, tr.now())
			return err
		},
		func() error { _, err := s.lists.Get(ctx, tr.owner, 1<<62); return err },
	} {
		if err := op(); !errors.Is(err, list.ErrNotFound) {
			t.Errorf("an operation on another owner's (or no) list = %v, want list.ErrNotFound", err)
		}
	}
	if got, err := s.lists.List(ctx, other); err != nil || got == nil || len(got) != 0 {
		t.Errorf("List(other owner) = %v, %v; want empty, non-nil", got, err)
	}
}

func testListNames(t *testing.T, s stores) {
	ctx := context.Background()
	tr := newTree(t, s)
	work := tr.list("Work")
	for _, name := range []string{"work", " WORK ", "Work"} {
		l, _ := list.New(tr.owner, name, nil, tr.now())
		if _, err := s.lists.Add(ctx, l); !errors.Is(err, list.ErrNameTaken) {
			t.Errorf("Add(%q) next to Work = %v, want ErrNameTaken", name, err)
		}
	}
	// Another owner may have it; so may Ünïcode folded alike.
	l, _ := list.New(newOwner(), "Work", nil, tr.now())
	if _, err := s.lists.Add(ctx, l); err != nil {
		t.Errorf("another owner's Work = %v", err)
	}
	tr.list("Ärger")
	l, _ = list.New(tr.owner, "äRGER", nil, tr.now())
	if _, err := s.lists.Add(ctx, l); !errors.Is(err, list.ErrNameTaken) {
		t.Errorf("Add(äRGER) next to Ärger = %v, want ErrNameTaken", err)
	}
	home := tr.list("Home")
	if _, err := s.lists.Update(ctx, tr.owner, tr.owner, home, list.AnyVersion, func(l *list.List) error {
		return l.Edit("WORK", nil, tr.now())
	}); !errors.Is(err, list.ErrNameTaken) {
		t.Errorf("rename to WORK = %v, want ErrNameTaken", err)
	}
	if _, err := s.lists.Update(ctx, tr.owner, tr.owner, work, list.AnyVersion, func(l *list.List) error {
		return l.Edit("work", nil, tr.now()) // its own name, in another case
	}); err != nil {
		t.Errorf("rename Work to work = %v", err)
	}
	// A trashed list frees its name; restored while another list has it:
	// 409, and it stays in the trash with its tasks.
	tk := tr.add("in work", &work, nil)
	if err := s.lists.Trash(ctx, tr.owner, work, list.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	again := tr.list("WORK")
	if _, err := s.lists.Restore(ctx, tr.owner, work); !errors.Is(err, list.ErrNameTaken) {
		t.Errorf("Restore(work) while WORK exists = %v, want ErrNameTaken", err)
	}
	if _, err := s.lists.Get(ctx, tr.owner, work); !errors.Is(err, list.ErrNotFound) || !tr.gone(tk.ID()) {
		t.Errorf("a refused restore brought something back")
	}
	// So is restoring a task of it (which needs its list back).
	if _, err := s.tasks.RestoreFromTrash(ctx, tr.owner, tk.ID()); !errors.Is(err, list.ErrNameTaken) || !tr.gone(tk.ID()) {
		t.Errorf("RestoreFromTrash(task of a list whose name is taken) = %v, want ErrNameTaken and nothing restored", err)
	}
	if err := s.lists.Delete(ctx, tr.owner, again, list.AnyVersion); err != nil {
		t.Fatal(err)
	}
	if r, err := s.lists.Restore(ctx, tr.owner, work); err != nil || r.Open != 1 || tr.gone(tk.ID()) {
		t.Errorf("Restore(work) once the name is free = %+v, %v", r, err)
	}
}

func testListVersions(t *testing.T, s stores) {
	ctx := context.Background()
	tr := newTree(t, s)
	id := tr.list("Versioned")
	other := tr.list("Other")
	noop := func(*list.List) error { return nil }
	for name, op := range map[string]func(v list.Version) error{
		"Update": func(v list.Version) error { _, err := s.lists.Update(ctx, tr.owner, tr.owner, id, v, noop); return err },
		"Move": func(v list.Version) error {
			_, err := s.lists.Move(ctx, tr.owner, id, v, list.Anchor{After: &other}, tr.now())
			return err
		},
		"Trash":  func(v list.Version) error { return s.lists.Trash(ctx, tr.owner, id, v, tr.now()) },
		"Delete": func(v list.Version) error { return s.lists.Delete(ctx, tr.owner, id, v) },
	} {
		cur := tr.summary(id).List.Version()
		err := op(cur + 5)
		var ce *list.ConflictError
		if !errors.As(err, &ce) || ce.Current.List.Version() != cur || ce.Current.List.ID() != id {
			t.Errorf("%s(stale version) = %v, want a ConflictError at version %d", name, err, cur)
		}
		if name == "Trash" || name == "Delete" {
			continue
		}
		if err := op(cur); err != nil {
			t.Errorf("%s(current version) = %v", name, err)
		}
		if got := tr.summary(id).List.Version(); got != cur+1 {
			t.Errorf("%s: version %d, want %d", name, got, cur+1)
		}
	}
	// Trash and restore keep the version.
	v := tr.summary(id).List.Version()
	if err := s.lists.Trash(ctx, tr.owner, id, v, tr.now()); err != nil {
		t.Fatal(err)
	}
	if r, err := s.lists.Restore(ctx, tr.owner, id); err != nil || r.List.Version() != v {
		t.Errorf("Restore = %v, %v; want version %d", r.List, err, v)
	}
}

func testListMoves(t *testing.T, s stores) {
	ctx := context.Background()
	tr := newTree(t, s)
	a, b, c, d := tr.list("A"), tr.list("B"), tr.list("C"), tr.list("D")
	order := func() []list.ID {
		all, err := s.lists.List(ctx, tr.owner)
		if err != nil {
			t.Fatal(err)
		}
		var out []list.ID
		for _, l := range all {
			out = append(out, l.List.ID())
		}
		return out
	}
	mv := func(id list.ID, an list.Anchor) list.Summary {
		t.Helper()
		got, err := s.lists.Move(ctx, tr.owner, id, list.AnyVersion, an, tr.now())
		if err != nil {
			t.Fatalf("Move(%d, %+v) = %v", id, an, err)
		}
		return got
	}
	keyB := tr.summary(b).List.Position()
	moved := mv(d, list.Anchor{})
	if got := order(); !slices.Equal(got, []list.ID{d, a, b, c}) || moved.List.Version() != 2 {
		t.Errorf("D to the top: %v (version %d)", got, moved.List.Version())
	}
	mv(a, list.Anchor{After: &c})
	if got := order(); !slices.Equal(got, []list.ID{d, b, c, a}) {
		t.Errorf("A after C: %v", got)
	}
	mv(c, list.Anchor{Before: &d})
	if got := order(); !slices.Equal(got, []list.ID{c, d, b, a}) {
		t.Errorf("C before D: %v", got)
	}
	if tr.summary(b).List.Position() != keyB {
		t.Errorf("moving other lists changed B's key")
	}
	// A trashed list keeps its key; the next one created goes last.
	if err := s.lists.Trash(ctx, tr.owner, d, list.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	e := tr.list("E")
	if got := order(); !slices.Equal(got, []list.ID{c, b, a, e}) {
		t.Errorf("after trashing D and adding E: %v", got)
	}
	if _, err := s.lists.Restore(ctx, tr.owner, d); err != nil {
		t.Fatal(err)
	}
	if got := order(); !slices.Equal(got, []list.ID{c, d, b, a, e}) {
		t.Errorf("D restored in its place: %v", got)
	}
	if _, err := s.lists.Move(ctx, tr.owner, a, list.AnyVersion, list.Anchor{After: &a}, tr.now()); err == nil {
		t.Errorf("Move(after itself) = nil, want a refusal")
	}
	otherList, _ := list.New(newOwner(), "X", nil, tr.now())
	ol, _ := s.lists.Add(ctx, otherList)
	oid := ol.List.ID()
	if _, err := s.lists.Move(ctx, tr.owner, a, list.AnyVersion, list.Anchor{Before: &oid}, tr.now()); !errors.Is(err, list.ErrNotFound) {
		t.Errorf("Move(before another owner's list) = %v, want ErrNotFound", err)
	}
	if _, err := s.lists.Move(ctx, tr.owner, a, list.AnyVersion, list.Anchor{After: &b, Before: &c}, tr.now()); err == nil {
		t.Errorf("Move(after and before) = nil")
	}
	// Many moves to the same gap: keys grow, then the lists are rebalanced,
	// in the same order, with short keys.
	for i := range 400 {
		id := []list.ID{a, e}[i%2]
		mv(id, list.Anchor{After: &c})
	}
	got := order()
	if !slices.Equal(got, []list.ID{c, a, e, d, b}) && !slices.Equal(got, []list.ID{c, e, a, d, b}) {
		t.Errorf("after 400 moves after C: %v", got)
	}
	all, _ := s.lists.List(ctx, tr.owner)
	for _, l := range all {
		if k := l.List.Position(); len(k) > position.RebalanceLen {
			t.Errorf("list %d has a %d-character key after the rebalance: %q", l.List.ID(), len(k), k)
		}
	}
}

func testListCounts(t *testing.T, s stores) {
	ctx := context.Background()
	tr := newTree(t, s)
	a, b := tr.list("A"), tr.list("B")
	check := func(step string) {
		t.Helper()
		for _, id := range []list.ID{a, b} {
			tasks := mustList(t, s.tasks, tr.owner, task.Query{List: &id})
			open, done := 0, 0
			for _, tk := range tasks {
				if tk.Completed() {
					done++
				} else {
					open++
				}
			}
			got := tr.summary(id)
			if got.Open != open || got.Completed != done {
				t.Errorf("%s: list %d counts %d open, %d completed; its tasks: %d, %d", step, id, got.Open, got.Completed, open, done)
			}
			all, _ := s.lists.List(ctx, tr.owner)
			for _, l := range all {
				if l.List.ID() == id && (l.Open != open || l.Completed != done) {
					t.Errorf("%s: List() counts list %d %d/%d, want %d/%d", step, id, l.Open, l.Completed, open, done)
				}
			}
			stats, err := s.tasks.Stats(ctx, tr.owner, task.Moment{Now: base}, &id)
			if err != nil || stats.Pending != open || stats.Completed != done {
				t.Errorf("%s: Stats(list %d) = %+v, %v", step, id, stats, err)
			}
		}
	}
	p := tr.add("p", &a, nil)
	c1 := tr.add("c1", &a, tid(p.ID()))
	tr.add("c2", &a, tid(c1.ID()))
	x := tr.add("x", &b, nil)
	inbox := tr.add("inbox", nil, nil)
	check("created")
	done := func(tk *task.Task) error { tk.SetCompleted(true, tr.now()); return nil }
	if _, err := s.tasks.Update(ctx, tr.owner, c1.ID(), task.AnyVersion, done); err != nil {
		t.Fatal(err)
	}
	check("a subtask completed (and its own)")
	tr.move([]task.ID{p.ID()}, task.Placement{List: &b, Parent: tid(task.TopLevel)})
	check("a subtree moved to B")
	if err := s.tasks.Trash(ctx, tr.owner, c1.ID(), task.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	check("a subtree trashed")
	if _, err := s.tasks.RestoreFromTrash(ctx, tr.owner, c1.ID()); err != nil {
		t.Fatal(err)
	}
	check("restored")
	if _, err := s.tasks.UpdateAll(ctx, tr.owner, []task.ID{x.ID(), p.ID()}, done); err != nil {
		t.Fatal(err)
	}
	check("two completed at once")
	if err := s.tasks.Delete(ctx, tr.owner, p.ID(), task.AnyVersion); err != nil {
		t.Fatal(err)
	}
	check("a subtree deleted for good")
	tr.move([]task.ID{inbox.ID()}, task.Placement{List: &a})
	if err := s.lists.Trash(ctx, tr.owner, b, list.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.lists.Restore(ctx, tr.owner, b); err != nil {
		t.Fatal(err)
	}
	check("a list trashed and restored")
	stats, err := s.tasks.Stats(ctx, tr.owner, task.Moment{Now: base}, lid(list.Inbox))
	if err != nil || stats.Total != 0 {
		t.Errorf("Stats(inbox) = %+v, %v; want none left in the inbox", stats, err)
	}
}

func testListTrash(t *testing.T, s stores) {
	ctx := context.Background()
	tr := newTree(t, s)
	l, other := tr.list("L"), tr.list("Other")
	a := tr.add("a", &l, nil)
	b := tr.add("b", &l, tid(a.ID()))
	c := tr.add("c", &l, nil)
	keep := tr.add("other list", &other, nil)
	if err := s.tasks.Trash(ctx, tr.owner, c.ID(), task.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	if err := s.lists.Trash(ctx, tr.owner, l, list.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.lists.Get(ctx, tr.owner, l); !errors.Is(err, list.ErrNotFound) {
		t.Errorf("Get(trashed list) = %v", err)
	}
	if got := tr.trashed(); !slices.Equal(got, sortedIDs(a.ID(), b.ID(), c.ID())) || tr.gone(keep.ID()) {
		t.Errorf("trash after deleting the list = %v", got)
	}
	trashedLists, err := s.lists.ListTrash(ctx, tr.owner)
	if err != nil || len(trashedLists) != 1 || trashedLists[0].List.ID() != l || !trashedLists[0].DeletedAt.Equal(tr.at) {
		t.Errorf("lists.ListTrash = %+v, %v", trashedLists, err)
	}
	all, _ := s.lists.List(ctx, tr.owner)
	if len(all) != 1 {
		t.Errorf("List() shows %d lists, want 1", len(all))
	}
	if _, err := tr.tryAdd("into the trash", &l, nil); !errors.Is(err, list.ErrNotFound) {
		t.Errorf("Add(in a trashed list) = %v, want list.ErrNotFound", err)
	}
	if _, err := tr.tryMove([]task.ID{keep.ID()}, task.Placement{List: &l}); !errors.Is(err, list.ErrNotFound) {
		t.Errorf("Move(into a trashed list) = %v, want list.ErrNotFound", err)
	}
	restored, err := s.lists.Restore(ctx, tr.owner, l)
	if err != nil || restored.Open != 2 {
		t.Fatalf("Restore = %+v, %v; want the list back with its 2 tasks", restored, err)
	}
	if tr.gone(a.ID()) || tr.gone(b.ID()) || !tr.gone(c.ID()) {
		t.Errorf("after the restore: a gone %v, b gone %v, c gone %v; want c alone still in the trash",
			tr.gone(a.ID()), tr.gone(b.ID()), tr.gone(c.ID()))
	}
	if got := tr.get(b.ID()); got.Version() != b.Version() || *got.ParentID() != a.ID() {
		t.Errorf("b came back changed: version %d parent %v", got.Version(), got.ParentID())
	}
	if again, err := s.lists.Restore(ctx, tr.owner, l); err != nil || again.List.ID() != l {
		t.Errorf("Restore(live list) = %v, want it as it is", err)
	}
	// Trashed twice: the second restore brings back the second deletion's
	// tasks, not those that stayed in the trash from the first.
	if err := s.lists.Trash(ctx, tr.owner, l, list.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.tasks.RestoreFromTrash(ctx, tr.owner, a.ID()); err != nil { // brings the list back alone
		t.Fatal(err)
	}
	if tr.gone(a.ID()) || tr.gone(b.ID()) {
		t.Errorf("restoring a restores its subtask b, trashed with the list as it was")
	}
	d := tr.add("d", &l, nil)
	if err := s.lists.Trash(ctx, tr.owner, l, list.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.lists.Restore(ctx, tr.owner, l); err != nil {
		t.Fatal(err)
	}
	if tr.gone(a.ID()) || tr.gone(d.ID()) || !tr.gone(c.ID()) {
		t.Errorf("second restore: a, d back and c still trashed, got a gone %v, d gone %v, c gone %v",
			tr.gone(a.ID()), tr.gone(d.ID()), tr.gone(c.ID()))
	}
}

func testListDelete(t *testing.T, s stores) {
	ctx := context.Background()
	tr := newTree(t, s)
	l, trashed := tr.list("L"), tr.list("Trashed")
	a := tr.add("a", &l, nil)
	b := tr.add("b", &l, tid(a.ID()))
	c := tr.add("c", &l, nil)
	x := tr.add("x", &trashed, nil)
	if err := s.tasks.Trash(ctx, tr.owner, c.ID(), task.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	if err := s.lists.Delete(ctx, tr.owner, l, list.AnyVersion); err != nil {
		t.Fatal(err)
	}
	for _, id := range []task.ID{a.ID(), b.ID(), c.ID()} {
		if _, err := s.tasks.RestoreFromTrash(ctx, tr.owner, id); !errors.Is(err, task.ErrNotFound) {
			t.Errorf("task %d of a list deleted for good: RestoreFromTrash = %v, want ErrNotFound", id, err)
		}
	}
	if err := s.lists.Delete(ctx, tr.owner, l, list.AnyVersion); !errors.Is(err, list.ErrNotFound) {
		t.Errorf("Delete again = %v", err)
	}
	// Emptying the trash and the purge take trashed lists, with their tasks.
	if err := s.lists.Trash(ctx, tr.owner, trashed, list.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	if n, err := s.lists.EmptyTrash(ctx, tr.owner); err != nil || n != 1 {
		t.Errorf("lists.EmptyTrash = %d, %v; want 1", n, err)
	}
	if _, err := s.tasks.RestoreFromTrash(ctx, tr.owner, x.ID()); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("task of an emptied list = %v", err)
	}
	old := tr.list("Old")
	y := tr.add("y", &old, nil)
	if err := s.lists.Trash(ctx, tr.owner, old, list.AnyVersion, base.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.lists.PurgeTrash(ctx, base, 1000); err != nil || n < 1 {
		t.Errorf("lists.PurgeTrash = %d, %v", n, err)
	}
	if _, err := s.lists.Restore(ctx, tr.owner, old); !errors.Is(err, list.ErrNotFound) {
		t.Errorf("Restore(purged list) = %v", err)
	}
	if _, err := s.tasks.RestoreFromTrash(ctx, tr.owner, y.ID()); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("task of a purged list = %v", err)
	}
}

// testCreatesRacingListTrash creates tasks in a list from 16 goroutines
// while the list goes to the trash: each create either fails (list not
// found) or its task went to the trash with the list, never live in a
// trashed list; restoring the list brings back every task created.
func testCreatesRacingListTrash(t *testing.T, s stores) {
	ctx := context.Background()
	tr := newTree(t, s)
	l := tr.list("Racing")
	var (
		mu      sync.Mutex
		created []task.ID
		wg      sync.WaitGroup
	)
	start := make(chan struct{})
	for w := range 16 {
		wg.Go(func() {
			<-start
			for i := range 6 {
				tk, err := task.New(tr.owner, fmt.Sprint(w, "/", i), nil, base, task.InList(&l))
				if err != nil {
					t.Error(err)
					return
				}
				got, err := s.tasks.Add(ctx, tk)
				switch {
				case errors.Is(err, list.ErrNotFound):
				case err != nil:
					t.Errorf("Add = %v", err)
				default:
					mu.Lock()
					created = append(created, got.ID())
					mu.Unlock()
				}
			}
		})
	}
	close(start)
	if err := s.lists.Trash(ctx, tr.owner, l, list.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for _, id := range created {
		if !tr.gone(id) {
			t.Errorf("task %d was created live in a list that is in the trash", id)
		}
	}
	got, err := s.lists.Restore(ctx, tr.owner, l)
	if err != nil || got.Open != len(created) {
		t.Fatalf("Restore = %d open tasks, %v; want the %d created", got.Open, err, len(created))
	}
	for _, id := range created {
		if tr.gone(id) {
			t.Errorf("task %d did not come back with its list", id)
		}
	}
}

func testAddPlaced(t *testing.T, s stores) {
	ctx := context.Background()
	tr := newTree(t, s)
	l, m := tr.list("L"), tr.list("M")
	a := tr.add("a", &l, nil)
	if a.Scope() != (task.Scope{List: l}) || a.Position() != position.Implicit(int64(a.ID())) {
		t.Errorf("Add(in L) = %v %q", a.Scope(), a.Position())
	}
	b := tr.add("b", &l, tid(a.ID()))
	if got := tr.get(b.ID()); got.Scope() != (task.Scope{List: l, Parent: a.ID()}) {
		t.Errorf("Get(subtask) scope = %v", got.Scope())
	}
	// New tasks go to the bottom of their scope, even below moved ones.
	c := tr.add("c", &l, nil)
	tr.move([]task.ID{c.ID()}, task.Placement{})
	d := tr.add("d", &l, nil)
	if got := tr.scopeIDs(task.Scope{List: l}); !slices.Equal(got, []task.ID{c.ID(), a.ID(), d.ID()}) {
		t.Errorf("list L's top level = %v, want c (moved to the top), a, d (new, last)", got)
	}
	otherOwnersList, _ := list.New(newOwner(), "X", nil, tr.now())
	ol, _ := s.lists.Add(ctx, otherOwnersList)
	for name, tc := range map[string]struct {
		l      *list.ID
		parent *task.ID
		want   error
	}{
		"another owner's list": {lid(ol.List.ID()), nil, list.ErrNotFound},
		"no such list":         {lid(1 << 60), nil, list.ErrNotFound},
		"no such parent":       {&l, tid(1 << 60), task.ErrNotFound},
	} {
		if _, err := tr.tryAdd(name, tc.l, tc.parent); !errors.Is(err, tc.want) {
			t.Errorf("Add(%s) = %v, want %v", name, err, tc.want)
		}
	}
	stranger := mustAdd(t, s.tasks, mustNew(t, newOwner(), "stranger", nil, base))
	if _, err := tr.tryAdd("under a stranger", nil, tid(stranger.ID())); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Add(under another owner's task) = %v, want ErrNotFound", err)
	}
	_, err := tr.tryAdd("in M under a", &m, tid(a.ID()))
	wantProblem(t, "Add(in M under a task of L)", err, "list_id", "parent's list")
	if err := s.tasks.Trash(ctx, tr.owner, d.ID(), task.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.tryAdd("under a trashed task", &l, tid(d.ID())); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Add(under a trashed task) = %v, want ErrNotFound", err)
	}
	// A batch is all or none.
	good, _ := task.New(tr.owner, "good", nil, tr.now(), task.InList(&l))
	bad, _ := task.New(tr.owner, "bad", nil, tr.now(), task.InList(lid(ol.List.ID())))
	if _, err := s.tasks.AddAll(ctx, []*task.Task{good, bad}); !errors.Is(err, list.ErrNotFound) {
		t.Errorf("AddAll(one in another owner's list) = %v, want list.ErrNotFound", err)
	}
	if n := tr.summary(l).Open; n != 3 {
		t.Errorf("list L has %d open tasks after a refused batch, want 3 (a, b, c)", n)
	}
	under, _ := task.New(tr.owner, "under b", nil, tr.now(), task.InList(&l), task.Under(tid(b.ID())), task.WithTags([]string{"x"}))
	got, err := s.tasks.AddAll(ctx, []*task.Task{good, under})
	if err != nil || got[1].Scope() != (task.Scope{List: l, Parent: b.ID()}) || !slices.Equal(got[1].Tags(), []string{"x"}) {
		t.Errorf("AddAll(in L, under b) = %v, %v", got, err)
	}
}

func testDepthAndCycles(t *testing.T, s stores) {
	tr := newTree(t, s)
	l := tr.list("L")
	l1 := tr.add("level 1", &l, nil)
	l2 := tr.add("level 2", &l, tid(l1.ID()))
	l3 := tr.add("level 3", &l, tid(l2.ID()))
	l4 := tr.add("level 4", &l, tid(l3.ID()))
	_, err := tr.tryAdd("level 5", &l, tid(l4.ID()))
	wantProblem(t, "Add(under level 4)", err, "parent_id", "exceed 4 levels")

	x := tr.add("x", &l, nil)
	tr.add("x's child", &l, tid(x.ID()))
	_, err = tr.tryMove([]task.ID{x.ID()}, task.Placement{Parent: tid(l3.ID())})
	wantProblem(t, "Move(a two-level subtree under level 3)", err, "parent_id", "exceed 4 levels")
	tr.move([]task.ID{x.ID()}, task.Placement{Parent: tid(l2.ID())}) // levels 3 and 4: fine
	_, err = tr.tryMove([]task.ID{l1.ID()}, task.Placement{Parent: tid(l3.ID())})
	wantProblem(t, "Move(under its own subtask)", err, "parent_id", "cycle")
	_, err = tr.tryMove([]task.ID{l2.ID()}, task.Placement{Parent: tid(l2.ID())})
	wantProblem(t, "Move(under itself)", err, "parent_id", "cycle")
	// A subtask in the trash counts: it would come back under its parent.
	y := tr.add("y", &l, nil)
	yc := tr.add("y's child", &l, tid(y.ID()))
	if err := s.tasks.Trash(context.Background(), tr.owner, yc.ID(), task.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	_, err = tr.tryMove([]task.ID{y.ID()}, task.Placement{Parent: tid(l3.ID())})
	wantProblem(t, "Move(a task with a trashed subtask under level 3)", err, "parent_id", "exceed 4 levels")
	// Nothing moved.
	if got := tr.get(l1.ID()); got.ParentID() != nil || got.Version() != l1.Version() {
		t.Errorf("a refused move changed level 1: parent %v version %d", got.ParentID(), got.Version())
	}
}

func testCompleteCascade(t *testing.T, s stores) {
	ctx := context.Background()
	tr := newTree(t, s)
	p := tr.add("p", nil, nil)
	c1 := tr.add("c1", nil, tid(p.ID()))
	c2 := tr.add("c2", nil, tid(p.ID()))
	g := tr.add("g", nil, tid(c1.ID()))
	other := tr.add("other", nil, nil)
	done := func(tk *task.Task) error { tk.SetCompleted(true, tr.now()); return nil }
	undo := func(tk *task.Task) error { tk.SetCompleted(false, tr.now()); return nil }
	c2d, err := s.tasks.Update(ctx, tr.owner, c2.ID(), task.AnyVersion, done)
	if err != nil {
		t.Fatal(err)
	}
	pd, err := s.tasks.Update(ctx, tr.owner, p.ID(), task.AnyVersion, done)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		tk      *task.Task
		version task.Version
	}{{c1, c1.Version() + 1}, {g, g.Version() + 1}, {c2, c2d.Version()}, {other, other.Version()}} {
		got := tr.get(want.tk.ID())
		if got.Completed() != (want.tk.ID() != other.ID()) || got.Version() != want.version {
			t.Errorf("task %q after completing p: completed %v version %d, want version %d", want.tk.Title(), got.Completed(), got.Version(), want.version)
		}
	}
	if got := tr.get(g.ID()); !got.CompletedAt().Equal(pd.UpdatedAt()) || got.UpdatedAt().Before(pd.UpdatedAt()) {
		t.Errorf("g completed at %v (updated %v), want at p's update %v", got.CompletedAt(), got.UpdatedAt(), pd.UpdatedAt())
	}
	if got := tr.get(c2.ID()); !got.CompletedAt().Equal(*c2d.CompletedAt()) {
		t.Errorf("c2, completed before, changed its completion time")
	}
	// Reopening p reopens none; reopening g alone, then completing p
	// again (through a bulk change), completes g again.
	if _, err := s.tasks.Update(ctx, tr.owner, p.ID(), task.AnyVersion, undo); err != nil {
		t.Fatal(err)
	}
	if !tr.get(c1.ID()).Completed() || !tr.get(g.ID()).Completed() {
		t.Errorf("reopening p reopened its subtasks")
	}
	if _, err := s.tasks.Update(ctx, tr.owner, g.ID(), task.AnyVersion, undo); err != nil {
		t.Fatal(err)
	}
	if _, err := s.tasks.UpdateAll(ctx, tr.owner, []task.ID{other.ID(), p.ID()}, done); err != nil {
		t.Fatal(err)
	}
	if !tr.get(g.ID()).Completed() {
		t.Errorf("completing p in a bulk change left g, reopened under a completed c1, open")
	}
	// A move that completes (PATCH with a list and completed) cascades too.
	q := tr.add("q", nil, nil)
	qc := tr.add("qc", nil, tid(q.ID()))
	l := tr.list("L")
	moved, err := s.tasks.Move(ctx, tr.owner, task.Move{IDs: []task.ID{q.ID()}, At: tr.now(), Edit: done,
		To: task.Placement{List: &l, Parent: tid(task.TopLevel), Bottom: true, OnlyIfListChanges: true}})
	if err != nil || !moved[0].Completed() || moved[0].Version() != q.Version()+1 {
		t.Fatalf("Move(with an edit completing it) = %v, %v", moved, err)
	}
	if got := tr.get(qc.ID()); !got.Completed() || got.Scope().List != l || got.Version() != qc.Version()+1 {
		t.Errorf("qc after its parent moved and completed: completed %v, %v, version %d; want one write", got.Completed(), got.Scope(), got.Version())
	}
}

func testTrashCascade(t *testing.T, s stores) {
	ctx := context.Background()
	tr := newTree(t, s)
	p := tr.add("p", nil, nil)
	c := tr.add("c", nil, tid(p.ID()))
	g := tr.add("g", nil, tid(c.ID()))
	d := tr.add("d", nil, tid(p.ID()))
	if err := s.tasks.Trash(ctx, tr.owner, d.ID(), task.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	if err := s.tasks.Trash(ctx, tr.owner, p.ID(), task.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	if got := tr.trashed(); !slices.Equal(got, sortedIDs(p.ID(), c.ID(), g.ID(), d.ID())) {
		t.Errorf("trash = %v", got)
	}
	got, err := s.tasks.RestoreFromTrash(ctx, tr.owner, p.ID())
	if err != nil || got.Version() != p.Version() {
		t.Fatalf("RestoreFromTrash(p) = %v, %v", got, err)
	}
	if tr.gone(c.ID()) || tr.gone(g.ID()) || !tr.gone(d.ID()) {
		t.Errorf("restoring p: c, g back and d (trashed before) not; got c %v g %v d %v gone",
			tr.gone(c.ID()), tr.gone(g.ID()), tr.gone(d.ID()))
	}
	if tr.get(g.ID()).Version() != g.Version() {
		t.Errorf("g came back at another version")
	}
	// A bulk trash of a task and its subtask: each on its own.
	if n, err := s.tasks.TrashAll(ctx, tr.owner, []task.ID{c.ID(), p.ID()}, tr.now()); err != nil || n != 3 {
		t.Errorf("TrashAll(c, p) = %d, %v; want 3 tasks (g with c)", n, err)
	}
	if _, err := s.tasks.RestoreFromTrash(ctx, tr.owner, p.ID()); err != nil {
		t.Fatal(err)
	}
	if !tr.gone(c.ID()) || !tr.gone(g.ID()) {
		t.Errorf("restoring p brought back c, which was selected for deletion itself")
	}
	if _, err := s.tasks.RestoreFromTrash(ctx, tr.owner, c.ID()); err != nil {
		t.Fatal(err)
	}
	if tr.gone(c.ID()) || tr.gone(g.ID()) {
		t.Errorf("restoring c brought back not c and g")
	}
	// Clearing the completed takes their subtrees, open subtasks included.
	done := func(tk *task.Task) error { tk.SetCompleted(true, tr.now()); return nil }
	if _, err := s.tasks.Update(ctx, tr.owner, c.ID(), task.AnyVersion, done); err != nil {
		t.Fatal(err)
	}
	if _, err := s.tasks.Update(ctx, tr.owner, g.ID(), task.AnyVersion, func(tk *task.Task) error {
		tk.SetCompleted(false, tr.now())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.tasks.TrashCompleted(ctx, tr.owner, tr.now()); err != nil || n != 2 {
		t.Errorf("TrashCompleted = %d, %v; want c and its open g", n, err)
	}
	if tr.gone(p.ID()) || !tr.gone(g.ID()) {
		t.Errorf("TrashCompleted: p (open) gone %v, g (open, under completed c) gone %v", tr.gone(p.ID()), tr.gone(g.ID()))
	}
	if _, err := s.tasks.RestoreFromTrash(ctx, tr.owner, c.ID()); err != nil || tr.gone(g.ID()) {
		t.Errorf("RestoreFromTrash(c) = %v, g gone %v", err, tr.gone(g.ID()))
	}
}

func testRestoreHome(t *testing.T, s stores) {
	ctx := context.Background()
	tr := newTree(t, s)
	l := tr.list("L")
	p := tr.add("p", &l, nil)
	c := tr.add("c", &l, tid(p.ID()))
	e := tr.add("e", &l, tid(p.ID()))
	g := tr.add("g", &l, tid(c.ID()))
	other := tr.add("other", &l, nil)
	if err := s.tasks.Trash(ctx, tr.owner, p.ID(), task.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.tasks.RestoreFromTrash(ctx, tr.owner, c.ID()); err != nil {
		t.Fatal(err)
	}
	if tr.gone(c.ID()) || tr.gone(g.ID()) || tr.gone(p.ID()) || !tr.gone(e.ID()) {
		t.Errorf("restoring c: want c, g and its parent p back, e still trashed; gone c %v g %v p %v e %v",
			tr.gone(c.ID()), tr.gone(g.ID()), tr.gone(p.ID()), tr.gone(e.ID()))
	}
	if _, err := s.tasks.RestoreFromTrash(ctx, tr.owner, e.ID()); err != nil || tr.gone(e.ID()) {
		t.Errorf("RestoreFromTrash(e) = %v", err)
	}
	// A task of a trashed list brings the list back, alone.
	if err := s.lists.Trash(ctx, tr.owner, l, list.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.tasks.RestoreFromTrash(ctx, tr.owner, g.ID()); err != nil {
		t.Fatal(err)
	}
	if got := tr.summary(l); got.Open != 3 {
		t.Errorf("list restored with %d open tasks, want g, c, p (its ancestors)", got.Open)
	}
	if tr.gone(g.ID()) || tr.gone(c.ID()) || tr.gone(p.ID()) || !tr.gone(e.ID()) || !tr.gone(other.ID()) {
		t.Errorf("restoring g of a trashed list: want g, c, p back, e and other still trashed")
	}
	// Restoring a live task returns it; an unknown one is not found.
	if got, err := s.tasks.RestoreFromTrash(ctx, tr.owner, p.ID()); err != nil || got.ID() != p.ID() {
		t.Errorf("RestoreFromTrash(live) = %v, %v", got, err)
	}
}

func testDeleteSubtree(t *testing.T, s stores) {
	ctx := context.Background()
	tr := newTree(t, s)
	p := tr.add("p", nil, nil)
	c := tr.add("c", nil, tid(p.ID()))
	g := tr.add("g", nil, tid(c.ID()))
	d := tr.add("d", nil, tid(p.ID()))
	keep := tr.add("keep", nil, nil)
	if err := s.tasks.Trash(ctx, tr.owner, d.ID(), task.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	if err := s.tasks.Delete(ctx, tr.owner, p.ID(), task.AnyVersion); err != nil {
		t.Fatal(err)
	}
	for _, id := range []task.ID{p.ID(), c.ID(), g.ID(), d.ID()} {
		if _, err := s.tasks.RestoreFromTrash(ctx, tr.owner, id); !errors.Is(err, task.ErrNotFound) {
			t.Errorf("task %d of a subtree deleted for good: %v", id, err)
		}
	}
	if tr.gone(keep.ID()) {
		t.Errorf("deleting p deleted an unrelated task")
	}
	// Emptying the trash takes subtrees in the trash; the purge too.
	q := tr.add("q", nil, nil)
	tr.add("q's child", nil, tid(q.ID()))
	if err := s.tasks.Trash(ctx, tr.owner, q.ID(), task.AnyVersion, base.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	// The count may leave out a subtask removed with its parent (SQLite's
	// cascade deletes it before the purge's own scan reaches it).
	if n, err := s.tasks.PurgeTrash(ctx, base, 1000); err != nil || n < 1 {
		t.Errorf("PurgeTrash = %d, %v; want q at least", n, err)
	}
	if got := tr.trashed(); len(got) != 0 {
		t.Errorf("trash after the purge = %v", got)
	}
}

func testMoves(t *testing.T, s stores) {
	tr := newTree(t, s)
	l := tr.list("L")
	sc := task.Scope{List: l}
	var ts []*task.Task
	for i := range 5 {
		ts = append(ts, tr.add(fmt.Sprint(i), &l, nil))
	}
	id := func(i int) task.ID { return ts[i].ID() }
	keys := func() map[task.ID]string {
		out := map[task.ID]string{}
		for _, tk := range tr.scope(sc) {
			out[tk.ID()] = tk.Position()
		}
		return out
	}
	before := keys()
	m := tr.move([]task.ID{id(3)}, task.Placement{})
	if got := tr.scopeIDs(sc); !slices.Equal(got, []task.ID{id(3), id(0), id(1), id(2), id(4)}) {
		t.Errorf("3 to the top: %v", got)
	}
	if m[0].Version() != ts[3].Version()+1 || !m[0].UpdatedAt().After(ts[3].UpdatedAt()) || m[0].Title() != "3" {
		t.Errorf("moved task: version %d updated %v", m[0].Version(), m[0].UpdatedAt())
	}
	if got := tr.get(id(3)); got.Position() != m[0].Position() || got.Version() != m[0].Version() {
		t.Errorf("Get(moved) = key %q v%d, want what Move returned: %q v%d", got.Position(), got.Version(), m[0].Position(), m[0].Version())
	}
	tr.move([]task.ID{id(0)}, task.Placement{After: tid(id(4))})
	tr.move([]task.ID{id(4)}, task.Placement{Before: tid(id(1))})
	tr.move([]task.ID{id(2)}, task.Placement{After: tid(id(3))})
	want := []task.ID{id(3), id(2), id(4), id(1), id(0)}
	if got := tr.scopeIDs(sc); !slices.Equal(got, want) {
		t.Errorf("after the moves: %v, want %v", got, want)
	}
	after := keys()
	for _, i := range []int{1} { // never moved: never renumbered
		if after[id(i)] != before[id(i)] {
			t.Errorf("task %d's key changed from %q to %q though it never moved", i, before[id(i)], after[id(i)])
		}
	}
	for _, tk := range tr.scope(sc) {
		if tk.Version() != tr.get(tk.ID()).Version() {
			t.Errorf("list and get disagree on task %d", tk.ID())
		}
	}
	// A move within the scope to where it is already is still a write.
	again := tr.move([]task.ID{id(1)}, task.Placement{After: tid(id(4))})
	if got := tr.scopeIDs(sc); !slices.Equal(got, want) || again[0].Version() != ts[1].Version()+1 {
		t.Errorf("1 after 4 (where it was): %v, version %d", got, again[0].Version())
	}
	// With a version: a stale one is a conflict, nothing moved.
	_, err := tr.s.tasks.Move(context.Background(), tr.owner, task.Move{IDs: []task.ID{id(0)}, Expect: 1, At: tr.now()})
	var ce *task.ConflictError
	if !errors.As(err, &ce) || ce.Current.ID() != id(0) || !slices.Equal(tr.scopeIDs(sc), want) {
		t.Errorf("Move(stale version) = %v", err)
	}
	// The bottom, and a new task after it.
	tr.move([]task.ID{id(3)}, task.Placement{Bottom: true})
	n := tr.add("new", &l, nil)
	if got := tr.scopeIDs(sc); !slices.Equal(got, []task.ID{id(2), id(4), id(1), id(0), id(3), n.ID()}) {
		t.Errorf("3 to the bottom, then a new task: %v", got)
	}
}

func testBulkMoves(t *testing.T, s stores) {
	tr := newTree(t, s)
	l, m := tr.list("L"), tr.list("M")
	var ts []task.ID
	for i := range 6 {
		ts = append(ts, tr.add(fmt.Sprint(i), &l, nil).ID())
	}
	got := tr.move([]task.ID{ts[4], ts[1], ts[4], ts[5]}, task.Placement{After: tid(ts[0])})
	if len(got) != 3 || got[0].ID() != ts[4] || got[1].ID() != ts[1] || got[2].ID() != ts[5] {
		t.Errorf("Move returned %v, want 4, 1, 5 (duplicates once)", ids(got))
	}
	want := []task.ID{ts[0], ts[4], ts[1], ts[5], ts[2], ts[3]}
	if order := tr.scopeIDs(task.Scope{List: l}); !slices.Equal(order, want) {
		t.Errorf("4, 1, 5 after 0: %v, want %v", order, want)
	}
	// To another list's top level, before one of its tasks.
	x := tr.add("x", &m, nil)
	tr.move([]task.ID{ts[3], ts[0]}, task.Placement{List: &m, Before: tid(x.ID())})
	if order := tr.scopeIDs(task.Scope{List: m}); !slices.Equal(order, []task.ID{ts[3], ts[0], x.ID()}) {
		t.Errorf("3, 0 before x in M: %v", order)
	}
	// All or none: one id that is not the owner's.
	stranger := mustAdd(t, s.tasks, mustNew(t, newOwner(), "stranger", nil, base))
	if _, err := tr.tryMove([]task.ID{ts[2], stranger.ID()}, task.Placement{}); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Move(with another owner's task) = %v, want ErrNotFound", err)
	}
	if order := tr.scopeIDs(task.Scope{List: l}); !slices.Equal(order, []task.ID{ts[4], ts[1], ts[5], ts[2]}) {
		t.Errorf("a refused bulk move changed list L: %v", order)
	}
	// Tasks of different scopes need a parent (or list) to meet.
	y := tr.add("y", &l, tid(ts[2]))
	_, err := tr.tryMove([]task.ID{ts[4], y.ID()}, task.Placement{})
	wantProblem(t, "Move(a top-level task and a subtask, parents kept)", err, "ids", "different")
	tr.move([]task.ID{ts[4], y.ID()}, task.Placement{Parent: tid(ts[1])})
	if order := tr.scopeIDs(task.Scope{List: l, Parent: ts[1]}); !slices.Equal(order, []task.ID{ts[4], y.ID()}) {
		t.Errorf("4 and y under 1: %v", order)
	}
}

func testMoveToList(t *testing.T, s stores) {
	ctx := context.Background()
	tr := newTree(t, s)
	l1, l2 := tr.list("L1"), tr.list("L2")
	p := tr.add("p", &l1, nil)
	c := tr.add("c", &l1, tid(p.ID()))
	g := tr.add("g", &l1, tid(c.ID()))
	gt := tr.add("trashed", &l1, tid(c.ID()))
	if err := s.tasks.Trash(ctx, tr.owner, gt.ID(), task.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	cKey := tr.get(c.ID()).Position()
	_, err := tr.tryMove([]task.ID{c.ID()}, task.Placement{List: &l2})
	wantProblem(t, "Move(a subtask to another list, parent kept)", err, "parent_id", "give parent_id")
	moved := tr.move([]task.ID{p.ID()}, task.Placement{List: &l2, Parent: tid(task.TopLevel)})
	if moved[0].Scope() != (task.Scope{List: l2}) {
		t.Errorf("p moved to %v", moved[0].Scope())
	}
	for _, sub := range []*task.Task{c, g} {
		got := tr.get(sub.ID())
		if got.Scope().List != l2 || *got.ParentID() != *sub.ParentID() || got.Version() != sub.Version()+1 {
			t.Errorf("subtask %q: %v version %d; want in L2 under its parent, one version up", sub.Title(), got.Scope(), got.Version())
		}
	}
	if got := tr.get(c.ID()).Position(); got != cKey {
		t.Errorf("c's key among its siblings changed: %q -> %q", cKey, got)
	}
	if got := tr.summary(l1); got.Open != 0 {
		t.Errorf("L1 counts %d open tasks after its subtree left", got.Open)
	}
	restored, err := s.tasks.RestoreFromTrash(ctx, tr.owner, gt.ID())
	if err != nil || restored.Scope() != (task.Scope{List: l2, Parent: c.ID()}) || restored.Version() != gt.Version() {
		t.Errorf("the trashed subtask restored to %v (version %d), %v; want under c in L2, unchanged", restored.Scope(), restored.Version(), err)
	}
	// A subtask to the top level of another list.
	tr.move([]task.ID{g.ID()}, task.Placement{List: &l1, Parent: tid(task.TopLevel)})
	if got := tr.get(g.ID()); got.Scope() != (task.Scope{List: l1}) {
		t.Errorf("g moved to %v, want L1's top level", got.Scope())
	}
	// The inbox; and the move a PATCH of list_id makes: the bottom of the
	// list's top level, or nowhere when the list is the same.
	tr.move([]task.ID{p.ID()}, task.Placement{List: lid(list.Inbox)})
	if got := tr.get(c.ID()); got.ListID() != nil {
		t.Errorf("c in %v, want the inbox with p", got.ListID())
	}
	patch := task.Placement{List: &l1, Parent: tid(task.TopLevel), Bottom: true, OnlyIfListChanges: true}
	tr.move([]task.ID{c.ID()}, patch)
	if order := tr.scopeIDs(task.Scope{List: l1}); !slices.Equal(order, []task.ID{g.ID(), c.ID()}) {
		t.Errorf("c patched into L1: %v, want at the bottom", order)
	}
	before := tr.get(c.ID())
	same := tr.move([]task.ID{c.ID()}, patch)
	if same[0].Version() != before.Version() || same[0].Position() != before.Position() {
		t.Errorf("patching c into its own list moved it")
	}
}

func testMoveRefusals(t *testing.T, s stores) {
	ctx := context.Background()
	tr := newTree(t, s)
	l, m := tr.list("L"), tr.list("M")
	a := tr.add("a", &l, nil)
	b := tr.add("b", &l, nil)
	x := tr.add("x", &m, nil)
	sub := tr.add("sub", &l, tid(a.ID()))
	_, err := tr.tryMove([]task.ID{a.ID()}, task.Placement{After: tid(x.ID())})
	wantProblem(t, "Move(after a task of another list)", err, "after_id", "not at the top level of list")
	_, err = tr.tryMove([]task.ID{a.ID()}, task.Placement{Before: tid(sub.ID())})
	wantProblem(t, "Move(before a subtask, parent kept)", err, "before_id", "not")
	_, err = tr.tryMove([]task.ID{a.ID(), b.ID()}, task.Placement{After: tid(b.ID())})
	wantProblem(t, "Move(after a task moved with it)", err, "after_id", "one of the tasks moved")
	_, err = tr.tryMove([]task.ID{a.ID()}, task.Placement{After: tid(b.ID()), Before: tid(b.ID())})
	wantProblem(t, "Move(after and before)", err, "before_id", "not both")
	_, err = tr.tryMove([]task.ID{b.ID()}, task.Placement{List: &m, Parent: tid(a.ID())})
	wantProblem(t, "Move(into M under a task of L)", err, "parent_id", "parent's list")
	if _, err := tr.tryMove([]task.ID{a.ID()}, task.Placement{After: tid(1 << 60)}); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Move(after no such task) = %v, want ErrNotFound", err)
	}
	if _, err := tr.tryMove([]task.ID{a.ID()}, task.Placement{Parent: tid(1 << 60)}); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Move(under no such task) = %v, want ErrNotFound", err)
	}
	if _, err := tr.tryMove([]task.ID{a.ID()}, task.Placement{List: lid(1 << 60)}); !errors.Is(err, list.ErrNotFound) {
		t.Errorf("Move(to no such list) = %v, want list.ErrNotFound", err)
	}
	if err := s.tasks.Trash(ctx, tr.owner, b.ID(), task.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.tryMove([]task.ID{a.ID()}, task.Placement{After: tid(b.ID())}); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Move(after a trashed task) = %v, want ErrNotFound", err)
	}
	if _, err := tr.tryMove([]task.ID{b.ID()}, task.Placement{}); !errors.Is(err, task.ErrNotFound) {
		t.Errorf("Move(a trashed task) = %v, want ErrNotFound", err)
	}
	if got := tr.get(a.ID()); got.Version() != a.Version() {
		t.Errorf("refused moves wrote a: version %d", got.Version())
	}
}

// testPositionPages holds the stores' list filters and pages by position
// to the domain's reference over the same tasks.
func testPositionPages(t *testing.T, s stores) {
	ctx := context.Background()
	tr := newTree(t, s)
	l := tr.list("L")
	rng := rand.New(rand.NewPCG(7, 8))
	var all []task.ID
	for i := range 30 {
		var parent *task.ID
		home := []*list.ID{nil, &l}[i%2]
		if i >= 10 && i%3 == 0 {
			p := all[rng.IntN(len(all))]
			pt := tr.get(p)
			if pt.ParentID() == nil {
				parent, home = &p, pt.ListID()
			}
		}
		all = append(all, tr.add(fmt.Sprint(i), home, parent).ID())
	}
	for range 20 {
		a := tr.get(all[rng.IntN(len(all))])
		b := tr.get(all[rng.IntN(len(all))])
		if a.ID() != b.ID() && a.Scope() == b.Scope() {
			tr.move([]task.ID{a.ID()}, task.Placement{After: tid(b.ID())})
		}
	}
	if err := s.tasks.Trash(ctx, tr.owner, all[5], task.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	live := mustList(t, s.tasks, tr.owner, task.Query{})
	var queries []task.Query
	for _, lf := range []*list.ID{nil, lid(list.Inbox), &l} {
		for _, pf := range []*task.ID{nil, tid(task.TopLevel), tid(all[0]), tid(all[1])} {
			for _, order := range []task.Order{task.OrderAsc, task.OrderDesc} {
				queries = append(queries, task.Query{List: lf, Parent: pf, Sort: task.SortPosition, Order: order, Limit: 4})
			}
			queries = append(queries, task.Query{List: lf, Parent: pf, Limit: 3}, task.Query{List: lf, Parent: pf, Sort: task.SortTitle})
		}
	}
	for _, q := range queries {
		whole := q
		whole.Limit = 0
		nq, err := whole.Normalized()
		if err != nil {
			t.Fatal(err)
		}
		want := nq.Apply(live)
		what := fmt.Sprintf("list %s parent %s sort %q %q limit %d", deref(q.List), deref(q.Parent), q.Sort, q.Order, q.Limit)
		var got []task.ID
		for page := 0; ; page++ {
			p, err := s.tasks.List(ctx, tr.owner, q)
			if err != nil {
				t.Fatalf("List(%+v) = %v", q, err)
			}
			if p.Total != want.Total {
				t.Errorf("List(%s) page %d total %d, want %d", what, page, p.Total, want.Total)
			}
			got = append(got, ids(p.Tasks)...)
			if p.Next == nil || page > 20 {
				break
			}
			q.After = p.Next
		}
		if w := ids(want.Tasks); !slices.Equal(got, w) {
			t.Errorf("List(%s), page by page = %v, want %v", what, got, w)
		}
	}
}

func deref[T any](p *T) string {
	if p == nil {
		return "none"
	}
	return fmt.Sprint(*p)
}

// testRandomMoves moves tasks of a few scopes at random (single and bulk,
// every kind of anchor, between lists and parents) and after each move
// checks every scope against a model of the order the moves asked for:
// same tasks, same order, distinct keys no longer than position.MaxLen.
func testRandomMoves(t *testing.T, s stores) {
	tr := newTree(t, s)
	rng := rand.New(rand.NewPCG(11, 12))
	l, m := tr.list("L"), tr.list("M")
	order := map[task.Scope][]task.ID{}
	var tops []task.ID
	for i := range 12 {
		home := []*list.ID{&l, &m, nil}[i%3]
		tk := tr.add(fmt.Sprint(i), home, nil)
		order[tk.Scope()] = append(order[tk.Scope()], tk.ID())
		tops = append(tops, tk.ID())
	}
	// Two subtasks under the first task, which stays at the top level.
	for i := range 2 {
		tk := tr.add(fmt.Sprint("sub ", i), &l, tid(tops[0]))
		order[tk.Scope()] = append(order[tk.Scope()], tk.ID())
	}
	where := func(id task.ID) task.Scope {
		for sc, ids := range order {
			if slices.Contains(ids, id) {
				return sc
			}
		}
		t.Fatalf("task %d is in no scope of the model", id)
		return task.Scope{}
	}
	steps := 150
	if testing.Short() {
		steps = 40
	}
	for step := range steps {
		// Leaves only (tops[0] keeps its subtasks where they are), one to
		// three of them, to a random top-level scope of the three lists.
		var moving []task.ID
		for range 1 + rng.IntN(3) {
			id := tops[1+rng.IntN(len(tops)-1)]
			if !slices.Contains(moving, id) {
				moving = append(moving, id)
			}
		}
		target := []task.Scope{{List: l}, {List: m}, {}}[rng.IntN(3)]
		rest := slices.DeleteFunc(slices.Clone(order[target]), func(id task.ID) bool { return slices.Contains(moving, id) })
		p := task.Placement{List: lid(target.List), Parent: tid(task.TopLevel)}
		at := 0 // where in rest the tasks go
		switch k := rng.IntN(4); {
		case k == 0 || len(rest) == 0:
		case k == 1:
			p.Bottom, at = true, len(rest)
		case k == 2:
			i := rng.IntN(len(rest))
			p.After, at = tid(rest[i]), i+1
		default:
			i := rng.IntN(len(rest))
			p.Before, at = tid(rest[i]), i
		}
		tr.move(moving, p)
		for _, id := range moving {
			sc := where(id)
			order[sc] = slices.DeleteFunc(order[sc], func(x task.ID) bool { return x == id })
		}
		order[target] = slices.Insert(rest, at, moving...)
		for sc, want := range order {
			got := tr.scope(sc)
			if !slices.Equal(ids(got), want) {
				t.Fatalf("step %d (move %v %+v): scope %v is %v, want %v", step, moving, p, sc, ids(got), want)
			}
			seen := map[string]bool{}
			for _, tk := range got {
				k := tk.Position()
				if seen[k] || len(k) > position.MaxLen || !position.Valid(k) {
					t.Fatalf("step %d: scope %v has key %q twice, too long or invalid", step, sc, k)
				}
				seen[k] = true
			}
		}
	}
}

// testRebalance drives keys in one gap past position.RebalanceLen and
// checks that the scope is then re-keyed: the order kept, every key short
// and distinct, the tasks in the trash included.
func testRebalance(t *testing.T, s stores) {
	ctx := context.Background()
	tr := newTree(t, s)
	l := tr.list("L")
	sc := task.Scope{List: l}
	var ts []task.ID
	for i := range 6 {
		ts = append(ts, tr.add(fmt.Sprint(i), &l, nil).ID())
	}
	if err := s.tasks.Trash(ctx, tr.owner, ts[5], task.AnyVersion, tr.now()); err != nil {
		t.Fatal(err)
	}
	// x and y alternate into the gap right after task 0: each move halves
	// it, so the keys grow by a digit every few moves.
	x, y := ts[3], ts[4]
	longest, rebalanced := 0, false
	for i := 0; i < 2000 && !rebalanced; i++ {
		moved := tr.move([]task.ID{[]task.ID{x, y}[i%2]}, task.Placement{After: tid(ts[0])})
		k := moved[0].Position()
		if len(k) < longest {
			rebalanced = true
		}
		longest = max(longest, len(k))
	}
	// The move whose key passes the bound returns its rebalanced key, so
	// the longest key seen is the bound's, or a digit or two short of it.
	if !rebalanced || longest > position.RebalanceLen || longest < position.RebalanceLen-4 {
		t.Fatalf("keys grew to %d characters, rebalanced %v; want them to reach about %d, then short", longest, rebalanced, position.RebalanceLen)
	}
	got := tr.scope(sc)
	want := []task.ID{ts[0], x, y, ts[1], ts[2]}
	if ids(got)[1] == y {
		want[1], want[2] = y, x
	}
	if !slices.Equal(ids(got), want) {
		t.Errorf("order after the rebalance: %v, want %v", ids(got), want)
	}
	for i, tk := range got {
		if k := tk.Position(); k != position.Rebalanced(int64(i)) {
			t.Errorf("task %d has key %q after the rebalance, want %q", tk.ID(), k, position.Rebalanced(int64(i)))
		}
	}
	restored, err := s.tasks.RestoreFromTrash(ctx, tr.owner, ts[5])
	if err != nil || restored.Position() != position.Rebalanced(5) {
		t.Errorf("the trashed task restored with key %q, %v; want %q (rebalanced with its scope)", restored.Position(), err, position.Rebalanced(5))
	}
	if got := ids(tr.scope(sc)); got[len(got)-1] != ts[5] {
		t.Errorf("the restored task is not last: %v", got)
	}
	// Moving keeps working after it.
	tr.move([]task.ID{ts[2]}, task.Placement{})
	if got := ids(tr.scope(sc)); got[0] != ts[2] {
		t.Errorf("a move after the rebalance: %v", got)
	}
}

// testConcurrentMoves has 32 goroutines move random tasks of one list to
// random places in it, a bounded number of moves each, and checks that no
// move is lost: every task is in the list once, the keys are distinct, and
// each task is where the last move of it (the highest version any move
// returned) put it.
func testConcurrentMoves(t *testing.T, s stores) {
	tr := newTree(t, s)
	l := tr.list("L")
	var ts []task.ID
	for i := range 24 {
		ts = append(ts, tr.add(fmt.Sprint(i), &l, nil).ID())
	}
	workers, moves := 32, 8
	if testing.Short() {
		moves = 3
	}
	var mu sync.Mutex
	last := map[task.ID]*task.Task{}
	versions := map[task.ID]map[task.Version]bool{}
	var wg sync.WaitGroup
	errs := make(chan error, workers*moves)
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 99))
			for range moves {
				id := ts[rng.IntN(len(ts))]
				p := task.Placement{}
				switch k := rng.IntN(4); k {
				case 1:
					p.Bottom = true
				case 2, 3:
					anchor := ts[rng.IntN(len(ts))]
					if anchor == id {
						break
					}
					if k == 2 {
						p.After = &anchor
					} else {
						p.Before = &anchor
					}
				}
				got, err := s.tasks.Move(context.Background(), tr.owner, task.Move{IDs: []task.ID{id}, To: p, At: base})
				if err != nil {
					errs <- fmt.Errorf("Move(%d, %+v) = %w", id, p, err)
					continue
				}
				mu.Lock()
				if versions[id] == nil {
					versions[id] = map[task.Version]bool{}
				}
				if versions[id][got[0].Version()] {
					errs <- fmt.Errorf("two moves of task %d returned version %d", id, got[0].Version())
				}
				versions[id][got[0].Version()] = true
				if prev := last[id]; prev == nil || got[0].Version() > prev.Version() {
					last[id] = got[0]
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	final := tr.scope(task.Scope{List: l})
	if got := sortedIDs(ids(final)...); !slices.Equal(got, sortedIDs(ts...)) {
		t.Fatalf("after the moves the list holds %v, want each of %v once", got, ts)
	}
	keys := map[string]bool{}
	for _, tk := range final {
		if keys[tk.Position()] {
			t.Errorf("key %q twice in the list", tk.Position())
		}
		keys[tk.Position()] = true
		if want := last[tk.ID()]; want != nil && (tk.Position() != want.Position() || tk.Version() != want.Version()) {
			t.Errorf("task %d is at key %q version %d; its last move returned key %q version %d",
				tk.ID(), tk.Position(), tk.Version(), want.Position(), want.Version())
		}
	}
}
