package application

import (
	"context"
	"errors"
	"strings"

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

// mergeAttempts bounds MergeTask's retries when another write lands
// between its read of the task and its write.
const mergeAttempts = 4

// MergeTask applies an update made on version base of a task (issue 17):
// carried are the fields it sets (task.Revision's names); those a
// revision after base changed are conflicts (task.Merge), the others
// apply though the version moved on. build makes the patch of the fields
// that apply, given the conflicts. It returns the task as it leaves it and
// the conflicts; with reject and conflicts, it applies nothing and the
// error is a *MergeConflict. A base later than the task's version is the
// plain *task.ConflictError (412). The write expects the version the
// merge was decided on, so a write landing in between makes it decide
// again.
func (s *Service) MergeTask(ctx context.Context, a Actor, id task.ID, base task.Version, carried []string, build func(conflicts []string) (Patch, error), reject bool) (*task.Task, []string, error) {
	for attempt := 1; ; attempt++ {
		cur, err := s.tasks.Get(ctx, a.owner, id)
		if err != nil {
			return nil, nil, err
		}
		if base > cur.Version() {
			return nil, nil, task.Conflict(cur, base)
		}
		var conflicts []string
		if cur.Version() > base {
			revs, err := s.tasks.Revisions(ctx, a.owner, id, base)
			if err != nil {
				return nil, nil, err
			}
			conflicts = task.Merge(carried, base, cur.Version(), revs)
		}
		if len(conflicts) > 0 && reject {
			return cur, conflicts, &MergeConflict{Fields: conflicts, Current: cur}
		}
		p, err := build(conflicts)
		if err != nil {
			return nil, nil, err
		}
		t, err := s.PatchTask(ctx, a, id, cur.Version(), p)
		var ce *task.ConflictError
		if errors.As(err, &ce) && attempt < mergeAttempts {
			continue
		}
		return t, conflicts, err
	}
}

// RevertTask puts back the values revision version of a task changed
// (issue 17): build makes the patch from the revision (and refuses what
// cannot be put back, such as the creation). When a
// later revision changed one of those fields, nothing is applied and the
// error is a *MergeConflict naming them. ErrNotFound when the task keeps
// no such revision.
func (s *Service) RevertTask(ctx context.Context, a Actor, id task.ID, version task.Version, build func(rev task.Revision) (Patch, error)) (*task.Task, error) {
	for attempt := 1; ; attempt++ {
		cur, err := s.tasks.Get(ctx, a.owner, id)
		if err != nil {
			return nil, err
		}
		revs, err := s.tasks.Revisions(ctx, a.owner, id, version-1)
		if err != nil {
			return nil, err
		}
		var rev *task.Revision
		for i := range revs {
			if revs[i].Version == version {
				rev = &revs[i]
			}
		}
		if rev == nil {
			return nil, task.ErrNotFound
		}
		fields := make([]string, 0, len(rev.Changed))
		for f := range rev.Changed {
			fields = append(fields, f)
		}
		if conflicts := task.Merge(fields, version, cur.Version(), revs); len(conflicts) > 0 {
			return nil, &MergeConflict{Fields: conflicts, Current: cur}
		}
		p, err := build(*rev)
		if err != nil {
			return nil, err
		}
		t, err := s.PatchTask(ctx, a, id, cur.Version(), p)
		var ce *task.ConflictError
		if errors.As(err, &ce) && attempt < mergeAttempts {
			continue
		}
		return t, err
	}
}
