package task

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/todo-backend/todo/domain/check"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/position"
)

// Subtasks and manual order. A task lives in a list (or the inbox) and
// under a parent (or at the top level); a subtask lives in its parent's
// list. Tasks of one list under one parent are siblings, ordered by their
// keys (Task.Position), which are unique among them: a Scope.

// MaxDepth is how deep subtasks nest: a top-level task is at level 1, and a
// task at level MaxDepth cannot have subtasks.
const MaxDepth = 4

// TopLevel is the ID that stands for "no parent" where a filter or a move
// names a parent. No task has it.
const TopLevel ID = 0

// Scope is a set of siblings: one list (list.Inbox for the inbox) and one
// parent (TopLevel for the top level). Keys are unique within a scope.
type Scope struct {
	List   list.ID
	Parent ID
}

// ScopeOf is the scope of a task in listID (nil: inbox) under parentID
// (nil: top level).
func ScopeOf(listID *list.ID, parentID *ID) Scope {
	var s Scope
	if listID != nil {
		s.List = *listID
	}
	if parentID != nil {
		s.Parent = *parentID
	}
	return s
}

// ListID is the scope's list, nil for the inbox (as Task.ListID).
func (s Scope) ListID() *list.ID {
	if s.List == list.Inbox {
		return nil
	}
	l := s.List
	return &l
}

// ParentID is the scope's parent, nil at the top level (as Task.ParentID).
func (s Scope) ParentID() *ID {
	if s.Parent == TopLevel {
		return nil
	}
	p := s.Parent
	return &p
}

func (s Scope) String() string {
	where := "the inbox"
	if s.List != list.Inbox {
		where = fmt.Sprintf("list %d", s.List)
	}
	if s.Parent != TopLevel {
		return fmt.Sprintf("under task %d in %s", s.Parent, where)
	}
	return "at the top level of " + where
}

// CheckPlacement decides whether task moving, whose subtree is height levels
// tall (1: it has no subtasks), may go under parent (nil: the top level),
// whose ancestors, from its own parent up, are parentAncestors. It refuses a
// cycle (the parent is the task or one of its subtasks) and a tree deeper
// than MaxDepth, with a ValidationError on parent_id that says which.
func CheckPlacement(moving ID, height int, parent *ID, parentAncestors []ID) error {
	if parent == nil {
		if height > MaxDepth {
			return check.Invalid("parent_id", fmt.Sprintf("would exceed %d levels: task %d has %d levels of subtasks",
				MaxDepth, moving, height-1), "value_error")
		}
		return nil
	}
	if *parent == moving || slices.Contains(parentAncestors, moving) {
		return check.Invalid("parent_id", fmt.Sprintf("would make a cycle: task %d is task %d or one of its subtasks",
			*parent, moving), "value_error")
	}
	if levels := len(parentAncestors) + 1 + height; levels > MaxDepth {
		return check.Invalid("parent_id", fmt.Sprintf("would exceed %d levels: task %d is at level %d and task %d has %d levels of subtasks",
			MaxDepth, *parent, len(parentAncestors)+1, moving, height-1), "value_error")
	}
	return nil
}

// CheckNewSubtask decides whether a new task t may go under parent (one of
// its owner's live tasks), whose ancestors, from its own parent up, are
// parentAncestors: it must be in the parent's list, and the parent not at
// level MaxDepth.
func CheckNewSubtask(t, parent *Task, parentAncestors []ID) error {
	if t.Scope().List != parent.Scope().List {
		return check.Invalid("list_id", fmt.Sprintf("task %d is in %s: a subtask lives in its parent's list",
			parent.ID(), Scope{List: parent.Scope().List}.listName()), "value_error")
	}
	if level := len(parentAncestors) + 1; level >= MaxDepth {
		return check.Invalid("parent_id", fmt.Sprintf("would exceed %d levels: task %d is at level %d",
			MaxDepth, parent.ID(), level), "value_error")
	}
	return nil
}

// TrashMark says why a task is in the trash: on its own (NoMark), or with
// the task or list whose deletion took it there (MarkTask, MarkList), so
// that restoring that one brings it back, and nothing trashed before.
// Stores keep it beside the deletion time.
type TrashMark string

// NoMark is the mark of a task trashed on its own.
const NoMark TrashMark = ""

// MarkTask is the mark of a subtask trashed with its ancestor id.
func MarkTask(id ID) TrashMark { return TrashMark("task:" + strconv.FormatInt(int64(id), 10)) }

// MarkList is the mark of a task trashed with its list.
func MarkList(id list.ID) TrashMark { return TrashMark("list:" + strconv.FormatInt(int64(id), 10)) }

// ParseTrashMark reads a mark as stores keep it.
func ParseTrashMark(s string) (TrashMark, error) {
	kind, n, ok := strings.Cut(s, ":")
	id, err := strconv.ParseInt(n, 10, 64)
	if s == "" {
		return NoMark, nil
	}
	if !ok || err != nil || id <= 0 || (kind != "task" && kind != "list") || strconv.FormatInt(id, 10) != n {
		return "", fmt.Errorf("trash mark %q: want task:<id> or list:<id>", s)
	}
	return TrashMark(s), nil
}

// RestoredWith is the mark of the tasks that come back from the trash when
// the task id, trashed with mark m, is restored: those trashed with it (its
// subtasks, MarkTask(id)) or, when it went with an ancestor or its list,
// with that same one. Stores restore the task's subtree where a task has
// this mark and the task's deletion time, which tells one deletion from an
// earlier one of the same ancestor.
func RestoredWith(id ID, m TrashMark) TrashMark {
	if m == NoMark {
		return MarkTask(id)
	}
	return m
}

// Node is a task in a tree: its id and its parent (nil at the top level).
type Node struct {
	ID     ID
	Parent *ID
}

// TrashMarks returns how each task goes to the trash when the tasks selected
// go together: each selected task on its own, every other task of their
// subtrees with its nearest selected ancestor. nodes are the live tasks of
// those subtrees, the selected ones included.
func TrashMarks(selected []ID, nodes []Node) map[ID]TrashMark {
	parent := make(map[ID]*ID, len(nodes))
	for _, n := range nodes {
		parent[n.ID] = n.Parent
	}
	sel := make(map[ID]bool, len(selected))
	for _, id := range selected {
		sel[id] = true
	}
	out := make(map[ID]TrashMark, len(nodes))
	for _, n := range nodes {
		if sel[n.ID] {
			out[n.ID] = NoMark
			continue
		}
		// Walk up to the nearest selected ancestor; the tree is at most
		// MaxDepth deep, and a walk that finds none (a node outside the
		// subtrees) leaves the task out.
		for p, steps := n.Parent, 0; p != nil && steps <= MaxDepth; p, steps = parent[*p], steps+1 {
			if sel[*p] {
				out[n.ID] = MarkTask(*p)
				break
			}
		}
	}
	return out
}

// Placement is where a move puts tasks: a list, a parent, and where among
// the siblings there. Moving a task to another list takes its subtasks
// along; a move never renumbers the siblings (the moved tasks get keys
// between their new neighbours').
type Placement struct {
	// List is the target list: nil keeps the tasks' list (or takes the new
	// parent's), list.Inbox is the inbox.
	List *list.ID
	// Parent is the new parent: nil keeps it, TopLevel is the top level.
	// The parent's list is the target list: a List naming another one is a
	// ValidationError.
	Parent *ID
	// After and Before name the sibling the tasks go right after or right
	// before, in the target scope; with neither they go to the top of it
	// (Bottom: the bottom). Not both.
	After, Before *ID
	Bottom        bool
	// OnlyIfListChanges leaves a task already in the target list where it
	// is (a change of list_id by PATCH, which moves a task only when its
	// list changes).
	OnlyIfListChanges bool
}

// Check refuses a placement that names both anchors or an id that cannot
// exist.
func (p Placement) Check() error {
	var problems []Problem
	add := func(field, msg, typ string) { problems = append(problems, Problem{Field: field, Msg: msg, Type: typ}) }
	if p.After != nil && p.Before != nil {
		add("before_id", "give after_id or before_id, not both", "value_error")
	}
	if p.List != nil && *p.List < 0 {
		add("list_id", "must be a positive integer", "greater_than")
	}
	if p.Parent != nil && *p.Parent < 0 {
		add("parent_id", "must be a positive integer", "greater_than")
	}
	for _, a := range []struct {
		field string
		id    *ID
	}{{"after_id", p.After}, {"before_id", p.Before}} {
		if a.id != nil && *a.id <= 0 {
			add(a.field, "must be a positive integer", "greater_than")
		}
	}
	if p.Bottom && (p.After != nil || p.Before != nil) {
		add("after_id", "a move to the bottom takes no anchor", "value_error")
	}
	if len(problems) > 0 {
		return &ValidationError{Problems: problems}
	}
	return nil
}

// NewParent is the task p puts the moved tasks under, nil when p keeps
// their parents or puts them at the top level: the store reads it (live and
// owned, ErrNotFound otherwise) before it calls Target.
func (p Placement) NewParent() *ID {
	if p.Parent == nil || *p.Parent == TopLevel {
		return nil
	}
	return p.Parent
}

// Target is the scope p puts the tasks moved (in the order given) in, and
// whether they stay where they are (OnlyIfListChanges, when they are
// already in the target list). parent is the task NewParent names, read by
// the store, nil when it names none. Every task must end in one scope; a
// subtask moved to another list must be given a parent there (or the top
// level). Each broken rule is a ValidationError saying why.
func (p Placement) Target(moved []*Task, parent *Task) (target Scope, stay bool, err error) {
	if len(moved) == 0 {
		return Scope{}, false, check.Invalid("ids", "must name at least one task", "too_short")
	}
	switch {
	case parent != nil:
		target = parent.Scope()
		target.Parent = parent.ID()
		if p.List != nil && *p.List != target.List {
			return Scope{}, false, check.Invalid("parent_id", fmt.Sprintf("task %d is in %s, not in %s: a subtask lives in its parent's list",
				parent.ID(), Scope{List: target.List}.listName(), Scope{List: *p.List}.listName()), "value_error")
		}
	case p.Parent != nil: // the top level
		target.List = moved[0].Scope().List
		if p.List != nil {
			target.List = *p.List
		}
		for _, t := range moved[1:] {
			if p.List == nil && t.Scope().List != target.List {
				return Scope{}, false, check.Invalid("list_id", "the tasks are in different lists: give list_id", "value_error")
			}
		}
	default: // parents kept
		target = moved[0].Scope()
		if p.List != nil {
			target.List = *p.List
		}
		for _, t := range moved {
			s := t.Scope()
			if s.Parent != TopLevel && s.List != target.List {
				return Scope{}, false, check.Invalid("parent_id", fmt.Sprintf("task %d is a subtask of task %d in %s: "+
					"give parent_id (null for the top level) to move it to %s", t.ID(), s.Parent, Scope{List: s.List}.listName(),
					Scope{List: target.List}.listName()), "value_error")
			}
			if s.Parent != target.Parent || p.List == nil && s.List != target.List {
				return Scope{}, false, check.Invalid("ids", "the tasks have different lists or parents: give parent_id (and list_id)", "value_error")
			}
		}
	}
	if p.OnlyIfListChanges {
		stay = true
		for _, t := range moved {
			stay = stay && t.Scope().List == target.List
		}
	}
	return target, stay, nil
}

func (s Scope) listName() string {
	if s.List == list.Inbox {
		return "the inbox"
	}
	return fmt.Sprintf("list %d", s.List)
}

// CheckAnchor refuses an anchor (the task p.After or p.Before names, read by
// the store) outside the target scope, or among the tasks moved.
func (p Placement) CheckAnchor(anchor *Task, target Scope, moved []ID) error {
	field := "after_id"
	if p.Before != nil {
		field = "before_id"
	}
	if slices.Contains(moved, anchor.ID()) {
		return check.Invalid(field, fmt.Sprintf("task %d is one of the tasks moved", anchor.ID()), "value_error")
	}
	if s := anchor.Scope(); s != target {
		return check.Invalid(field, fmt.Sprintf("task %d is %s, not %s where the tasks go", anchor.ID(), s, target), "value_error")
	}
	return nil
}

// Anchor is the task p places the tasks next to, nil for the top or the
// bottom.
func (p Placement) Anchor() *ID {
	if p.After != nil {
		return p.After
	}
	return p.Before
}

// Keys returns n keys, in order, for tasks placed together in the gap p
// names, given the keys around it in the target scope (the tasks moved left
// out): lower is the anchor's (After) or the one before it (Before, Bottom;
// "" at the top), upper the one after it (After, Top; "" at the bottom) or
// the anchor's (Before).
func Keys(lower, upper string, n int) ([]string, error) {
	keys, err := position.Spread(lower, upper, n)
	if err != nil {
		return nil, fmt.Errorf("place %d tasks between %q and %q: %w", n, lower, upper, err)
	}
	return keys, nil
}

// NeedsRebalance reports whether any of keys is long enough that its scope
// should be re-keyed (position.NeedsRebalance): stores then give every task
// of the scope, in the trash too, position.Rebalanced of its rank.
func NeedsRebalance(keys []string) bool {
	return slices.ContainsFunc(keys, position.NeedsRebalance)
}
