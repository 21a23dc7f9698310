package memory

import (
	"context"
	"slices"
	"strings"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/position"
	"github.com/todo-backend/todo/domain/task"
)

// The trees: subtasks, their cascades and moves, decided by the domain's
// functions (task.Placement, CheckPlacement, TrashMarks) over the maps.
// Every helper here runs with the store's data held (state.write).

// children returns the tasks whose parent is id, in the trash too, by id.
func (s *state) children(id task.ID) []task.ID {
	var out []task.ID
	for cid, e := range s.tasks {
		if p := e.t.ParentID(); p != nil && *p == id {
			out = append(out, cid)
		}
	}
	slices.Sort(out)
	return out
}

// subtree returns id and every task under it (only the live ones when
// live), parents before their children.
func (s *state) subtree(id task.ID, live bool) []task.ID {
	out := []task.ID{id}
	for i := 0; i < len(out); i++ {
		for _, c := range s.children(out[i]) {
			if !live || s.tasks[c].deletedAt == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// ancestors returns id's parent, its parent's parent, and so on up.
func (s *state) ancestors(id task.ID) []task.ID {
	var out []task.ID
	for p := s.tasks[id].t.ParentID(); p != nil && len(out) <= task.MaxDepth; p = s.tasks[*p].t.ParentID() {
		out = append(out, *p)
	}
	return out
}

// height is how many levels id's subtree spans (1: no subtasks), counting
// the subtasks in the trash, which a restore would bring back under it.
func (s *state) height(id task.ID) int {
	h := 0
	for _, c := range s.children(id) {
		h = max(h, s.height(c))
	}
	return h + 1
}

// writes are the changes of one operation, kept apart until commit so that
// a failure half-way changes nothing; each task changed is written once,
// one version up (put), or without a version of its own (quiet: a subtask
// in the trash following its parent, a rebalance).
type writes struct {
	s    *state
	by   auth.UserID // the user the operation was called with, whom revisions name
	next map[task.ID]*task.Task
	// completed: the tasks this operation completed, whose open subtasks
	// it completes too.
	completed []task.ID
}

func (s *state) newWrites(by auth.UserID) *writes {
	return &writes{s: s, by: by, next: map[task.ID]*task.Task{}}
}

// get is task id as the operation leaves it.
func (w *writes) get(id task.ID) *task.Task {
	if t, ok := w.next[id]; ok {
		return t.WithID(id)
	}
	return w.s.tasks[id].t.WithID(id)
}

// put records t, changed from before (its stored version), one version up.
func (w *writes) put(t, before *task.Task) {
	id := t.ID()
	if !before.Completed() && t.Completed() {
		w.completed = append(w.completed, id)
	}
	w.next[id] = t.WithVersion(w.s.tasks[id].t.Version() + 1)
}

// quiet records t (got from w.get) without a version of its own.
func (w *writes) quiet(t *task.Task) { w.next[t.ID()] = t }

// completeSubtasks completes the open live subtasks of the tasks the
// operation completed, as at their ancestor's update.
func (w *writes) completeSubtasks() {
	for _, id := range w.completed {
		now := w.get(id).UpdatedAt()
		for _, d := range w.s.subtree(id, true)[1:] {
			c := w.get(d)
			if !c.Completed() {
				c.SetCompleted(true, now)
				w.put(c, w.s.tasks[d].t)
			}
		}
	}
}

// commit stores every change.
func (w *writes) commit() {
	for id, t := range w.next {
		e := w.s.tasks[id]
		e.record(t, w.by)
		e.t = t
		w.s.touchTask(id)
	}
}

// scopeKeys returns the keys of the tasks of owner in scope, in the trash
// too, but for those in skip, in order.
func (s *state) scopeKeys(owner auth.UserID, scope task.Scope, skip []task.ID) []string {
	var keys []string
	for id, e := range s.tasks {
		if e.t.Owner() == owner && e.t.Scope() == scope && !slices.Contains(skip, id) {
			keys = append(keys, e.t.Position())
		}
	}
	slices.Sort(keys)
	return keys
}

// gap returns the keys on either side of where p puts tasks in a scope
// whose other keys are keys (in order): after or before the anchor's key,
// at the top or at the bottom.
func gap(p task.Placement, keys []string, anchorKey string) (lower, upper string) {
	switch {
	case p.After != nil:
		i, _ := slices.BinarySearch(keys, anchorKey)
		if i+1 < len(keys) {
			upper = keys[i+1]
		}
		return anchorKey, upper
	case p.Before != nil:
		i, _ := slices.BinarySearch(keys, anchorKey)
		if i > 0 {
			lower = keys[i-1]
		}
		return lower, anchorKey
	case p.Bottom:
		if len(keys) > 0 {
			lower = keys[len(keys)-1]
		}
		return lower, ""
	}
	if len(keys) > 0 {
		upper = keys[0]
	}
	return "", upper
}

// Move places owner's tasks together where m.To says (see
// task.Repository.Move), all or none.
func (r *TaskRepository) Move(ctx context.Context, owner auth.UserID, m task.Move) ([]*task.Task, error) {
	if err := m.To.Check(); err != nil {
		return nil, err
	}
	defer r.write(ctx).done()
	ids := task.UniqueIDs(m.IDs)
	moved := make([]*task.Task, len(ids))
	for i, id := range ids {
		e, ok := r.live(owner, id)
		if !ok {
			return nil, task.ErrNotFound
		}
		moved[i] = e.t.WithID(id)
	}
	if len(ids) == 1 {
		if err := task.Conflict(moved[0], m.Expect); err != nil {
			return nil, err
		}
	}
	var parent *task.Task
	if p := m.To.NewParent(); p != nil {
		pe, ok := r.live(owner, *p)
		if !ok {
			return nil, task.ErrNotFound
		}
		parent = pe.t
	}
	if l := m.To.List; l != nil && *l != list.Inbox {
		if _, ok := r.liveList(owner, *l); !ok {
			return nil, list.ErrNotFound
		}
	}
	target, stay, err := m.To.Target(moved, parent)
	if err != nil {
		return nil, err
	}
	w := r.newWrites(task.Actor(ctx, owner))
	if stay {
		if m.Edit == nil {
			return moved, nil
		}
		for _, t := range moved {
			c := t.WithID(t.ID())
			if err := m.Edit(c); err != nil {
				return nil, err
			}
			if c.Changed() { // else nothing to write
				w.put(c, t)
			}
		}
		return r.finish(w, ids), nil
	}
	var parentAncestors []task.ID
	if target.Parent != task.TopLevel {
		parentAncestors = r.ancestors(target.Parent)
	}
	for _, t := range moved {
		if err := task.CheckPlacement(t.ID(), r.height(t.ID()), target.ParentID(), parentAncestors); err != nil {
			return nil, err
		}
	}
	anchorKey := ""
	if a := m.To.Anchor(); a != nil {
		ae, ok := r.live(owner, *a)
		if !ok {
			return nil, task.ErrNotFound
		}
		if err := m.To.CheckAnchor(ae.t, target, ids); err != nil {
			return nil, err
		}
		anchorKey = ae.t.Position()
	}
	lower, upper := gap(m.To, r.scopeKeys(owner, target, ids), anchorKey)
	keys, err := task.Keys(lower, upper, len(ids))
	if err != nil {
		return nil, err
	}

	for i, t := range moved {
		c := t.WithID(t.ID())
		if m.Edit != nil {
			if err := m.Edit(c); err != nil {
				return nil, err
			}
		}
		listChanged := t.Scope().List != target.List
		c.Place(target.ListID(), target.ParentID(), keys[i], m.At)
		w.put(c, t)
		if !listChanged {
			continue
		}
		// The subtree follows: live subtasks one version up, those in the
		// trash quietly, so that they are restored where their parent is.
		for _, d := range r.subtree(t.ID(), false)[1:] {
			if slices.Contains(ids, d) {
				continue // placed itself
			}
			de := r.tasks[d]
			if de.deletedAt != nil {
				w.quiet(w.get(d).WithList(target.ListID()))
				continue
			}
			dc := w.get(d)
			dc.SetList(target.ListID(), m.At)
			if m.Follow != nil {
				if err := m.Follow(dc); err != nil {
					return nil, err
				}
			}
			w.put(dc, de.t)
		}
	}
	if task.NeedsRebalance(keys) {
		r.rebalance(w, owner, target)
	}
	return r.finish(w, ids), nil
}

// finish completes the subtasks of tasks the operation completed, commits
// and returns tasks ids as they are now.
func (r *TaskRepository) finish(w *writes, ids []task.ID) []*task.Task {
	w.completeSubtasks()
	w.commit()
	out := make([]*task.Task, len(ids))
	for i, id := range ids {
		out[i] = w.get(id)
	}
	return out
}

// rebalance re-keys every task of owner in scope (the trash included), as
// the operation leaves them, with position.Rebalanced of its rank: the same
// order, short keys.
func (s *state) rebalance(w *writes, owner auth.UserID, scope task.Scope) {
	var members []*task.Task
	for id, e := range s.tasks {
		if t := w.get(id); e.t.Owner() == owner && t.Scope() == scope {
			members = append(members, t)
		}
	}
	slices.SortFunc(members, func(a, b *task.Task) int { return strings.Compare(a.Position(), b.Position()) })
	for rank, t := range members {
		w.quiet(t.WithPosition(position.Rebalanced(int64(rank))))
	}
}
