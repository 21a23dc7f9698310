package application

import (
	"context"
	"errors"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// The assignee of a task is its owner or a member of its list (issue 19).
// Every write that could break that keeps it, in the write's own unit of
// work, after reading the memberships (which on PostgreSQL takes the list
// owner's scope lock: a removal waits for the write or the write sees it):
//
//   - assigning (create, PATCH assignee_id): CheckAssignee refuses, 422 on
//     assignee_id, before anything is written;
//   - moving a task to another list (a move, PATCH list_id, a subtask
//     following its parent): an assignee who may not be assigned there is
//     cleared in the same write, as Todoist does, rather than refusing the
//     move: the task goes where it was dragged, unassigned;
//   - removing a member (or a member leaving): their assignments in that
//     list's live tasks are cleared in the removal's unit of work; a task
//     in the trash meanwhile loses them as it is restored (RestoreTask).

// inUnit runs fn in one unit of work, or as it comes without a
// Transactor.
func (s *Service) inUnit(ctx context.Context, fn func(ctx context.Context) error) error {
	if s.tx == nil {
		return fn(ctx)
	}
	return s.InTx(ctx, fn)
}

// unassign clears the assignee of a task, at now, when keep refuses them.
func unassign(now time.Time, keep func(auth.UserID) bool) func(*task.Task) error {
	return func(t *task.Task) error {
		who := t.Assignee()
		if who == nil || keep(*who) {
			return nil
		}
		return t.Edit(t.Title(), t.Description(), now, task.AssignTo(nil))
	}
}

// moveTarget is the list a move takes the actor's tasks to when it names
// one, directly or by a new parent: changes false when the move keeps
// their list. in nil is the inbox.
func (s *Service) moveTarget(ctx context.Context, a Actor, to task.Placement) (in *list.ID, changes bool, err error) {
	switch {
	case to.List != nil:
		if *to.List == list.Inbox {
			return nil, true, nil
		}
		return to.List, true, nil
	case to.Parent != nil && *to.Parent != task.TopLevel:
		p, err := s.tasks.Get(ctx, a.owner, *to.Parent)
		if errors.Is(err, task.ErrNotFound) {
			return nil, false, nil // the move says so itself
		}
		if err != nil {
			return nil, false, err
		}
		return p.ListID(), true, nil
	}
	return nil, false, nil
}

// assignableIn reports who may be assigned a task in list in (nil: the
// actor's inbox, only the actor); ok false when the list is not one (the
// move refuses it itself).
func (s *Service) assignableIn(ctx context.Context, a Actor, in *list.ID) (keep func(auth.UserID) bool, ok bool, err error) {
	if in == nil {
		return func(who auth.UserID) bool { return who == a.owner }, true, nil
	}
	if s.members == nil {
		// No shared lists: the owner is the only one ever assigned.
		return func(auth.UserID) bool { return true }, true, nil
	}
	ms, err := s.members.Members(ctx, *in)
	if errors.Is(err, list.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	set := make(map[auth.UserID]bool, len(ms))
	for _, m := range ms {
		set[m.UserID] = true
	}
	return func(who auth.UserID) bool { return set[who] }, true, nil
}

// move is the store's move of the actor's tasks, in one unit of work with
// the read of the target list's members when it changes their list: the
// moved tasks, and the subtasks that follow, lose an assignee who may not
// be assigned there.
func (s *Service) move(ctx context.Context, a Actor, m task.Move) ([]*task.Task, error) {
	var out []*task.Task
	err := s.inUnit(ctx, func(ctx context.Context) error {
		in, changes, err := s.moveTarget(ctx, a, m.To)
		if err != nil {
			return err
		}
		if changes {
			keep, ok, err := s.assignableIn(ctx, a, in)
			if err != nil {
				return err
			}
			if ok {
				clear := unassign(m.At, keep)
				edit := m.Edit
				m.Edit = func(t *task.Task) error {
					if edit != nil {
						if err := edit(t); err != nil {
							return err
						}
					}
					return clear(t)
				}
				m.Follow = clear
			}
		}
		out, err = s.tasks.Move(ctx, a.owner, m)
		return err
	})
	return out, err
}

// clearStale clears, after t came back from the trash, the assignees of t,
// its subtasks and its ancestors (which a subtask's restore brings back
// alone) who may not be assigned in its list (removed while they were in
// the trash: clearAssignments clears live tasks only). It returns t as it
// leaves it when it cleared t's own.
func (s *Service) clearStale(ctx context.Context, t *task.Task) (*task.Task, error) {
	in := t.ListID()
	if in == nil {
		return nil, nil // a move to the inbox cleared every assignee but the owner
	}
	owner := t.Owner()
	keep, ok, err := s.assignableIn(ctx, Actor{owner: owner}, in)
	if err != nil || !ok {
		return nil, err
	}
	var stale []task.ID
	for up, depth := t.ParentID(), 0; up != nil && depth < task.MaxDepth; depth++ {
		p, err := s.tasks.Get(ctx, owner, *up)
		if err != nil {
			return nil, err
		}
		if who := p.Assignee(); who != nil && !keep(*who) {
			stale = append(stale, p.ID())
		}
		up = p.ParentID()
	}
	level := []*task.Task{t}
	for depth := 0; len(level) > 0 && depth <= task.MaxDepth; depth++ {
		var next []*task.Task
		for _, x := range level {
			if who := x.Assignee(); who != nil && !keep(*who) {
				stale = append(stale, x.ID())
			}
			page, err := s.tasks.List(ctx, owner, task.Query{Parent: ptr(x.ID())})
			if err != nil {
				return nil, err
			}
			next = append(next, page.Tasks...)
		}
		level = next
	}
	if len(stale) == 0 {
		return nil, nil
	}
	ts, err := s.tasks.UpdateAll(ctx, owner, stale, unassign(s.now(), keep))
	if err != nil {
		return nil, err
	}
	for _, x := range ts {
		if x.ID() == t.ID() {
			return x, nil
		}
	}
	return nil, nil
}

// clearAssignments unassigns member from the live tasks of owner's list
// id: their membership has ended.
func (s *Service) clearAssignments(ctx context.Context, owner auth.UserID, id list.ID, member auth.UserID) error {
	page, err := s.tasks.List(ctx, owner, task.Query{List: &id, Assignee: &member})
	if err != nil {
		return err
	}
	if len(page.Tasks) == 0 {
		return nil
	}
	ids := make([]task.ID, len(page.Tasks))
	for i, t := range page.Tasks {
		ids[i] = t.ID()
	}
	_, err = s.tasks.UpdateAll(ctx, owner, ids, unassign(s.now(), func(who auth.UserID) bool { return who != member }))
	return err
}
