package application

import (
	"context"
	"errors"
	"strings"

	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/task"
)

// MergeConflict is the error of MergeTask with reject when the update had
// conflicts: nothing of it was applied. Current is the task as it is.
type MergeConflict struct {
	Fields  []string
	Current *task.Task
}

func (e *MergeConflict) Error() string {
	return "conflicting fields: " + strings.Join(e.Fields, ", ")
}

// lockedTask runs fn in one unit of work (InTx; without a Transactor,
// as the steps come) with one of the actor's tasks as it is, locked
// (task.Repository.Lock) until the unit ends: what fn reads and decides
// from it, nobody changes before fn's write.
func (s *Service) lockedTask(ctx context.Context, a Actor, id task.ID, fn func(ctx context.Context, cur *task.Task) error) error {
	run := func(ctx context.Context) error {
		if err := s.tasks.Lock(ctx, a.owner, []task.ID{id}); err != nil {
			return err
		}
		cur, err := s.tasks.Get(ctx, a.owner, id)
		if err != nil {
			return err
		}
		return fn(ctx, cur)
	}
	if s.tx == nil {
		return run(ctx)
	}
	return s.InTx(ctx, run)
}

// MergeTask applies an update made on version base of a task (issue 17):
// carried are the fields it sets (task.Revision's names); those a
// revision after base changed are conflicts (task.Merge), the others
// apply though the version moved on. build makes the patch of the fields
// that apply, given the conflicts. It returns the task as it leaves it and
// the conflicts; with reject and conflicts, it applies nothing and the
// error is a *MergeConflict. A base later than the task's version is the
// plain *task.ConflictError (412). The read, the decision and the write
// are one unit of work with the task locked (lockedTask): nobody writes
// in between, so there is nothing to retry.
func (s *Service) MergeTask(ctx context.Context, a Actor, id task.ID, base task.Version, carried []string, build func(conflicts []string) (Patch, error), reject bool) (*task.Task, []string, error) {
	var out *task.Task
	var conflicts []string
	err := s.lockedTask(ctx, a, id, func(ctx context.Context, cur *task.Task) error {
		if base > cur.Version() {
			return task.Conflict(cur, base)
		}
		if cur.Version() > base {
			revs, err := s.tasks.Revisions(ctx, a.owner, id, base)
			if err != nil {
				return err
			}
			conflicts = task.Merge(carried, base, cur.Version(), revs)
		}
		if len(conflicts) > 0 {
			// A 409 tells what the change was to meet: only to a caller
			// who may make it. Whoever may not gets the 404 the write
			// would answer (a stranger's), conflicts or not.
			full, err := build(nil)
			if err != nil {
				return err
			}
			if err := s.mayChange(ctx, a, cur, full); err != nil {
				return err
			}
		}
		if len(conflicts) > 0 && reject {
			return &MergeConflict{Fields: conflicts, Current: cur}
		}
		p, err := build(conflicts)
		if err != nil {
			return err
		}
		out, err = s.PatchTask(ctx, a, id, cur.Version(), p)
		return err
	})
	if err != nil {
		var mc *MergeConflict
		if errors.As(err, &mc) {
			return mc.Current, mc.Fields, err
		}
		return nil, nil, err
	}
	return out, conflicts, nil
}

// mayChange is task.ErrNotFound when the actor reaches cur as a member of
// its list whose role may not make the change p (as the store's write
// would refuse it: guard, list.Role.Allows with task.Needs), nil when it
// may, or when the task is the actor's own. Nothing is written.
func (s *Service) mayChange(ctx context.Context, a Actor, cur *task.Task, p Patch) error {
	r, ok := s.tasks.(*sharedTasks)
	if !ok || cur.Owner() == a.owner {
		return nil
	}
	acc, err := r.m.Reach(ctx, a.owner, cur.ID())
	if err != nil {
		return err
	}
	if acc.Allows(list.ActEdit) {
		return nil
	}
	if p.List != nil {
		to := p.List
		if *to == list.Inbox {
			to = nil
		}
		if (to == nil) != (cur.ListID() == nil) || to != nil && *to != *cur.ListID() {
			return task.ErrNotFound // a move
		}
	}
	if p.SetAssignee {
		p.Options = append(p.Options[:len(p.Options):len(p.Options)], task.AssignTo(p.Assignee))
	}
	return guard(acc.Role, p.edit(s.now()))(cur.WithID(cur.ID()))
}

// RevertTask puts back the values revision version of a task changed
// (issue 17): build makes the patch from the revision (and refuses what
// cannot be put back, such as the creation). When a later revision
// changed one of those fields, nothing is applied and the error is a
// *MergeConflict naming them. ErrNotFound when the task keeps no such
// revision. One unit of work with the task locked, as MergeTask.
func (s *Service) RevertTask(ctx context.Context, a Actor, id task.ID, version task.Version, build func(rev task.Revision) (Patch, error)) (*task.Task, error) {
	var out *task.Task
	err := s.lockedTask(ctx, a, id, func(ctx context.Context, cur *task.Task) error {
		revs, err := s.tasks.Revisions(ctx, a.owner, id, version-1)
		if err != nil {
			return err
		}
		var rev *task.Revision
		for i := range revs {
			if revs[i].Version == version {
				rev = &revs[i]
			}
		}
		if rev == nil {
			return task.ErrNotFound
		}
		fields := make([]string, 0, len(rev.Changed))
		for f := range rev.Changed {
			fields = append(fields, f)
		}
		if conflicts := task.Merge(fields, version, cur.Version(), revs); len(conflicts) > 0 {
			return &MergeConflict{Fields: conflicts, Current: cur}
		}
		p, err := build(*rev)
		if err != nil {
			return err
		}
		out, err = s.PatchTask(ctx, a, id, cur.Version(), p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
