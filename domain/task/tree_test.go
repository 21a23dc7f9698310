package task_test

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/position"
	"github.com/todo-backend/todo/domain/task"
)

// stored is a stored task id in listID (0: inbox) under parent (0: top level).
func stored(t *testing.T, id task.ID, listID list.ID, parent task.ID) *task.Task {
	t.Helper()
	s := task.Scope{List: listID, Parent: parent}
	tk, err := task.Stored{ID: id, Owner: owner, Title: "t", CreatedAt: t0, UpdatedAt: t0,
		ListID: s.ListID(), ParentID: s.ParentID()}.Restore()
	if err != nil {
		t.Fatalf("Restore(task %d) = %v", id, err)
	}
	return tk
}

func TestPlacementOptions(t *testing.T) {
	l, p := list.ID(3), task.ID(9)
	tk, err := task.New(owner, "sub", nil, t0, task.InList(&l), task.Under(&p))
	if err != nil {
		t.Fatalf("New(InList, Under) = %v", err)
	}
	if got := tk.Scope(); got != (task.Scope{List: 3, Parent: 9}) || tk.Position() != "" {
		t.Errorf("New(InList(3), Under(9)) scope %v, position %q; want list 3 under 9, no key yet", got, tk.Position())
	}
	if got := tk.WithID(12).Position(); got != position.Implicit(12) {
		t.Errorf("stored task's Position() = %q, want the implicit key %q", got, position.Implicit(12))
	}
	for _, x := range []*task.Task{tk, tk.WithID(12), tk.WithID(12).WithPosition("V")} {
		if got := string(x.AppendPosition([]byte("k:"))); got != "k:"+x.Position() {
			t.Errorf("AppendPosition = %q, want %q", got, "k:"+x.Position())
		}
	}
	bad := list.ID(0)
	if _, err := task.New(owner, "x", nil, t0, task.InList(&bad), task.Under(ptr(task.ID(-1)))); len(problems(t, err)) != 2 {
		t.Errorf("New(InList(0), Under(-1)) = %v, want two problems", err)
	}
	// An edit cannot move a task: that is a move, which takes its subtree.
	st := tk.WithID(12)
	for _, opt := range []task.Option{task.InList(nil), task.Under(nil)} {
		err := st.Edit("x", nil, t0.Add(time.Second), opt)
		if ps := problems(t, err); !strings.Contains(ps[0].Msg, "move") {
			t.Errorf("Edit(placement) = %v, want a problem saying to move", err)
		}
	}
	if st.Title() != "sub" || st.Scope() != (task.Scope{List: 3, Parent: 9}) {
		t.Errorf("a refused edit changed the task: %q %v", st.Title(), st.Scope())
	}
}

func TestStoredRoundTripPlacement(t *testing.T) {
	l, p := list.ID(4), task.ID(2)
	for _, key := range []string{"", position.Implicit(7), "V", position.Implicit(3) + "V"} {
		tk, err := task.Stored{ID: 7, Owner: owner, Title: "t", CreatedAt: t0, UpdatedAt: t0, Version: 2,
			ListID: &l, ParentID: &p, Position: key}.Restore()
		if err != nil {
			t.Fatalf("Restore(position %q) = %v", key, err)
		}
		want := key
		if key == "" {
			want = position.Implicit(7)
		}
		if tk.Position() != want || *tk.ListID() != 4 || *tk.ParentID() != 2 {
			t.Errorf("Restore(position %q): position %q list %v parent %v", key, tk.Position(), tk.ListID(), tk.ParentID())
		}
		back, err := tk.Stored().Restore()
		if err != nil || !reflect.DeepEqual(back, tk) {
			t.Errorf("Stored().Restore() = %+v, %v; want %+v", back, err, tk)
		}
		s := tk.Stored()
		*s.ListID, *s.ParentID = 99, 99
		if *tk.ListID() != 4 || *tk.ParentID() != 2 {
			t.Errorf("changing Stored() changed the task")
		}
	}
	for name, s := range map[string]task.Stored{
		"list 0":            {ListID: ptr(list.ID(0))},
		"parent is itself":  {ParentID: ptr(task.ID(7))},
		"negative parent":   {ParentID: ptr(task.ID(-2))},
		"key ending in 0":   {Position: "V0"},
		"key with a space":  {Position: "a b"},
		"key over MaxLen":   {Position: strings.Repeat("V", position.MaxLen+1)},
		"other id implicit": {Position: position.Implicit(8)[:19] + "9"}, // an implicit key is valid anywhere
	} {
		s.ID, s.Owner, s.Title, s.CreatedAt, s.UpdatedAt = 7, owner, "t", t0, t0
		_, err := s.Restore()
		if (err == nil) != (name == "other id implicit") {
			t.Errorf("Restore(%s) = %v", name, err)
		}
	}
}

func TestPlaceAndSetList(t *testing.T) {
	tk := stored(t, 5, 1, 0)
	l, p := list.ID(2), task.ID(8)
	tk.Place(&l, &p, "V", t0)
	if tk.Scope() != (task.Scope{List: 2, Parent: 8}) || tk.Position() != "V" || !tk.UpdatedAt().After(t0) {
		t.Errorf("Place: scope %v key %q updated %v", tk.Scope(), tk.Position(), tk.UpdatedAt())
	}
	before := tk.UpdatedAt()
	tk.SetList(nil, t0)
	if tk.Scope() != (task.Scope{Parent: 8}) || tk.Position() != "V" || !tk.UpdatedAt().After(before) {
		t.Errorf("SetList(inbox): scope %v key %q", tk.Scope(), tk.Position())
	}
	c := tk.WithList(&l).WithPosition("W")
	if c.Scope().List != 2 || c.Position() != "W" || !c.UpdatedAt().Equal(tk.UpdatedAt()) || tk.Scope().List != 0 {
		t.Errorf("WithList/WithPosition: %v %q, original %v", c.Scope(), c.Position(), tk.Scope())
	}
}

func TestCheckPlacement(t *testing.T) {
	p := func(id task.ID) *task.ID { return &id }
	for _, tc := range []struct {
		name      string
		moving    task.ID
		height    int
		parent    *task.ID
		ancestors []task.ID
		want      string // "" or a word the problem must say
	}{
		{"top level", 1, 4, nil, nil, ""},
		{"top level, too tall", 1, 5, nil, nil, "levels"},
		{"under a top-level task", 1, 1, p(2), nil, ""},
		{"a leaf at level 4", 1, 1, p(2), []task.ID{3, 4}, ""},
		{"a leaf at level 5", 1, 1, p(2), []task.ID{3, 4, 5}, "exceed 4 levels"},
		{"a two-level subtree at level 3", 1, 2, p(2), []task.ID{3}, ""},
		{"a two-level subtree at level 4", 1, 2, p(2), []task.ID{3, 4}, "exceed 4 levels"},
		{"under itself", 1, 1, p(1), nil, "cycle"},
		{"under its child", 1, 2, p(2), []task.ID{1}, "cycle"},
		{"under its grandchild", 1, 3, p(2), []task.ID{3, 1}, "cycle"},
	} {
		err := task.CheckPlacement(tc.moving, tc.height, tc.parent, tc.ancestors)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s: CheckPlacement = %v, want nil", tc.name, err)
			}
			continue
		}
		if ps := problems(t, err); ps[0].Field != "parent_id" || !strings.Contains(ps[0].Msg, tc.want) {
			t.Errorf("%s: CheckPlacement = %v, want a parent_id problem saying %q", tc.name, err, tc.want)
		}
	}
}

func TestTrashMarks(t *testing.T) {
	p := func(id task.ID) *task.ID { return &id }
	// 1 > 2 > 3 > 4, 1 > 5; 6 alone.
	nodes := []task.Node{{1, nil}, {2, p(1)}, {3, p(2)}, {4, p(3)}, {5, p(1)}, {6, nil}}
	got := task.TrashMarks([]task.ID{1, 3, 6}, nodes)
	want := map[task.ID]task.TrashMark{1: task.NoMark, 2: task.MarkTask(1), 3: task.NoMark, 4: task.MarkTask(3),
		5: task.MarkTask(1), 6: task.NoMark}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("TrashMarks = %v, want %v", got, want)
	}
	for _, m := range []task.TrashMark{task.NoMark, task.MarkTask(12), task.MarkList(3)} {
		if back, err := task.ParseTrashMark(string(m)); err != nil || back != m {
			t.Errorf("ParseTrashMark(%q) = %q, %v", m, back, err)
		}
	}
	for _, s := range []string{"task", "task:", "task:0", "task:01", "list:-1", "note:3", "task:3x"} {
		if _, err := task.ParseTrashMark(s); err == nil {
			t.Errorf("ParseTrashMark(%q) = nil error", s)
		}
	}
	if task.RestoredWith(4, task.NoMark) != task.MarkTask(4) || task.RestoredWith(4, task.MarkList(2)) != task.MarkList(2) {
		t.Errorf("RestoredWith: a task trashed on its own brings back its subtasks; one trashed with a list, that list's")
	}
}

func TestPlacementTarget(t *testing.T) {
	l := func(id list.ID) *list.ID { return &id }
	p := func(id task.ID) *task.ID { return &id }
	top1 := stored(t, 1, 1, 0)   // list 1, top level
	top2 := stored(t, 2, 1, 0)   // list 1, top level
	sub3 := stored(t, 3, 1, 1)   // list 1, under 1
	inbox4 := stored(t, 4, 0, 0) // inbox
	parent7 := stored(t, 7, 2, 0)
	for _, tc := range []struct {
		name   string
		p      task.Placement
		moved  []*task.Task
		parent *task.Task
		want   task.Scope
		stay   bool
		bad    string // the field of the problem, "" for none
	}{
		{"keep", task.Placement{}, []*task.Task{top1, top2}, nil, task.Scope{List: 1}, false, ""},
		{"keep, different parents", task.Placement{}, []*task.Task{top1, sub3}, nil, task.Scope{}, false, "ids"},
		{"keep, different lists", task.Placement{}, []*task.Task{top1, inbox4}, nil, task.Scope{}, false, "ids"},
		{"to the inbox", task.Placement{List: l(0)}, []*task.Task{top1, inbox4}, nil, task.Scope{}, false, ""},
		{"subtask to another list", task.Placement{List: l(2)}, []*task.Task{sub3}, nil, task.Scope{}, false, "parent_id"},
		{"subtask within its list", task.Placement{List: l(1)}, []*task.Task{sub3}, nil, task.Scope{List: 1, Parent: 1}, false, ""},
		{"subtask to the top of another list", task.Placement{List: l(2), Parent: p(0)}, []*task.Task{sub3}, nil, task.Scope{List: 2}, false, ""},
		{"to the top level", task.Placement{Parent: p(0)}, []*task.Task{sub3}, nil, task.Scope{List: 1}, false, ""},
		{"to the top level, different lists", task.Placement{Parent: p(0)}, []*task.Task{sub3, inbox4}, nil, task.Scope{}, false, "list_id"},
		{"under a parent", task.Placement{Parent: p(7)}, []*task.Task{top1, inbox4}, parent7, task.Scope{List: 2, Parent: 7}, false, ""},
		{"under a parent, its list", task.Placement{List: l(2), Parent: p(7)}, []*task.Task{top1}, parent7, task.Scope{List: 2, Parent: 7}, false, ""},
		{"under a parent, another list", task.Placement{List: l(1), Parent: p(7)}, []*task.Task{top1}, parent7, task.Scope{}, false, "parent_id"},
		{"list change by patch", task.Placement{List: l(2), Parent: p(0), Bottom: true, OnlyIfListChanges: true}, []*task.Task{sub3}, nil, task.Scope{List: 2}, false, ""},
		{"same list by patch", task.Placement{List: l(1), Parent: p(0), Bottom: true, OnlyIfListChanges: true}, []*task.Task{sub3}, nil, task.Scope{List: 1}, true, ""},
		{"nothing moved", task.Placement{}, nil, nil, task.Scope{}, false, "ids"},
	} {
		got, stay, err := tc.p.Target(tc.moved, tc.parent)
		if tc.bad != "" {
			if err == nil || problems(t, err)[0].Field != tc.bad {
				t.Errorf("%s: Target = %v, %v; want a %s problem", tc.name, got, err, tc.bad)
			}
			continue
		}
		if err != nil || got != tc.want || stay != tc.stay {
			t.Errorf("%s: Target = %v, stay %v, %v; want %v, stay %v", tc.name, got, stay, err, tc.want, tc.stay)
		}
	}

	// Anchors: in the target scope, not moved.
	pl := task.Placement{After: p(2)}
	if err := pl.CheckAnchor(top2, task.Scope{List: 1}, []task.ID{1}); err != nil {
		t.Errorf("CheckAnchor(sibling) = %v", err)
	}
	if err := pl.CheckAnchor(top2, task.Scope{List: 1}, []task.ID{1, 2}); err == nil || problems(t, err)[0].Field != "after_id" {
		t.Errorf("CheckAnchor(moved) = %v, want an after_id problem", err)
	}
	pl = task.Placement{Before: p(4)}
	if err := pl.CheckAnchor(inbox4, task.Scope{List: 1}, []task.ID{1}); err == nil || problems(t, err)[0].Field != "before_id" {
		t.Errorf("CheckAnchor(elsewhere) = %v, want a before_id problem", err)
	}

	for name, bad := range map[string]task.Placement{
		"two anchors":       {After: p(1), Before: p(2)},
		"zero anchor":       {After: p(0)},
		"bottom and anchor": {Bottom: true, Before: p(2)},
		"negative list":     {List: l(-1)},
	} {
		if bad.Check() == nil {
			t.Errorf("Check(%s) = nil, want a problem", name)
		}
	}
	if err := (task.Placement{List: l(0), Parent: p(0), Before: p(3)}).Check(); err != nil {
		t.Errorf("Check(inbox, top level, before 3) = %v", err)
	}
}

func TestKeys(t *testing.T) {
	keys, err := task.Keys(position.Implicit(3), "", 3)
	if err != nil || len(keys) != 3 || !slices.IsSorted(keys) || keys[0] <= position.Implicit(3) || keys[2] >= position.Implicit(4) {
		t.Errorf("Keys(after the last, 3) = %q, %v: want 3 keys after it and before any later task", keys, err)
	}
	if _, err := task.Keys("b", "a", 1); err == nil {
		t.Errorf("Keys(b, a) = nil error")
	}
	if task.NeedsRebalance([]string{"V", "W"}) || !task.NeedsRebalance([]string{"V", strings.Repeat("V", position.RebalanceLen+1)}) {
		t.Errorf("NeedsRebalance: want true only past position.RebalanceLen")
	}
}
func TestQueryListParentAndPosition(t *testing.T) {
	l := func(id list.ID) *list.ID { return &id }
	p := func(id task.ID) *task.ID { return &id }
	a := stored(t, 1, 1, 0).WithPosition("V")
	b := stored(t, 2, 1, 0).WithPosition("F")
	c := stored(t, 3, 1, 1)
	d := stored(t, 4, 0, 0)
	all := []*task.Task{a, b, c, d}
	for _, tc := range []struct {
		name string
		q    task.Query
		want []task.ID
	}{
		{"list, top level, by position", task.Query{List: l(1), Parent: p(0), Sort: task.SortPosition}, []task.ID{2, 1}},
		{"list, by position, descending", task.Query{List: l(1), Parent: p(0), Sort: task.SortPosition, Order: task.OrderDesc}, []task.ID{1, 2}},
		{"inbox", task.Query{List: l(0)}, []task.ID{4}},
		{"subtasks of 1", task.Query{Parent: p(1)}, []task.ID{3}},
		{"list 1, any parent", task.Query{List: l(1)}, []task.ID{1, 2, 3}},
	} {
		q, err := tc.q.Normalized()
		if err != nil {
			t.Fatalf("%s: Normalized = %v", tc.name, err)
		}
		var got []task.ID
		for _, tk := range q.Apply(all).Tasks {
			got = append(got, tk.ID())
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: Apply = %v, want %v", tc.name, got, tc.want)
		}
	}
	// Pages by position, with a cursor that holds the key.
	q, _ := task.Query{List: l(1), Parent: p(0), Sort: task.SortPosition, Limit: 1}.Normalized()
	page := q.Apply(all)
	if page.Next == nil || page.Next.Text != "F" {
		t.Fatalf("first page's cursor = %+v, want one at key F", page.Next)
	}
	back, err := task.ParseCursor(page.Next.String())
	if err != nil || back != *page.Next {
		t.Fatalf("ParseCursor(position cursor) = %+v, %v", back, err)
	}
	q.After = &back
	if q, err = q.Normalized(); err != nil {
		t.Fatal(err)
	}
	if next := q.Apply(all); len(next.Tasks) != 1 || next.Tasks[0].ID() != 1 || next.Next != nil {
		t.Errorf("second page = %v", next.Tasks)
	}
	// The cursor belongs to these filters: another list's page refuses it.
	other := task.Query{List: l(2), Parent: p(0), Sort: task.SortPosition, Limit: 1, After: &back}
	if _, err := other.Normalized(); err == nil {
		t.Errorf("a position cursor was accepted for another list")
	}
	bad := task.Cursor{Sort: task.SortPosition, Order: task.OrderAsc, ID: 1, Text: "a b", Query: "x"}
	if _, err := task.ParseCursor(bad.String()); err == nil {
		t.Errorf("ParseCursor accepted a position cursor with a key that is no key")
	}
	if _, err := (task.Query{List: l(-1), Parent: p(-1)}).Normalized(); len(problems(t, err)) != 2 {
		t.Errorf("Normalized(negative list and parent) = %v, want two problems", err)
	}
}

// TestComparePositions: in sort=position, Compare orders by Position()
// then id, in the query's direction, implicit keys (never moved) and keys
// of moves alike, and makes no string to do it (the memory store sorts a
// list view with it).
func TestComparePositions(t *testing.T) {
	l := list.ID(3)
	var ts []*task.Task
	for i, key := range []string{"", "", position.Rebalanced(0), position.Rebalanced(1), position.Rebalanced(1), "", "m"} {
		id := task.ID([]int{5, 12, 40, 41, 42, 300, 7}[i])
		tk, err := task.Stored{ID: id, Owner: owner, Title: "t", CreatedAt: t0, UpdatedAt: t0, ListID: &l, Position: key}.Restore()
		if err != nil {
			t.Fatalf("Restore(task %d) = %v", id, err)
		}
		ts = append(ts, tk)
	}
	for _, order := range []task.Order{task.OrderAsc, task.OrderDesc} {
		q := task.Query{Sort: task.SortPosition, Order: order}
		for _, a := range ts {
			for _, b := range ts {
				want := strings.Compare(a.Position(), b.Position())
				if want == 0 {
					want = int(a.ID()) - int(b.ID())
					want = min(max(want, -1), 1)
				}
				if order == task.OrderDesc {
					want = -want
				}
				if got := q.Compare(a, b); got != want {
					t.Errorf("%s: Compare(task %d at %q, task %d at %q) = %d, want %d", order, a.ID(), a.Position(), b.ID(), b.Position(), got, want)
				}
			}
		}
		if n := testing.AllocsPerRun(100, func() { q.Compare(ts[0], ts[1]) }); n != 0 {
			t.Errorf("%s: Compare of two implicit keys made %v allocations, want 0", order, n)
		}
	}
}
