package memory

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/todo-backend/todo/domain/auth"
	"github.com/todo-backend/todo/domain/list"
	"github.com/todo-backend/todo/domain/position"
	"github.com/todo-backend/todo/domain/task"
)

// listEntry is a stored list and, when it is in the trash, since when.
type listEntry struct {
	l         *list.List
	deletedAt *time.Time
}

// ListRepository is a list.Repository held in memory, sharing its tasks'
// store: a list goes to the trash with its tasks.
type ListRepository struct {
	*state
}

var _ list.Repository = (*ListRepository)(nil)

// NewListRepository returns the lists of the tasks in tasks, in their
// store.
func NewListRepository(tasks *TaskRepository) *ListRepository { return tasks.s.Lists() }

// liveList returns owner's list id when it is not in the trash; the data
// is held.
func (s *state) liveList(owner auth.UserID, id list.ID) (*listEntry, bool) {
	e, ok := s.lists[id]
	if !ok || e.l.Owner() != owner || e.deletedAt != nil {
		return nil, false
	}
	return e, true
}

// nameTaken reports whether another live list that by owns has l's name
// (list.NameKey: the namer's own lists only).
func (s *state) nameTaken(by auth.UserID, l *list.List) bool {
	for id, e := range s.lists {
		if id != l.ID() && e.deletedAt == nil && e.l.Owner() == by && e.l.NameKey() == l.NameKey() {
			return true
		}
	}
	return false
}

// summary is list id with its counts; the data is held.
func (s *state) summary(id list.ID) list.Summary {
	out := list.Summary{List: s.lists[id].l.WithID(id)}
	for _, e := range s.tasks {
		if l := e.t.ListID(); l != nil && *l == id && e.deletedAt == nil {
			if e.t.Completed() {
				out.Completed++
			} else {
				out.Open++
			}
		}
	}
	return out
}

// Add stores l at the bottom of its owner's lists, under the next id.
func (r *ListRepository) Add(ctx context.Context, l *list.List) (list.Summary, error) {
	defer r.write(ctx).done()
	if r.nameTaken(l.Owner(), l) {
		return list.Summary{}, list.ErrNameTaken
	}
	r.lastList++
	r.lists[r.lastList] = &listEntry{l: l.WithID(r.lastList).WithVersion(1)}
	r.touchList(r.lastList)
	return r.summary(r.lastList), nil
}

// Get returns owner's live list id.
func (r *ListRepository) Get(ctx context.Context, owner auth.UserID, id list.ID) (list.Summary, error) {
	defer r.read(ctx).done()
	if _, ok := r.liveList(owner, id); !ok {
		return list.Summary{}, list.ErrNotFound
	}
	return r.summary(id), nil
}

// List returns owner's live lists in order, with their counts.
func (r *ListRepository) List(ctx context.Context, owner auth.UserID) ([]list.Summary, error) {
	defer r.read(ctx).done()
	out := []list.Summary{}
	for id, e := range r.lists {
		if e.l.Owner() == owner && e.deletedAt == nil {
			out = append(out, r.summary(id))
		}
	}
	slices.SortFunc(out, func(a, b list.Summary) int {
		return cmp.Or(strings.Compare(a.List.Position(), b.List.Position()), cmp.Compare(a.List.ID(), b.List.ID()))
	})
	return out, nil
}

// Update applies fn to a copy and keeps it, one version up, if fn succeeds
// and no other list of by's has the name.
func (r *ListRepository) Update(ctx context.Context, by, owner auth.UserID, id list.ID, expect list.Version, fn func(*list.List) error) (list.Summary, error) {
	defer r.write(ctx).done()
	e, ok := r.liveList(owner, id)
	if !ok {
		return list.Summary{}, list.ErrNotFound
	}
	if err := list.Conflict(r.summary(id), expect); err != nil {
		return list.Summary{}, err
	}
	c := e.l.WithID(id)
	if err := fn(c); err != nil {
		return list.Summary{}, err
	}
	// A name kept (its case changed, or only the color) is not checked:
	// the owner may hold another list of that name already.
	if c.NameKey() != e.l.NameKey() && r.nameTaken(by, c) {
		return list.Summary{}, list.ErrNameTaken
	}
	e.l = c.WithVersion(e.l.Version() + 1)
	r.touchList(id)
	return r.summary(id), nil
}

// Move places the list after or before another list of owner's sidebar
// (sidebar.go), or at the top; its neighbours keep their keys unless the
// new one is long enough to rebalance them all.
func (r *ListRepository) Move(ctx context.Context, owner auth.UserID, id list.ID, expect list.Version, a list.Anchor, at time.Time) (list.Summary, error) {
	if err := a.Check(); err != nil {
		return list.Summary{}, err
	}
	defer r.write(ctx).done()
	e, ok := r.liveList(owner, id)
	if !ok {
		return list.Summary{}, list.ErrNotFound
	}
	if err := list.Conflict(r.summary(id), expect); err != nil {
		return list.Summary{}, err
	}
	lower, upper, err := r.sidebarGap(owner, id, a, r.sidebarKeys(owner, id, 0))
	if err != nil {
		return list.Summary{}, err
	}
	key, err := position.Between(lower, upper)
	if err != nil {
		return list.Summary{}, err
	}
	c := e.l.WithID(id)
	c.MoveTo(key, at)
	e.l = c.WithVersion(e.l.Version() + 1)
	r.touchList(id)
	if position.NeedsRebalance(key) {
		r.rebalanceSidebar(owner)
	}
	return r.summary(id), nil
}

// Trash moves the list and its live tasks to the trash.
func (r *ListRepository) Trash(ctx context.Context, owner auth.UserID, id list.ID, expect list.Version, at time.Time) error {
	defer r.write(ctx).done()
	e, ok := r.liveList(owner, id)
	if !ok {
		return list.ErrNotFound
	}
	if err := list.Conflict(r.summary(id), expect); err != nil {
		return err
	}
	e.deletedAt = trashTime(at)
	r.touchList(id)
	for tid, te := range r.tasks {
		if l := te.t.ListID(); l != nil && *l == id && te.deletedAt == nil {
			te.deletedAt, te.mark = trashTime(at), task.MarkList(id)
			r.touchTask(tid)
		}
	}
	return nil
}

// Restore brings the list back with the tasks trashed with it.
func (r *ListRepository) Restore(ctx context.Context, owner auth.UserID, id list.ID) (list.Summary, error) {
	defer r.write(ctx).done()
	e, ok := r.lists[id]
	if !ok || e.l.Owner() != owner {
		return list.Summary{}, list.ErrNotFound
	}
	if e.deletedAt != nil {
		at := *e.deletedAt
		if err := r.restoreList(e); err != nil {
			return list.Summary{}, err
		}
		for tid, te := range r.tasks {
			if l := te.t.ListID(); l != nil && *l == id && te.deletedAt != nil && te.mark == task.MarkList(id) && te.deletedAt.Equal(at) {
				te.deletedAt, te.mark = nil, task.NoMark
				r.touchTask(tid)
			}
		}
	}
	return r.summary(id), nil
}

// restoreList brings the list alone back from the trash, unless another
// live list of its owner took its name; the data is held.
func (s *state) restoreList(e *listEntry) error {
	if s.nameTaken(e.l.Owner(), e.l) {
		return list.ErrNameTaken
	}
	e.deletedAt = nil
	s.touchList(e.l.ID())
	return nil
}

// Delete removes the list and its tasks for good.
func (r *ListRepository) Delete(ctx context.Context, owner auth.UserID, id list.ID, expect list.Version) error {
	defer r.write(ctx).done()
	e, ok := r.lists[id]
	if !ok || e.l.Owner() != owner {
		return list.ErrNotFound
	}
	if err := list.Conflict(r.summary(id), expect); err != nil {
		return err
	}
	r.deleteList(id)
	return nil
}

// deleteList removes list id and its tasks; the data is held.
func (s *state) deleteList(id list.ID) {
	for tid, te := range s.tasks {
		if l := te.t.ListID(); l != nil && *l == id {
			delete(s.tasks, tid)
			s.touchTask(tid)
		}
	}
	delete(s.lists, id)
	s.touchList(id)
	if _, ok := s.members[id]; ok { // gone with its list, as ON DELETE CASCADE
		delete(s.members, id)
		s.touchMembers(id)
	}
}

// ListTrash returns owner's trashed lists, the latest deletion first.
func (r *ListRepository) ListTrash(ctx context.Context, owner auth.UserID) ([]list.Trashed, error) {
	defer r.read(ctx).done()
	out := []list.Trashed{}
	for id, e := range r.lists {
		if e.l.Owner() == owner && e.deletedAt != nil {
			out = append(out, list.Trashed{List: e.l.WithID(id), DeletedAt: *e.deletedAt})
		}
	}
	slices.SortFunc(out, func(a, b list.Trashed) int {
		return cmp.Or(b.DeletedAt.Compare(a.DeletedAt), cmp.Compare(b.List.ID(), a.List.ID()))
	})
	return out, nil
}

// EmptyTrash removes owner's trashed lists and their tasks.
func (r *ListRepository) EmptyTrash(ctx context.Context, owner auth.UserID) (int, error) {
	defer r.write(ctx).done()
	n := 0
	for id, e := range r.lists {
		if e.l.Owner() == owner && e.deletedAt != nil {
			r.deleteList(id)
			n++
		}
	}
	return n, nil
}

// PurgeTrash removes up to limit lists trashed before cutoff, the oldest
// first, with their tasks.
func (r *ListRepository) PurgeTrash(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	defer r.write(ctx).done()
	var old []list.ID
	for id, e := range r.lists {
		if e.deletedAt != nil && e.deletedAt.Before(cutoff) {
			old = append(old, id)
		}
	}
	slices.SortFunc(old, func(a, b list.ID) int { return r.lists[a].deletedAt.Compare(*r.lists[b].deletedAt) })
	if limit > 0 && len(old) > limit {
		old = old[:limit]
	}
	for _, id := range old {
		r.deleteList(id)
	}
	return len(old), nil
}
